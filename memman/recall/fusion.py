"""Fusion: every signal named, one calibrated score.

A result's score is a probability that it is relevant to the query,

    score = 1 / (1 + exp(-(BIAS + sum over signals of WEIGHTS[name] x value)))

fitted as a logistic regression on the tuning half of the retrieval
benchmark (tools/fit_recall.py; the held-out half only reports). Every
signal is bounded and means the same in every store and for every query
(coverage of the query's word weight, a centred cosine, a z-score within the
store, a share of entities), so the score does too: 0.8 is a confident
answer in any store, and a query nothing in the store is about scores low
everywhere. That is what `--min-score` filters on and what `meta.confidence`
reports. A signal whose fitted weight is ~0 cannot hurt; one with no value
for a memory (a pending memory has no vector) contributes nothing.

Adding a signal: give it a name here with a weight, a field on
memman.results.Signals, and a value in memman/recall/hybrid.py; refit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# Fitted by tools/fit_recall.py on the benchmark's tuning half (see docs/recall-benchmark.md).
BIAS = -4.0
WEIGHTS: dict[str, float] = {
    "keyword": 5.0,  # share of the query's word weight (store IDF) the memory contains, 0..1
    "keyword_rank": 1.0,  # 1 / (1 + (bm25 rank - 1) / 5): the keyword list's own order
    "vector": 4.0,  # centred cosine similarity to the query
    "vector_z": 0.4,  # standard deviations above the store's mean similarity, clipped to 0..6
    "entity": 1.0,  # share of the query's named entities the memory names
    "graph": 2.0,  # beam-search path score from the anchors (0 when graph expansion is off)
    "recency": 0.3,  # 1 / (1 + (rank by last update - 1) / 10) among the candidates
    "importance": 0.2,  # (importance - 3) / 2, -1..1
    "known": 2.0,  # share of the query's content words the store has ever seen
}

DEFAULT_MIN_SCORE = 0.2  # recall's default: below this a result is more likely noise than an answer
INJECT_MIN_SCORE = 0.5  # for prompt injection: only what is more likely relevant than not


def logit(values: Mapping[str, float]) -> float:
    return BIAS + sum(WEIGHTS[name] * value for name, value in values.items() if name in WEIGHTS)


def probability(values: Mapping[str, float]) -> float:
    """The calibrated score of one result from its named signal values."""
    x = logit(values)
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def rank_prior(rank: int | None, spread: float) -> float:
    """1 at rank 1, 1/2 at rank 1 + spread; 0 when unranked."""
    return 0.0 if rank is None else 1.0 / (1.0 + (rank - 1) / spread)
