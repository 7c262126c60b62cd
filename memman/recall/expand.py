"""Multi-hop: memories that answer together with a strong match.

Evidence is often spread over turns said one after another ("Back from
Palermo, still jet-lagged." then "The only bad thing: I lost my passport").
The second turn shares no word with "What went wrong on Sofia's trip to
Palermo?", but it was said minutes after the best match. Session-neighbour
expansion brings the memories said within NEIGHBOUR_MINUTES of each of the
TOP_ANCHORS best candidates into the candidate set and gives every candidate
a `neighbour` signal: the score of the best anchor said next to it. Fusion
weighs it with the candidate's own keyword and vector signals, so a filler
line next to the answer ("Totally agree.") does not rise with it, while a
turn that is about the question does.

The graph walk (memman/recall/beam.py) is the other expansion; the benchmark
decides which are on by default (hybrid.GRAPH_DEFAULT, NEIGHBOURS_DEFAULT).
"""

from __future__ import annotations

from datetime import timedelta

import apsw

from events.clock import from_iso, to_iso
from projections.queries import MEMORY_COLUMNS, MemoryRow, row_to_memory

TOP_ANCHORS = 5
NEIGHBOUR_MINUTES = 10
MAX_NEIGHBOURS = 12  # per anchor, nearest in time first


def session_neighbours(
    conn: apsw.Connection, anchors: list[tuple[MemoryRow, float]]
) -> tuple[dict[str, float], dict[str, MemoryRow]]:
    """(memory id -> score of the best anchor said within the window of it,
    active memories found this way), for the TOP_ANCHORS best `anchors`."""
    best: dict[str, float] = {}
    found: dict[str, MemoryRow] = {}
    window = timedelta(minutes=NEIGHBOUR_MINUTES)
    # `+status`: without it SQLite's planner (no ANALYZE statistics) walks the
    # status index over every active memory (~10 ms per anchor at 10k) instead
    # of the occurred_at index over the few minutes of the window (~0.05 ms).
    # Ties in time break by key, so the plan never decides which neighbours come.
    for anchor, score in sorted(anchors, key=lambda a: -a[1])[:TOP_ANCHORS]:
        at = from_iso(anchor.occurred_at)
        rows = conn.execute(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE occurred_at BETWEEN ? AND ? AND id != ?"
            " AND +status = 'active' ORDER BY abs(julianday(occurred_at) - julianday(?)), key LIMIT ?",
            (to_iso(at - window), to_iso(at + window), anchor.id, anchor.occurred_at, MAX_NEIGHBOURS),
        ).fetchall()
        for raw in rows:
            row = row_to_memory(raw)
            found.setdefault(row.id, row)
            best[row.id] = max(best.get(row.id, 0.0), score)
    return best, found
