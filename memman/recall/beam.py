"""Beam search over the memory graph, from recall's anchors.

Each step expands the `BEAM_WIDTH` best frontier nodes along edges in both
directions. A node's path score is its parent's score x the edge's weight x
the intent's weight for that edge type x a per-hop decay, scaled by how
similar the node is to the query (when its vector is known), so the walk
favours paths that stay on topic. At most `MAX_VISITS` nodes are scored.
"""

from __future__ import annotations

from collections.abc import Callable

import apsw
import msgspec

# Temporal edges link everything said in one session, so outside WHEN queries
# they carry little meaning and get a low weight.
EDGE_WEIGHTS: dict[str, dict[str, float]] = {
    "why": {"causal": 1.0, "entity": 0.5, "semantic": 0.5, "temporal": 0.15},
    "when": {"temporal": 1.0, "entity": 0.6, "causal": 0.5, "semantic": 0.4},
    "entity": {"entity": 1.0, "semantic": 0.6, "causal": 0.4, "temporal": 0.15},
    "general": {"semantic": 0.8, "entity": 0.7, "causal": 0.6, "temporal": 0.15},
}
MANUAL_EDGE_WEIGHT = 0.6  # user-typed edges (related, ...) of types the table does not name
BEAM_WIDTH = 8
DEPTH = 2
MAX_VISITS = 64
HOP_DECAY = 0.7
# A memory reached only through the graph must score at least this to be a
# result: one strong hop (an entity or semantic edge from a good anchor)
# clears it, a weak temporal hop from a session neighbour does not.
MIN_RESULT_SCORE = 0.12


class Reached(msgspec.Struct, frozen=True, kw_only=True):
    score: float
    via: str
    edge_type: str
    depth: int


def search(
    conn: apsw.Connection,
    anchors: dict[str, float],
    intent: str,
    similarity: Callable[[list[str]], dict[str, float]] | None = None,
) -> tuple[dict[str, Reached], int]:
    """Nodes reached from `anchors` (id -> anchor score in 0..1), with their
    best path score, and how many nodes were visited. Anchors are reachable
    too: an anchor linked to a better anchor gains graph credit, which is how
    the second hop of a multi-hop question rises."""
    weights = EDGE_WEIGHTS.get(intent, EDGE_WEIGHTS["general"])
    best: dict[str, Reached] = {}
    scores = dict(anchors)
    frontier = sorted(anchors, key=lambda i: (-anchors[i], i))[:BEAM_WIDTH]
    visited = len(anchors)
    for depth in range(1, DEPTH + 1):
        if not frontier or visited >= MAX_VISITS:
            break
        marks = ",".join("?" * len(frontier))
        rows = conn.execute(
            f"SELECT src, dst, edge_type, weight FROM edges WHERE src IN ({marks})"
            f" UNION ALL SELECT dst, src, edge_type, weight FROM edges WHERE dst IN ({marks})",
            (*frontier, *frontier),
        ).fetchall()
        candidates: dict[str, Reached] = {}
        for node, other, kind, weight in rows:
            if other == node:
                continue
            score = scores[node] * min(weight, 1.0) * weights.get(kind, MANUAL_EDGE_WEIGHT) * HOP_DECAY
            current = candidates.get(other)
            if current is None or score > current.score:
                candidates[other] = Reached(score=score, via=node, edge_type=kind, depth=depth)
        if similarity is not None and candidates:
            sims = similarity(list(candidates))
            candidates = {
                i: msgspec.structs.replace(r, score=r.score * (0.5 + 0.5 * max(sims.get(i, 0.0), 0.0)))
                for i, r in candidates.items()
            }
        ranked = sorted(candidates.items(), key=lambda it: (-it[1].score, it[0]))[: MAX_VISITS - visited]
        visited += len(ranked)
        frontier = []
        for node, reached in ranked:
            if node not in best or reached.score > best[node].score:
                best[node] = reached
                if node not in anchors:  # an anchor walks on from its own (higher) anchor score
                    scores[node] = reached.score
                frontier.append(node)
        frontier = frontier[:BEAM_WIDTH]
    return best, visited
