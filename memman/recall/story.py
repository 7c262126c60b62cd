"""Multi-hop along stories: memories the drain linked as one story's turns.

A story told over weeks ("I quit Stark Freight." ... "Kestrel Health offered
me the nurse educator position."; "Manual auth deploys failed twice." ...
"Moved auth onto the k8s cluster.") is linked by the drain as it reads it
(`story` edges, workers/stories/links.py). The question finds one telling;
the other says nothing of the question. From the TOP_ANCHORS best
candidates, the memories a story edge joins them to (either direction)
become hop candidates with the anchor's score relative to the best one,
times the edge's weight: they compete with the shared-rare-word hops
(memman/recall/hop.py) for the last places of the shown list
(memman/recall/hybrid.py `_hop_slots`), and change no score.
"""

from __future__ import annotations

import apsw

from events.db import translated_errors
from projections.queries import MemoryRow, memories_by_id

TOP_ANCHORS = 3
MAX_LINKED = 12  # memories brought in per anchor, newest link first


def story_links(
    conn: apsw.Connection, anchors: list[tuple[MemoryRow, float]]
) -> tuple[dict[str, float], dict[str, MemoryRow]]:
    """(memory id -> story value, active memories found this way) for the
    TOP_ANCHORS best `anchors`."""
    best: dict[str, float] = {}
    found: dict[str, MemoryRow] = {}
    ranked = sorted(anchors, key=lambda a: (-a[1], a[0].key))[:TOP_ANCHORS]
    top = ranked[0][1] if ranked else 0.0
    if top <= 0:
        return best, found
    with translated_errors("projections.db"):
        for anchor, score in ranked:
            linked = conn.execute(
                "SELECT dst, weight, seq FROM edges WHERE src = ?1 AND edge_type = 'story'"
                " UNION ALL SELECT src, weight, seq FROM edges WHERE dst = ?1 AND edge_type = 'story'"
                " ORDER BY seq DESC LIMIT ?2",
                (anchor.id, MAX_LINKED),
            ).fetchall()
            weights = {i: min(w, 1.0) for i, w, _ in linked if i != anchor.id}
            if not weights:
                continue
            for row in memories_by_id(conn, list(weights)).values():
                if row.status != "active":
                    continue
                found.setdefault(row.id, row)
                best[row.id] = max(best.get(row.id, 0.0), score / top * weights[row.id])
    return best, found
