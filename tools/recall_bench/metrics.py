"""Per-question metrics over one ranked list of evidence keys, and their means.

For a question with evidence set E and a ranked list of distinct keys R
(what recall returned, in the order it shows them, limit 10):

    hit@k        1 if any key of E is in R[:k], else 0              (k = 5, 10)
    recall@10    |E & R[:10]| / |E|: the fraction of the evidence found
    all@10       1 if every key of E is in R[:10], else 0
    rr           1 / rank of the first key of E in R[:10], 0 if none (mean: MRR)

hit@5 reads the first five of the limit-10 list as shown: if recall orders
results by time, not relevance, hit@5 shows the cost.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

METRICS = ("hit@5", "hit@10", "recall@10", "all@10", "mrr")
LIMIT = 10


def score(ranked: Sequence[str], evidence: Iterable[str]) -> dict[str, float]:
    wanted = set(evidence)
    if not wanted:
        raise ValueError("a question needs at least one evidence key")
    top = list(ranked[:LIMIT])
    found = wanted & set(top)
    first = next((rank for rank, key in enumerate(top, start=1) if key in wanted), None)
    return {
        "hit@5": float(bool(wanted & set(top[:5]))),
        "hit@10": float(bool(found)),
        "recall@10": len(found) / len(wanted),
        "all@10": float(found == wanted),
        "mrr": 0.0 if first is None else 1.0 / first,
    }


def mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """The mean of each metric over `rows` (empty -> empty)."""
    if not rows:
        return {}
    return {m: statistics.fmean(r[m] for r in rows) for m in METRICS}


def distinct(keys: Iterable[str | None], ids: Iterable[str]) -> list[str]:
    """Ranked distinct keys: a turn split into several facts counts once, at its
    best rank; a result with no key (not from the benchmark) keeps its place
    as '?<id>' so it still pushes evidence down."""
    out: list[str] = []
    seen: set[str] = set()
    for key, memory_id in zip(keys, ids, strict=True):
        k = key if key is not None else f"?{memory_id}"
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out
