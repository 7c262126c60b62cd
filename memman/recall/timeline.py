"""Time travel answered from the projections, without a replay.

Two axes (docs/time.md):

- `as_of` (valid time): what the store says was true at T. A memory counts if
  it occurred at or before T and its validity had not ended by T: a successor
  that occurred after T leaves it valid then (decisions made since T about
  those memories are included, as in Zep/Graphiti's valid-time edges); an
  explicit end (`--until`) at or before T retires it ('expired'). Forgotten
  memories stay forgotten.
- `known_at` (transaction time): what the store had recorded by T, the
  auditor's view. The state of each memory is read from `status_log` at the
  last seq recorded by T, its text from `content_log`; memories recorded after
  T do not exist. Keyword matching runs over the current text index, so a text
  replaced after T is found by its current words and shown as it read then.

Both combine. `travel` installs a TEMP view named `memories` on the
projection connection: SQLite resolves an unqualified name in the temp schema
first, so every read of recall (keyword, vector filter, graph walk) sees the
store as of then, and the live tables are untouched. The view is dropped on
exit; nothing is written to the projection files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import apsw

def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_sql(columns: list[str], *, as_of: str | None, upto: int | None) -> str:
    """The SELECT behind the view: every column of `memories`, with content
    and status as of then."""
    if upto is not None:
        content = (
            "coalesce((SELECT c.content FROM main.content_log c WHERE c.memory_id = m.id AND c.seq <= "
            f"{int(upto)} ORDER BY c.seq DESC LIMIT 1), m.content)"
        )
        state = "s.status", "s.superseded_by", "s.superseded_at"
        source = (
            "main.memories m JOIN main.status_log s ON s.memory_id = m.id AND s.seq = "
            f"(SELECT max(seq) FROM main.status_log WHERE memory_id = m.id AND seq <= {int(upto)})"
        )
    else:
        content, state, source = "m.content", ("m.status", "m.superseded_by", "m.superseded_at"), "main.memories m"
    status, superseded_by, superseded_at = state
    where = ""
    if as_of is not None:
        t = _quote(as_of)
        later = f"({status} = 'superseded' AND {superseded_at} IS NOT NULL AND {superseded_at} > {t})"
        expired = f"(m.valid_until IS NOT NULL AND m.valid_until <= {t})"
        status = (
            f"CASE WHEN {status} = 'forgotten' THEN 'forgotten' WHEN {expired} THEN 'expired'"
            f" WHEN {later} THEN 'active' ELSE {status} END"
        )
        superseded_by = f"CASE WHEN {later} THEN NULL ELSE {superseded_by} END"
        where = f" WHERE m.occurred_at <= {t}"
    chosen = {"content": content, "status": status, "superseded_by": superseded_by, "superseded_at": superseded_at}
    select = ", ".join(f"{chosen[c]} AS {c}" if c in chosen else f"m.{c} AS {c}" for c in columns)
    return f"SELECT {select} FROM {source}{where}"


def columns(conn: apsw.Connection) -> list[str]:
    """Every column of `memories`, generated ones (status) included."""
    return [row[1] for row in conn.execute("PRAGMA main.table_xinfo(memories)") if row[6] in (0, 2, 3)]


@contextmanager
def travel(conn: apsw.Connection, *, as_of: str | None, upto: int | None) -> Iterator[None]:
    """Within the block, `memories` on `conn` reads as of then (see module doc)."""
    if as_of is None and upto is None:
        yield
        return
    conn.execute(f"CREATE TEMP VIEW memories AS {view_sql(columns(conn), as_of=as_of, upto=upto)}")
    try:
        yield
    finally:
        conn.execute("DROP VIEW IF EXISTS temp.memories")
