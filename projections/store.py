"""The files of one store and the projections that live in them.

    <store>/log.db          the event log (source of truth)
    <store>/projections.db  memories + FTS5, graph edges, settings, the work queue
    <store>/vectors.db      embeddings, with their own checkpoint

Deleting projections.db and vectors.db and replaying gives back the same store.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from events.clock import Clock, utc_now
from events.errors import BadInput
from typing import TYPE_CHECKING

from events.log import EventLog

if TYPE_CHECKING:  # projectors load on first use: `remember` only appends to the log
    from projections.runner import ProjectionSet, Progress

LOG_FILE = "log.db"
PROJECTIONS_FILE = "projections.db"
VECTORS_FILE = "vectors.db"


class StoreDB:
    """Handles on one store's log and projection databases, opened on first use
    (so `remember`, which only appends, never opens a projection)."""

    def __init__(self, directory: Path, *, clock: Clock = utc_now) -> None:
        self.directory = directory
        self._clock = clock

    @cached_property
    def log(self) -> EventLog:
        return EventLog(self.directory / LOG_FILE, clock=self._clock)

    @cached_property
    def main(self) -> ProjectionSet:
        from projections.graph import GraphProjector
        from projections.memories import MemoriesProjector
        from projections.queue import QueueProjector
        from projections.runner import ProjectionSet
        from projections.settings import SettingsProjector

        projectors = [MemoriesProjector(), GraphProjector(), SettingsProjector(), QueueProjector()]
        return ProjectionSet(self.directory / PROJECTIONS_FILE, projectors, self.log)

    @cached_property
    def vectors(self) -> ProjectionSet:
        from projections.runner import ProjectionSet
        from projections.vectors import VectorsProjector

        return ProjectionSet(self.directory / VECTORS_FILE, [VectorsProjector()], self.log)

    @property
    def sets(self) -> tuple[ProjectionSet, ProjectionSet]:
        return (self.main, self.vectors)

    def projection_names(self) -> list[str]:
        return [name for s in self.sets for name in s.names()]

    def catch_up(self, progress: Progress | None = None) -> int:
        return sum(s.catch_up(progress=progress) for s in self.sets)

    def replay(self, names: Sequence[str] | None = None, progress: Progress | None = None) -> int:
        known = self.projection_names()
        unknown = sorted(set(names or ()) - set(known))
        if unknown:
            raise BadInput(f"unknown projection {unknown[0]!r}; choose from {', '.join(known)}")
        applied = 0
        for s in self.sets:
            chosen = [n for n in s.names() if names is None or n in names]
            if chosen:
                applied += s.replay(chosen, progress=progress)
        return applied

    def checkpoints(self) -> dict[str, int]:
        return {**self.main.checkpoints(), **self.vectors.checkpoints()}

    def setting(self, name: str) -> str | None:
        row = self.main.conn.execute("SELECT value FROM settings WHERE setting=?", (name,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        for name in ("main", "vectors", "log"):
            handle = self.__dict__.pop(name, None)
            if handle is not None:
                handle.close()
