"""Fusion: every signal named, one calibrated score.

Two logistic regressions, fitted on the tuning half of the retrieval
benchmark (tools/fit_recall.py; the held-out half only reports):

    logit = BIAS + sum over signals of WEIGHTS[name] x value      (the order)
    score = 1 / (1 + exp(-(CALIBRATION scale x logit + bias + known x known)))

The first orders the candidates; the second maps that to the probability
that a shown result is relevant. It is monotonic in the logit, so it never
changes the order, and its `known` term lowers every score of a query whose
words the store has never seen (nonsense, or a topic never mentioned). Every
signal is bounded and means the same in every store and for every query
(coverage of the query's word weight, a centred cosine, a z-score within the
store, a share of entities), so the score does too: 0.8 is a confident
answer in any store, and a query nothing in the store is about scores low
everywhere. That is what `--min-score` filters on and what `meta.confidence`
reports. A signal whose fitted weight is ~0 cannot hurt; one with no value
for a memory (a pending memory has no vector) contributes nothing.

Adding a signal: give it a name here with a weight, a field on
memman.output.results.Signals, and a value in memman/recall/hybrid.py; refit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# Fitted by tools/fit_recall.py on the benchmark's tuning half (see docs/recall-benchmark.md).
BIAS = -7.407
WEIGHTS: dict[str, float] = {
    "keyword": 0.124,  # share of the query's word weight (store IDF) the memory contains, 0..1
    "keyword_rank": 1.682,  # 1 / (1 + (bm25 rank - 1) / 5): the keyword list's own order
    "vector": 3.265,  # centred cosine similarity to the query
    "vector_z": 0.904,  # standard deviations above the store's mean similarity, clipped to 0..6
    "entity": 1.153,  # share of the query's named entities the memory names
    "graph": 0.902,  # beam-search path score (fitted with --graph on: tools/fit_recall.py --graph on)
    "date": 3.0,  # 1 inside the window the query's dates name, fading outside (memman/recall/window.py); set by hand
    "neighbour": 4.564,  # score of the best candidate said within minutes of it (memman/recall/expand.py)
    "recency": 0.0,  # 1 / (1 + (rank by last update - 1) / 10) among the candidates; fitted -0.86, but the
    # tuning half ranks better without it (hit@10 0.641 -> 0.648), so it is off: it may not hurt
    "importance": 0.000,  # (importance - 3) / 2, -1..1
    "known": -0.363,  # share of the query's content words the store has ever seen
}

CALIBRATION = {"scale": 0.817, "bias": -0.375, "known": 0.302}

# `recall --basic` has no vector signals and no expansion, so it has its own fit
# (tools/fit_recall.py --basic): its scores mean the same as hybrid's.
BASIC_BIAS = -6.315
BASIC_WEIGHTS: dict[str, float] = {
    "keyword": 4.263,
    "keyword_rank": 4.185,
    "entity": 0.067,
    "date": 3.0,
    "recency": -1.344,
    "importance": 0.000,
    "known": -0.240,
}
BASIC_CALIBRATION = {"scale": 1.287, "bias": 0.758, "known": -0.377}

# On the tuning half (tools/fit_recall.py prints the table): 0.002 keeps all the
# evidence hybrid and basic put in their top 10 (the default hides only noise;
# nonsense returns nothing anyway: no channel matches it); 0.1 leaves 96% of
# off-topic questions empty and keeps the best ~56% of the evidence, what an
# injected prompt can afford.
DEFAULT_MIN_SCORE = 0.002
INJECT_MIN_SCORE = 0.1


def logit(values: Mapping[str, float], *, basic: bool = False) -> float:
    bias, weights = (BASIC_BIAS, BASIC_WEIGHTS) if basic else (BIAS, WEIGHTS)
    return bias + sum(weights[name] * value for name, value in values.items() if name in weights)


def probability(values: Mapping[str, float], *, basic: bool = False) -> float:
    """The calibrated score of one result from its named signal values."""
    c = BASIC_CALIBRATION if basic else CALIBRATION
    x = c["scale"] * logit(values, basic=basic) + c["bias"] + c["known"] * values.get("known", 1.0)
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def rank_prior(rank: int | None, spread: float) -> float:
    """1 at rank 1, 1/2 at rank 1 + spread; 0 when unranked."""
    return 0.0 if rank is None else 1.0 / (1.0 + (rank - 1) / spread)
