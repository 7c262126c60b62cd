"""What the drain decided since the projections were last caught up.

The drain appends a chunk of inputs' events at once; until they are projected,
later inputs in the chunk must still see earlier ones. `Pending` holds exactly
that: memories now active (with their text and entities), memories retired,
and where each new memory sits in time."""

from __future__ import annotations

from workers.stages.reconcile import Known, named


class Pending:
    def __init__(self) -> None:
        self.active: dict[str, Known] = {}
        self.retired: set[str] = set()
        self.placed: list[tuple[str, str, str]] = []  # (source, occurred_at, memory id), in order
        self.by_name: dict[str, set[str]] = {}  # entity name -> active memory ids

    def activate(self, known: Known) -> None:
        self.active[known.memory_id] = known
        self.retired.discard(known.memory_id)
        for name in named(known.entities):
            self.by_name.setdefault(name, set()).add(known.memory_id)

    def retire(self, memory_id: str) -> None:
        self.retired.add(memory_id)
        known = self.active.pop(memory_id, None)
        if known is not None:
            for name in named(known.entities):
                self.by_name.get(name, set()).discard(memory_id)

    def named(self, name: str) -> set[str]:
        return self.by_name.get(name, set())

    def clear(self) -> None:
        self.active.clear()
        self.retired.clear()
        self.placed.clear()
        self.by_name.clear()
