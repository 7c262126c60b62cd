"""How recall orders its results: by relevance, always, unless asked.

    score   best first (the default, for every intent; `when` questions too:
            an agent reads the first results, so they must be the best ones)
    time    chronological by occurred time (`--order time`), for callers who
            want a timeline of what matched
    why     best first, except that a cause may move up to sit right before
            its effect (a causal edge among the results) when it does not
            jump over a much better match: every result it passes must score
            below the cause / CAUSE_JUMP
"""

from __future__ import annotations

from projections.queries import MemoryRow
from projections.store import StoreDB
from memman.output.results import RecallHit

ORDERS = ("score", "time")
CAUSE_JUMP = 0.8  # a cause passes only results scoring < its score / 0.8 (at most 25% better)


def order(
    db: StoreDB, hits: list[RecallHit], intent: str, rows: dict[str, MemoryRow], by: str = "score"
) -> tuple[list[RecallHit], str]:
    """(ordered hits, the ordering's name for meta.ordering)."""
    if by == "time":
        return sorted(hits, key=lambda h: (rows[h.id].occurred_at, rows[h.id].key)), "chronological"
    if intent == "why" and len(hits) > 1:
        moved = _causes_before_effects(db, hits)
        return moved, "causes-first" if moved != hits else "score"
    return hits, "score"


def _causal_pairs(db: StoreDB, ids: list[str]) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(ids))
    return db.main.conn.execute(
        f"SELECT src, dst FROM edges WHERE edge_type = 'causal' AND src IN ({marks}) AND dst IN ({marks})",
        (*ids, *ids),
    ).fetchall()


def _causes_before_effects(db: StoreDB, hits: list[RecallHit]) -> list[RecallHit]:
    """Best first; then each cause ranked below its effect moves to right
    before it, if nothing it passes is much better than the cause."""
    ordered = list(hits)
    for src, dst in sorted(_causal_pairs(db, [h.id for h in hits])):
        if src == dst:
            continue
        pos = {h.id: n for n, h in enumerate(ordered)}
        cause, effect = pos[src], pos[dst]
        if cause <= effect:
            continue
        passed = ordered[effect:cause]
        if all(h.score * CAUSE_JUMP < ordered[cause].score for h in passed):
            ordered.insert(effect, ordered.pop(cause))
    return ordered
