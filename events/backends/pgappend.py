"""How events are written into the PostgreSQL log: a whole batch (a drain
chunk's derived events, an import's lines, one `remember`) in one statement,
one parse and one execution however many events, memory links and
idempotency keys it carries. It replaced one INSERT per event and one per
memory link (about 19 statements per drained input), which cost the server
twice the CPU (docs/postgres.md, "Drain workers on a 10k backlog").

The caller (events/backends/postgres.py) holds the append lock, so the rows
can take seqs head+1, head+2, ... read inside the statement itself.
"""

from __future__ import annotations

from typing import Any

from events.types import Recorded

# A whole batch in one statement (one parse, one execution, however many
# events): under the table lock the rows take seqs head+1..head+n in order,
# and their memory links and idempotency keys name the same seqs. The foreign
# keys are checked at the end of the statement, when the rows are there.
INSERT_BATCH = """
WITH base AS (SELECT coalesce(max(seq), 0) AS head FROM events),
rows AS (
    INSERT INTO events (seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload, checksum)
    SELECT head + r.n, r.id, r.type, r.version, r.recorded, r.occurred, r.actor, r.causation, r.stage, r.payload, r.checksum
    FROM base, unnest(%s::text[], %s::text[], %s::integer[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[],
                      %b::bytea[], %s::text[])
        WITH ORDINALITY AS r(id, type, version, recorded, occurred, actor, causation, stage, payload, checksum, n)
),
links AS (INSERT INTO event_memories (memory_id, seq) SELECT l.m, head + l.n FROM base, unnest(%s::text[], %s::bigint[]) AS l(m, n)),
keys AS (INSERT INTO event_keys (key, seq) SELECT k.k, head + k.n FROM base, unnest(%s::text[], %s::bigint[]) AS k(k, n))
SELECT head FROM base
"""


def insert_rows(raw: Any, prepared: list[tuple[Recorded, tuple[object, ...]]]) -> int:
    """Insert `prepared` (at least one (Recorded, row) pair, as
    `PostgresEventLog._prepare` makes them) in one statement, under the
    append lock the caller holds; returns the head before them (the rows
    took head+1, head+2, ...). The statement gets a cursor of its own: in
    pipeline mode a cursor that ran many statements may hand back an
    earlier statement's result."""
    columns = [list(column) for column in zip(*(row for _, row in prepared))]
    links: tuple[list[str], list[int]] = ([], [])
    keys: tuple[list[str], list[int]] = ([], [])
    for n, (rec, _) in enumerate(prepared, start=1):
        for memory_id in dict.fromkeys(rec.event.memory_ids()):
            links[0].append(memory_id)
            links[1].append(n)
        key = getattr(rec.event, "key", None)
        if key is not None:
            keys[0].append(key)
            keys[1].append(n)
    return int(raw.execute(INSERT_BATCH, (*columns, *links, *keys)).fetchone()[0])
