"""Logs as earlier versions of memman wrote them, for tests of old stores."""

from __future__ import annotations

from pathlib import Path

import apsw

from events.log import EventLog
from events.log.schema import LEGACY_MEMORY_INDEX, MEMORY_INDEX, TEXT_SCHEMA


def text_log(path: Path, *, memory_index: str = "compact") -> EventLog:
    """A log file as memman created it before compact envelopes (schema
    version 4: text envelopes in the `events` table), with the memory index
    of that time ("compact": numbers behind a view; "table": the first one)."""
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    index = MEMORY_INDEX if memory_index == "compact" else LEGACY_MEMORY_INDEX
    conn.execute(TEXT_SCHEMA + index + "PRAGMA user_version=4;")
    conn.close()
    return EventLog(path)
