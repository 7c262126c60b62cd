"""A retrieval benchmark that looks like real use (docs/recall-benchmark.md).

    python -m tools.recall_bench                 # held-out half, every mode
    python -m tools.recall_bench --half tuning   # the half you may tune on
    python -m tools.recall_bench --quick         # two small stores, for tests

Modules: `model` (memories, questions, stores, the split), `conversations` and
`projects` (the seeded generators, with their texts in `*_data`), `suite`
(which stores exist), `harness` (import, drain, recall, map back to keys),
`metrics`, `bm25` (the independent baseline), `report`, `cli`.
"""
