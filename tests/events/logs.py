"""Logs as earlier versions of memman wrote them, for tests of old stores."""

from __future__ import annotations

from pathlib import Path

import apsw

from events.log import _LEGACY_MEMORY_INDEX, _MEMORY_INDEX, _SCHEMA, EventLog


def text_log(path: Path, *, memory_index: str = "compact") -> EventLog:
    """A log file as memman created it before compact envelopes (schema
    version 4: text envelopes in the `events` table), with the memory index
    of that time ("compact": numbers behind a view; "table": the first one)."""
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    index = _MEMORY_INDEX if memory_index == "compact" else _LEGACY_MEMORY_INDEX
    conn.execute(_SCHEMA + index + "PRAGMA user_version=4;")
    conn.close()
    return EventLog(path)
