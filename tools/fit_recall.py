"""Fit recall's calibrated score (memman/recall/fusion.py) on the benchmark's
TUNING half.

Two stages, both logistic regressions (L2, Newton's method):

1. Ranking. Every candidate recall considers for a tuning question
   (min_score=0, a large limit) is one row: its named signal values
   (fusion.values) and a label, 1 if it is one of the question's evidence
   memories. The fit gives BIAS and WEIGHTS, the order of results.
2. Calibration. The rows a recall would show (each query's top 10 by the
   stage-1 logit) are fitted again on (logit, known): CALIBRATION maps the
   logit to the probability that a shown result is relevant. It is
   monotonic in the logit, so it never changes the order.

Both stages also see queries the store cannot answer, labelled 0
throughout: questions of the other kind of store (conversations asked of
project histories and back) and seeded nonsense strings. They teach the
score what "nothing here is about this" looks like. Paste the printed
coefficients into memman/recall/fusion.py; the script also prints how much
evidence and how many unanswerable queries each --min-score keeps.

    .venv/bin/python -m tools.recall_bench --tuning --keep /tmp/rb --mode basic   # build the stores once
    .venv/bin/python tools/fit_recall.py /tmp/rb                                    # fit, print the coefficients

The held-out half is never read here.
"""

from __future__ import annotations

import argparse
import math
import random
import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POOL = 100  # candidates per question
SHOWN = 10  # what a recall shows: the calibration's rows
FOREIGN = 40  # questions of the other kind of store asked of each store (labelled 0)
NONSENSE = 20  # seeded nonsense queries per store (labelled 0)
L2 = 1.0
FLOORS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2)

Row = tuple[dict[str, float], int, str, int]  # (signal values, label, category, query number)


def nonsense(rng: random.Random, count: int) -> list[str]:
    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))

    return [" ".join(word() for _ in range(rng.randint(1, 4))) for _ in range(count)]


def rows_for(
    data_dir: Path, asked: list[tuple[str, set[str], str]], first: int, graph: bool | None, basic: bool = False
) -> list[Row]:
    """Every candidate of every query in `asked` (text, evidence keys, category)."""
    from memman.recall.hybrid import values
    from memman.service import Memman
    from tools.recall_bench.harness import _keys

    out: list[Row] = []
    with Memman(data_dir) as app:
        by_id, _ = _keys(app)
        for n, (text, evidence, category) in enumerate(asked, start=first):
            kwargs: dict[str, object] = {} if graph is None else {"graph": graph}
            if basic:
                kwargs["basic"] = True
            result = app.recall(text, limit=POOL, min_score=0.0, **kwargs)
            provider = (result.meta.fingerprint or "static").split(":", 1)[0]
            for h in result.results:
                out.append((values(h.signals, h.importance, (), provider), int(by_id.get(h.id) in evidence), category, n))
    return out


def fit(x, y, l2: float = L2):  # type: ignore[no-untyped-def]
    """Logistic regression with an intercept in column 0 (not penalised)."""
    import numpy as np

    w = np.zeros(x.shape[1])
    reg = np.eye(x.shape[1]) * l2
    reg[0, 0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        step = np.linalg.solve((x * (p * (1 - p))[:, None]).T @ x + reg, x.T @ (p - y) + reg @ w)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def shown(rows: list[Row], logits) -> list[int]:  # type: ignore[no-untyped-def]
    """Indices of each query's top SHOWN rows by logit."""
    by_query: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_query.setdefault(r[3], []).append(i)
    return [i for idx in by_query.values() for i in sorted(idx, key=lambda i: -logits[i])[:SHOWN]]


def report(rows: list[Row], probs, keep: list[int], kinds: dict[int, str]) -> None:  # type: ignore[no-untyped-def]
    """For each floor: evidence in the top 10 kept, unanswerable queries left empty."""
    best: dict[int, float] = {}
    evidence: dict[int, float] = {}
    for i in keep:
        r = rows[i]
        best[r[3]] = max(best.get(r[3], 0.0), probs[i])
        if r[1]:
            evidence[r[3]] = max(evidence.get(r[3], 0.0), probs[i])
    foreign = [q for q, k in kinds.items() if k == "foreign"]
    junk = [q for q, k in kinds.items() if k == "nonsense"]
    print("# floor  evidence@10 kept  off-topic questions left empty  nonsense left empty")
    for floor in FLOORS:
        kept = sum(1 for v in evidence.values() if v >= floor) / max(1, len(evidence))
        left = [sum(1 for q in qs if best.get(q, 0.0) < floor) / max(1, len(qs)) for qs in (foreign, junk)]
        print(f"# {floor:<6} {kept:.3f}             {left[0]:.3f}                           {left[1]:.3f}")


def asked_of(store, stores, rng: random.Random) -> list[tuple[str, set[str], str]]:  # type: ignore[no-untyped-def]
    others = [q for s in stores if s.kind != store.kind for q in s.questions]
    own = [(q.text, set(q.evidence), q.category) for q in store.questions]
    foreign = [(q.text, set(), "foreign") for q in rng.sample(others, min(FOREIGN, len(others)))]
    return own + foreign + [(t, set(), "nonsense") for t in nonsense(rng, NONSENSE)]


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from memman.recall.fusion import BASIC_WEIGHTS, WEIGHTS
    from tools.recall_bench import suite

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, help="where `recall_bench --tuning --keep DIR` built the stores")
    p.add_argument("--graph", choices=["default", "on", "off"], default="default")
    p.add_argument("--basic", action="store_true", help="fit `recall --basic` (BASIC_* in fusion.py)")
    p.add_argument("--drop", action="append", default=[], help="leave a signal out of the fit (repeatable)")
    args = p.parse_args(argv)
    stores = [s for s in suite.select("tuning") if (args.root / s.name).exists()]
    if not stores:
        print(f"fit_recall: error: no tuning store under {args.root}", file=sys.stderr)
        return 2
    rng = random.Random(10)
    graph = {"default": None, "on": True, "off": False}[args.graph]
    rows: list[Row] = []
    queries = 0
    kinds: dict[int, str] = {}
    for store in stores:
        asked = asked_of(store, stores, rng)
        kinds.update((queries + n, category) for n, (_, _, category) in enumerate(asked))
        rows += rows_for(args.root / store.name, asked, queries, graph, args.basic)
        queries += len(asked)
        print(f"{store.name}: {len(rows)} rows so far", file=sys.stderr)
    names = [n for n in (BASIC_WEIGHTS if args.basic else WEIGHTS) if n not in args.drop]
    x = np.array([[1.0, *(r[0].get(n, 0.0) for n in names)] for r in rows])
    y = np.array([r[1] for r in rows], dtype=float)
    w = fit(x, y)
    logits = x @ w
    keep = shown(rows, logits)
    known = np.array([r[0].get("known", 1.0) for r in rows])
    xc = np.column_stack([np.ones(len(keep)), logits[keep], known[keep]])
    c = fit(xc, y[keep], l2=0.01)
    probs = np.zeros(len(rows))
    probs[keep] = 1.0 / (1.0 + np.exp(-(xc @ c)))
    print(f"# {len(rows)} candidate rows, {int(y.sum())} relevant; stores {', '.join(s.name for s in stores)}")
    prefix = "BASIC_" if args.basic else ""
    print(f"{prefix}BIAS = {w[0]:.3f}")
    for n, v in zip(names, w[1:], strict=True):
        print(f'    "{n}": {v:.3f},')
    print(f'{prefix}CALIBRATION = {{"scale": {c[1]:.3f}, "bias": {c[0]:.3f}, "known": {c[2]:.3f}}}')
    report(rows, probs, keep, kinds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
