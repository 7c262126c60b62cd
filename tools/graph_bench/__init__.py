"""The graph benchmark's parts; tools/bench_graph.py is its command and
docs/graph-benchmark.md its write-up.

- `vocabulary.py`: the names, facts and templates histories are made of;
- `history.py`: one seeded synthetic history (memories and tagged questions);
- `evaluate.py`: a history imported and drained, each question recalled with
  graph expansion off, on and by default, and scored against its evidence;
- `perf.py`: edge inference, `graph rebuild` and the recall time graph
  expansion adds, at 10k memories;
- `report.py`: the Markdown tables.
"""
