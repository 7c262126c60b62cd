"""Upcasting: turning payloads stored under an old schema version into the
current shape, at read time. The only code in memman that handles raw dicts.

To change an event's shape: bump its `SCHEMA`, add a function here named
`upcast_<type>_v<N>_v<N+1>`, register it in `UPCASTERS`, and add a golden test
that decodes the old stored bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Raw = dict[str, Any]

# (type tag, from_version) -> function producing the from_version + 1 payload.
UPCASTERS: dict[tuple[str, int], Callable[[Raw], Raw]] = {}


def upcast(type_: str, version: int, target: int, raw: Raw) -> Raw:
    while version < target:
        step = UPCASTERS.get((type_, version))
        if step is None:
            raise LookupError(f"no upcaster for {type_} v{version} -> v{version + 1}")
        raw = step(raw)
        version += 1
    return raw
