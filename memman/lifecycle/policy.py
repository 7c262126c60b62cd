"""The lifecycle's plain values, importable without the projections (the
service's results name them, and `remember` must stay light)."""

from __future__ import annotations

import msgspec


class RetentionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    half_life_days: float = 90.0
    floor: float = 0.3
    boost_per_use: float = 0.5
    max_boost: float = 2.0
    rank_weight: float = 0.1
    gc_below: float = 0.75
    min_age_days: float = 30.0

    @classmethod
    def from_settings(cls, settings: object) -> RetentionPolicy:
        return cls(**{name: getattr(settings, name) for name in cls.__struct_fields__})


class GcRun(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    retired: int
