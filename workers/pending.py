"""What the drain decided since the projections were last caught up.

The drain appends a chunk of inputs' events at once; until they are projected,
later inputs in the chunk must still see earlier ones. `Pending` holds exactly
that: memories now active (with their text and entities), memories retired,
and where each new memory sits in time."""

from __future__ import annotations

from workers.stages.reconcile import Known


class Pending:
    def __init__(self) -> None:
        self.active: dict[str, Known] = {}
        self.retired: set[str] = set()
        self.placed: list[tuple[str, str, str]] = []  # (source, occurred_at, memory id), in order

    def clear(self) -> None:
        self.active.clear()
        self.retired.clear()
        self.placed.clear()
