"""Checking a SQLite log's integrity (`EventLog.verify`, `memman events
verify`, doctor): the append-only triggers, a gap-free seq, SQLite's own
integrity check, and every event's checksum and payload. Reads only; never
repairs (the log is the last copy of the data). What it finds is written to
the damaged marker beside the log (events/log/append.py: `damaged_marker`),
which stops every later append until a check finds the log sound again.

Imported on first use: no `remember` or `recall` pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import apsw

from events import compact
from events.db import translated_errors
from events.log.rows import COLUMNS, CORRUPT_LOG_FIX
from events.log.schema import APPEND_ONLY_TRIGGERS, COMPACT_INDEX_TRIGGERS

if TYPE_CHECKING:
    from events.log import EventLog

_DAMAGED = "the events cannot all be read: a page of the log is damaged on disk"


def verify(log: EventLog) -> list[str]:
    """Problems with the log's integrity; an empty list means it is sound."""
    problems: list[str] = []
    with translated_errors(log.path, fix=CORRUPT_LOG_FIX):
        problems += _missing_triggers(log)
        try:  # a damaged page of the rows themselves fails these reads: reported, and the log marked
            count, low, high = log.conn.execute(f"SELECT count(*), min(seq), max(seq) FROM {log._table}").fetchone()
            if count and (low != 1 or high != count):
                problems.append(f"seq is not contiguous: {count} events span {low}..{high}")
        except apsw.CorruptError:
            problems.append(_DAMAGED)
        try:
            for (message,) in log.conn.execute("PRAGMA integrity_check(20)").fetchall():
                if message != "ok":
                    problems.append(f"SQLite integrity check: {message}")
        except apsw.CorruptError:
            problems.append("SQLite integrity check: it stopped at a damaged page")
        try:
            problems += _verify_events(log)
        except apsw.CorruptError:
            if _DAMAGED not in problems:
                problems.append(_DAMAGED)
    _mark_damaged(log, problems)
    return problems


def _missing_triggers(log: EventLog) -> list[str]:
    """The append-only triggers this kind of log must have and lacks."""
    present = {r[0] for r in log.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
    index = log.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'memory_events'").fetchone()
    required = APPEND_ONLY_TRIGGERS + (COMPACT_INDEX_TRIGGERS if index else ())
    return [
        f"append-only trigger {name} is missing"
        for name in required + (compact.TRIGGERS if log._stored is not None else ())
        if name not in present
    ]


def _mark_damaged(log: EventLog, problems: list[str]) -> None:
    marker = log.damaged_marker
    try:
        if problems:
            marker.write_text(f"{problems[0]}\n", encoding="utf-8")
            marker.chmod(0o600)
        else:
            marker.unlink(missing_ok=True)
    except OSError:  # a read-only store: nothing will be appended to it anyway
        pass


def _verify_events(log: EventLog, limit: int = 20) -> list[str]:
    """Checksum and decode every event; at most `limit` problems named.
    Row by row, so one unreadable row (bytes that are not UTF-8 where
    text belongs) is named without hiding the rest."""
    columns = {r[1] for r in log.conn.execute("PRAGMA table_info(events)")}
    has_checksum = "checksum" in columns
    bad: list[str] = []
    total = 0
    select = f"SELECT {COLUMNS}, {'checksum' if has_checksum else 'NULL'} FROM events WHERE seq = ?"
    for seq in log.seqs():
        try:
            row = log.conn.execute(select, (seq,)).fetchone()
            problem = log._row_problem(row[:-1], row[-1], has_checksum)
        except UnicodeDecodeError:
            problem = f"event {seq} holds bytes that are not valid UTF-8 where text belongs: damaged on disk"
        if problem:
            total += 1
            if len(bad) < limit:
                bad.append(problem)
    if total > len(bad):
        bad.append(f"... and {total - len(bad)} more damaged events")
    return bad
