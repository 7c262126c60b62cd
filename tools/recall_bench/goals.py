"""Issue 10's "done when", checked on a run, and how sure a difference is.

    hybrid hit@10 - basic hit@10 >= 0.08 overall
    hybrid hit@10 >= basic hit@10 in every category
    multi-hop all@10 >= 2 x its BEFORE value (main at f8d55d3, held-out)

`paired_interval` is a paired bootstrap over questions: the 95% interval of
mean(a - b) for two modes on the same questions. Questions of one store are
not independent, so read it as a floor on the uncertainty, not a proof.
"""

from __future__ import annotations

import random
import statistics

from tools.recall_bench.model import CATEGORIES

BEFORE_MULTIHOP_ALL10 = 0.344  # docs/recall-benchmark.md, BEFORE, hybrid multi-hop all@10
MARGIN = 0.08
RESAMPLES = 1000


def paired_interval(rows: list[dict], a: str, b: str, metric: str = "hit@10", seed: int = 0) -> tuple[float, float, float]:
    """(mean difference, 2.5th percentile, 97.5th percentile) of a - b."""
    diffs = [r["modes"][a][metric] - r["modes"][b][metric] for r in rows]
    if not diffs:
        return 0.0, 0.0, 0.0
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(statistics.fmean(rng.choices(diffs, k=n)) for _ in range(RESAMPLES))
    return statistics.fmean(diffs), means[int(0.025 * RESAMPLES)], means[int(0.975 * RESAMPLES) - 1]


def check(summary: dict, rows: list[dict]) -> list[tuple[str, str, bool]]:
    """(goal, measured, met) for each goal this run can judge."""
    if not {"basic", "hybrid"} <= set(summary):
        return []
    hybrid, basic = summary["hybrid"], summary["basic"]
    out = []
    delta, lo, hi = paired_interval(rows, "hybrid", "basic")
    out.append((f"hybrid hit@10 >= basic + {MARGIN} overall", f"{delta:+.3f} (95% {lo:+.3f} .. {hi:+.3f})", delta >= MARGIN))
    for category in CATEGORIES:
        if category in hybrid:
            d = hybrid[category]["hit@10"] - basic[category]["hit@10"]
            out.append((f"hybrid hit@10 >= basic in {category}", f"{d:+.3f}", d >= 0))
    if "multi-hop" in hybrid:
        got = hybrid["multi-hop"]["all@10"]
        out.append((f"multi-hop all@10 >= 2 x {BEFORE_MULTIHOP_ALL10}", f"{got:.3f}", got >= 2 * BEFORE_MULTIHOP_ALL10))
    return out


def table(goals: list[tuple[str, str, bool]]) -> str:
    lines = ["| goal (issue 10) | measured | met |", "|---|---:|---|"]
    lines += [f"| {g} | {m} | {'yes' if ok else 'NO'} |" for g, m, ok in goals]
    return "\n".join(lines)
