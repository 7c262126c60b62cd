"""Recall: everything that turns a query into ranked memories.

- `hybrid`: the query service: keyword, vector and recency anchors, fusion,
  graph expansion, scoring and ordering (`recall`).
- `terms`, `vector`, `fusion`, `order`: the store's word weights, the
  vector channel, the calibrated score, and the ordering of results.
- `intent`: what kind of question it is (why / when / entity / general).
- `beam`: the beam search over the memory graph that `hybrid` runs.
- `llm`: the optional LLM query expansion and rerank.
- `asked`: among claims about the same named thing, those about the subject
  the question asks come before look-alikes about another subject.
- `succession`: the last step: a successor ranks above what it replaced, the
  older is marked (superseded / older / expired); `--history` chains.
"""

from memman.recall.fusion import DEFAULT_MIN_SCORE, INJECT_MIN_SCORE
from memman.recall.hybrid import recall

__all__ = ["DEFAULT_MIN_SCORE", "INJECT_MIN_SCORE", "recall"]
