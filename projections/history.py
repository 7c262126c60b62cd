"""The memories projection's history tables: `status_log` keeps, per memory,
its state (status, superseded_by, superseded_at) after every event that
changed it, `content_log` every text it carried (read by `recall --known-at`,
memman/recall/timeline.py).

After each event the memory's current row is compared with the last history
rows (highest seq) and a row is added where it differs. While the runner's
catch-up lets the projector keep what it read (`open` .. `close`, reopened
whenever another process may have written in between, see
`ProjectionSet._caches`), the last rows are kept in memory, so a replay
reads each memory's history at most once instead of two correlated
subqueries per event, and not at all if the tables were empty when kept
rows began (a replay from the start: everything there was written through
here). Outside it every comparison reads the tables. History rows are never
deleted or changed by the projector (a purge deletes the memory, not its
history), so what is kept stays exact.
"""

from __future__ import annotations

from collections.abc import Iterable

import apsw

_NONE = object()  # no history row yet


class ChangeLog:
    def __init__(self) -> None:
        self._last: dict[str, tuple[object, object]] | None = None  # {memory id: (state, content)}
        self._complete = False  # every history row is in _last

    def open(self, conn: apsw.Connection) -> None:
        self._last = {}
        self._complete = all(
            conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None for table in ("status_log", "content_log")
        )

    def close(self) -> None:
        self._last, self._complete = None, False

    def record(self, conn: apsw.Connection, seq: int, memory_ids: Iterable[str]) -> None:
        """Add the history rows of `seq` for the memories whose state or text changed."""
        for memory_id in dict.fromkeys(memory_ids):
            row = conn.execute(
                "SELECT status, superseded_by, superseded_at, content FROM memories WHERE id = ?", (memory_id,)
            ).fetchone()
            if row is None:
                continue
            state, content = (row[0], row[1], row[2]), row[3]
            last = self._last.get(memory_id) if self._last is not None else None
            if last is None:
                last = (_NONE, _NONE) if self._complete else _read_last(conn, memory_id)
            if state != last[0]:
                conn.execute(
                    "INSERT OR IGNORE INTO status_log (memory_id, seq, status, superseded_by, superseded_at)"
                    " VALUES (?,?,?,?,?)",
                    (memory_id, seq, *state),
                )
            if content != last[1]:
                conn.execute(
                    "INSERT OR IGNORE INTO content_log (memory_id, seq, content) VALUES (?,?,?)",
                    (memory_id, seq, content),
                )
            if self._last is not None:
                self._last[memory_id] = (state, content)


def _read_last(conn: apsw.Connection, memory_id: str) -> tuple[object, object]:
    status = conn.execute(
        "SELECT status, superseded_by, superseded_at FROM status_log WHERE memory_id = ? ORDER BY seq DESC LIMIT 1",
        (memory_id,),
    ).fetchone()
    content = conn.execute(
        "SELECT content FROM content_log WHERE memory_id = ? ORDER BY seq DESC LIMIT 1", (memory_id,)
    ).fetchone()
    return (tuple(status) if status else _NONE), (content[0] if content else _NONE)
