"""The drain's vector side: the memories' vectors it compares each new fact
with, and the index it keeps over them once a store is large.

- `vectorset`: every active vector in memory (exact scans; the index attached past its threshold);
- `indexedset`: past the threshold with a saved index, only the candidates' rows, read on demand;
- `cacherows`: the flat vector cache, open, read by row;
- `annindex`: the usearch HNSW index, saved beside the flat cache;
- `kept`: what `scheduler serve` keeps between the drains of a store.
"""
