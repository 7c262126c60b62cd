"""The `work` projection: the drain's queue, derived from the log.

Each `memory.remembered` / `memory.replaced` is a work item, and so is each
`session.captured` (kind "captured", keyed by its capture id). Its state moves:
    pending -> done        when the last stage (`edges.inferred`; for a
                           capture `session.extracted`) is recorded
    pending -> failed      on `derivation.failed` (retried after `retry_after`)
    failed  -> dead        on the last allowed attempt (dead-lettered; visible, never lost)
    pending|failed -> stale  when a later `memory.replaced` supersedes the text
    failed|dead -> pending   on `work.retried` (attempts keep counting)
    failed|dead -> purged    on `work.purged` (given up; the text stays in the log)
Because it is a projection, replay rebuilds the queue exactly.
"""

from __future__ import annotations

from functools import cached_property, singledispatchmethod

import apsw

from events.clock import IsoText
from events.types import (
    DerivationFailed,
    EdgesInferred,
    MemoryPurged,
    MemoryRemembered,
    MemoryReplaced,
    Recorded,
    SessionCaptured,
    SessionExtracted,
    WorkPurged,
    WorkRetried,
)
from projections.base import bound_dispatch

_SCHEMA = """
CREATE TABLE work (
    input_seq   INTEGER PRIMARY KEY,
    memory_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_stage  TEXT,
    last_error  TEXT,
    retry_after TEXT,
    queued_at   TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX work_state ON work(state, input_seq);
CREATE INDEX work_memory ON work(memory_id);
"""


class QueueProjector:
    name = "queue"
    version = 1
    tables = ("work",)
    handles = frozenset(
        {
            "memory.remembered",
            "memory.replaced",
            "edges.inferred",
            "derivation.failed",
            "work.retried",
            "work.purged",
            "memory.purged",
            "session.captured",
            "session.extracted",
        }
    )

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(_SCHEMA)

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute("DROP TABLE IF EXISTS work")

    @cached_property
    def _iso(self) -> IsoText:
        """`to_iso` remembering its last answer: a chunk's events share one time."""
        return IsoText()

    @cached_property
    def _dispatch(self):  # type: ignore[no-untyped-def]
        """`_apply` bound once, registered classes looked up in a dict
        (projections/base.py: bound_dispatch): a replay's hottest overhead."""
        return bound_dispatch(self)

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        self._dispatch(rec.event, conn, rec)

    @singledispatchmethod
    def _apply(self, event: object, conn: apsw.Connection, rec: Recorded) -> None:
        """Events this projector does not know are ignored."""

    def _enqueue(self, conn: apsw.Connection, rec: Recorded, memory_id: str, kind: str) -> None:
        at = self._iso(rec.recorded_at)
        conn.execute(
            "UPDATE work SET state='stale', updated_at=? WHERE memory_id=? AND state IN ('pending','failed')",
            (at, memory_id),
        )
        conn.execute(
            "INSERT OR IGNORE INTO work (input_seq, memory_id, kind, state, queued_at, updated_at)"
            " VALUES (?,?,?,'pending',?,?)",
            (rec.seq, memory_id, kind, at, at),
        )

    @_apply.register(MemoryRemembered)
    def _remembered(self, e: MemoryRemembered, conn: apsw.Connection, rec: Recorded) -> None:
        self._enqueue(conn, rec, e.memory_id, "remembered")

    @_apply.register(MemoryReplaced)
    def _replaced(self, e: MemoryReplaced, conn: apsw.Connection, rec: Recorded) -> None:
        self._enqueue(conn, rec, e.memory_id, "replaced")

    @_apply.register(SessionCaptured)
    def _captured(self, e: SessionCaptured, conn: apsw.Connection, rec: Recorded) -> None:
        self._enqueue(conn, rec, e.capture_id, "captured")

    @_apply.register(SessionExtracted)
    def _extracted(self, e: SessionExtracted, conn: apsw.Connection, rec: Recorded) -> None:
        self._done(e, conn, rec)  # type: ignore[arg-type]

    @_apply.register(EdgesInferred)
    def _done(self, e: EdgesInferred, conn: apsw.Connection, rec: Recorded) -> None:
        if rec.causation is not None:
            conn.execute(
                "UPDATE work SET state='done', updated_at=? WHERE input_seq=? AND state != 'stale'",
                (self._iso(rec.recorded_at), rec.causation),
            )

    @_apply.register(DerivationFailed)
    def _failed(self, e: DerivationFailed, conn: apsw.Connection, rec: Recorded) -> None:
        if rec.causation is None:
            return
        conn.execute(
            "UPDATE work SET state=?, attempts=?, last_stage=?, last_error=?, retry_after=?, updated_at=?"
            " WHERE input_seq=? AND state != 'stale'",
            (
                "dead" if e.dead else "failed",
                e.attempt,
                e.stage,
                e.error,
                e.retry_after,
                self._iso(rec.recorded_at),
                rec.causation,
            ),
        )

    @_apply.register(WorkRetried)
    def _retried(self, e: WorkRetried, conn: apsw.Connection, rec: Recorded) -> None:
        if rec.causation is not None:
            conn.execute(
                "UPDATE work SET state='pending', retry_after=NULL, updated_at=?"
                " WHERE input_seq=? AND state IN ('failed','dead')",
                (self._iso(rec.recorded_at), rec.causation),
            )

    @_apply.register(MemoryPurged)
    def _erased(self, e: MemoryPurged, conn: apsw.Connection, rec: Recorded) -> None:
        """Erasure: a purged memory's inputs leave the queue (their text is gone)."""
        for memory_id in e.purged:
            conn.execute("DELETE FROM work WHERE memory_id=?", (memory_id,))

    @_apply.register(WorkPurged)
    def _purged(self, e: WorkPurged, conn: apsw.Connection, rec: Recorded) -> None:
        if rec.causation is not None:
            conn.execute(
                "UPDATE work SET state='purged', retry_after=NULL, updated_at=?"
                " WHERE input_seq=? AND state IN ('failed','dead')",
                (self._iso(rec.recorded_at), rec.causation),
            )
