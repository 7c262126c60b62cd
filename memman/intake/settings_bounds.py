"""Bounds on config values, checked by `config set` after the type is
converted: a value of the right type can still be absurd (a NaN timeout, a
zero scheduler interval that busy-loops, a million retries, a similarity
threshold above 1, a provider URL that is a local file)."""

from __future__ import annotations

import math

from events.errors import ConfigError

# (low, high) inclusive, per field name, or per "section.field" where it differs by section.
_RANGES: dict[str, tuple[float, float]] = {
    "timeout_s": (0.1, 3600),
    "timeout_ms": (10, 600_000),
    "query_timeout_ms": (10, 600_000),
    "inject_budget_ms": (0, 600_000),  # 0: never wait (inject nothing)
    "max_retries": (0, 20),
    "retry_backoff_s": (0, 600),
    "batch_size": (1, 100_000),
    "dimensions": (0, 65_536),
    "top_n": (1, 1000),
    "inject_limit": (1, 100),
    "remind_every": (0, 10_000),
    "scheduler.interval_s": (10, 7 * 86_400),
    "semantic_threshold": (0.0, 1.0),
    "causal_min_confidence": (0.0, 1.0),
    "semantic_k": (0, 1000),
    "proximity_window_s": (0, 365 * 86_400),
    "proximity_cap": (0, 1000),
    "entity_cap_per_entity": (0, 1000),
    "entity_cap_per_memory": (0, 1000),
    "causal_cap": (0, 1000),
    "story_cap": (0, 1000),
    "story_days": (0, 36_500),
}


def check(key: str, value: object) -> None:
    """Raise ConfigError if `value` is out of bounds for setting `key`."""
    section, _, field = key.partition(".")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"bad value for {key}: {value} is not a finite number")
    if field == "base_url" and value:
        _url(key, str(value))
    bounds = _RANGES.get(key) or _RANGES.get(field)
    if bounds is None or isinstance(value, bool) or not isinstance(value, int | float):
        return
    low, high = bounds
    if not low <= value <= high:
        raise ConfigError(f"bad value for {key}: {value} is outside {_fmt(low)}..{_fmt(high)}")


def _url(key: str, value: str) -> None:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.strip("/"):
        raise ConfigError(f"bad value for {key}: {value!r} is not an http(s):// URL")


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
