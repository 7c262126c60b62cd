"""Derive a large imported backlog in bulk, straight through the events API.

The real drain reconciles and links every input against everything before
it, one input at a time (issue 16 measured 61 inputs/s at 100k before the
linear drain landed), so building a 1M-memory store through it takes hours.
`derive_in_bulk` writes the derived events a drain would write for each
pending `memory.remembered` input, computed in batches:

- `facts.extracted`: the real rule extractor (workers/stages/extract.py);
- `memory.reconciled`: ADD for every fact, with no candidates (a synthetic
  store of distinct texts; the real reconciler supersedes ~10% of them);
- `memory.embedded`: the store's bound embedder over a whole batch at once;
- `edges.inferred`: temporal edges (up to 3 earlier memories within 30
  minutes), entity edges (up to 5 latest memories per shared entity, at most
  10 per memory) and semantic edges (the 5 nearest of the previous 2,000
  memories above 0.5 cosine), roughly the drain's mix per memory (2.5
  temporal, 6.9 entity, 5 semantic at 10k); no causal edges.

Then `memman events replay` builds every projection from the log, exactly as
it would for a drained store: the projections are a function of the log.
The store is therefore the shape of a drained one (memories, FTS, vectors,
graph, work queue all done), not a byte-for-byte drain result.

    derive_in_bulk(log_path, fingerprint_key, first_seq, last_seq, progress=print)

`log_path` may also be an open log on either backend (events/backends:
tools/bench_postgres.py passes a PostgreSQL one); it is then left open.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from events.ids import UlidFactory
from events.log import EventLog, NewEvent
from events.types import (
    Decision,
    Edge,
    EdgesInferred,
    FactsExtracted,
    MemoryEmbedded,
    MemoryReconciled,
    MemoryRemembered,
    Provenance,
    Recorded,
    Vector,
)
from projections.vectors import as_stored, encode
from workers.embedders import embedder_for
from workers.stages.extract import ExtractInput, RuleExtractor
from workers.stages.reconcile import RuleReconciler

BATCH = 2000
TEMPORAL_WINDOW_S = 1800
TEMPORAL_CAP = 3
ENTITY_CAP_PER_ENTITY = 5
ENTITY_CAP_PER_MEMORY = 10
SEMANTIC_WINDOW = 2000
SEMANTIC_K = 5
SEMANTIC_MIN = 0.5
CACHE_KIB = 1024 * 1024  # the log connection's page cache while deriving (1 GiB)
ACTOR = "drain"
REASON = "bulk-generated (tools/scale_generate.py): no reconciliation"


class _Graph:
    """What edge inference remembers across batches: recent memories by time,
    by entity, and the last SEMANTIC_WINDOW vectors."""

    def __init__(self, dim: int) -> None:
        self.recent: deque[tuple[float, str]] = deque()
        self.by_entity: dict[str, deque[str]] = {}
        self.window_ids: deque[str] = deque(maxlen=SEMANTIC_WINDOW)
        self.window = np.zeros((0, dim), dtype=np.float32)

    def temporal(self, memory_id: str, at: float) -> list[Edge]:
        while self.recent and at - self.recent[0][0] > TEMPORAL_WINDOW_S:
            self.recent.popleft()
        near = [other for t, other in list(self.recent)[-TEMPORAL_CAP:] if at - t <= TEMPORAL_WINDOW_S]
        self.recent.append((at, memory_id))
        return [Edge(src=o, dst=memory_id, edge_type="temporal", weight=0.8, meta={"rel": "near"}) for o in near]

    def entity(self, memory_id: str, entities: list[str]) -> list[Edge]:
        edges: list[Edge] = []
        for name in dict.fromkeys(e.casefold() for e in entities):
            seen = self.by_entity.setdefault(name, deque(maxlen=ENTITY_CAP_PER_ENTITY))
            for other in seen:
                if len(edges) < ENTITY_CAP_PER_MEMORY and other != memory_id:
                    edges.append(Edge(src=other, dst=memory_id, edge_type="entity", weight=0.7, meta={"entity": name}))
            seen.append(memory_id)
        return edges

    def semantic(self, ids: list[str], rows: np.ndarray) -> list[list[Edge]]:
        """Per new row: edges to its nearest rows among the window and the
        earlier rows of this batch."""
        pool_ids = [*self.window_ids, *ids]
        pool = np.vstack([self.window, rows]) if len(self.window) else rows
        sims = rows @ pool.T
        offset = len(self.window_ids)
        sims[:, offset:][np.triu_indices(len(ids))] = -1.0  # only memories before each one
        k = min(SEMANTIC_K, sims.shape[1])
        negated = -sims
        if sims.shape[1] > k:  # row by row: ~4x faster than numpy's argpartition along an axis
            best = np.array([np.argpartition(row, k - 1)[:k] for row in negated]).reshape(len(ids), k)
        else:
            best = np.tile(np.arange(k), (len(ids), 1))
        scores = np.take_along_axis(sims, best, axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")
        best, scores = np.take_along_axis(best, order, axis=1).tolist(), np.take_along_axis(scores, order, axis=1).tolist()
        out = [
            [Edge(src=pool_ids[j], dst=memory_id, edge_type="semantic", weight=round(score, 4))
             for j, score in zip(row_best, row_scores) if score >= SEMANTIC_MIN]
            for memory_id, row_best, row_scores in zip(ids, best, scores)
        ]  # fmt: skip
        self.window_ids.extend(ids)
        self.window = pool[-SEMANTIC_WINDOW:]
        return out


def _derive_batch(
    recs: list[Recorded], embedder, graph: _Graph, extractor: RuleExtractor, ids: UlidFactory  # type: ignore[no-untyped-def]
) -> list[NewEvent]:
    fp = embedder.fingerprint
    extract_prov = Provenance(implementation=extractor.implementation, version=extractor.version)
    reconcile_prov = Provenance(implementation=RuleReconciler.implementation, version=RuleReconciler.version)
    embed_prov = Provenance(implementation=fp.provider, model=fp.model, fingerprint=fp.key)
    edge_prov = Provenance(implementation="rules", version="bulk")
    facts_of = []
    for rec in recs:
        e = rec.event
        assert isinstance(e, MemoryRemembered)
        item = ExtractInput(memory_id=e.memory_id, text=e.text, category=e.category, importance=e.importance, entities=e.entities)
        facts_of.append(extractor.extract(item, lambda: ids.mint(rec.recorded_at)))
    texts = [f.text for out in facts_of for f in out.facts]
    matrix = as_stored(embedder.embed(texts)) if texts else np.zeros((0, fp.dim), dtype="<f4")
    all_ids = [f.memory_id for out in facts_of for f in out.facts]
    semantic = graph.semantic(all_ids, matrix)
    new: list[NewEvent] = []
    row = 0
    for rec, out in zip(recs, facts_of, strict=True):
        e = rec.event
        seq = rec.seq
        new.append(NewEvent(
            event=FactsExtracted(input_id=e.memory_id, facts=out.facts, warnings=out.warnings, provenance=extract_prov),
            actor=ACTOR, causation=seq, stage="extract",
        ))  # fmt: skip
        decisions = [Decision(memory_id=f.memory_id, action="ADD", reason=REASON) for f in out.facts]
        new.append(NewEvent(
            event=MemoryReconciled(input_id=e.memory_id, decisions=decisions, provenance=reconcile_prov),
            actor=ACTOR, causation=seq, stage="reconcile",
        ))  # fmt: skip
        vectors = [Vector(memory_id=f.memory_id, data=encode(matrix[row + i])) for i, f in enumerate(out.facts)]
        new.append(NewEvent(
            event=MemoryEmbedded(fingerprint=fp.key, dim=fp.dim, vectors=vectors, provenance=embed_prov),
            actor=ACTOR, causation=seq, stage=f"embed:{fp.key}",
        ))  # fmt: skip
        at = rec.occurred_at.timestamp()
        edges: list[Edge] = []
        for i, f in enumerate(out.facts):
            edges += graph.temporal(f.memory_id, at) + graph.entity(f.memory_id, f.entities) + semantic[row + i]
        row += len(out.facts)
        new.append(NewEvent(
            event=EdgesInferred(edges=edges, provenance=edge_prov, input_id=e.memory_id),
            actor=ACTOR, causation=seq, stage="edges",
        ))  # fmt: skip
    return new


def derive_in_bulk(
    log_path: Path | EventLog, fingerprint_key: str, first_seq: int, last_seq: int,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, float]:
    """Append the derived events of the remembered inputs first_seq..last_seq
    (an import's range) to the log at `log_path`; see the module docstring."""
    embedder = embedder_for(fingerprint_key)
    graph = _Graph(embedder.fingerprint.dim)
    extractor, ids = RuleExtractor(), UlidFactory()
    log = log_path if isinstance(log_path, EventLog) else EventLog(log_path)
    if log.backend == "sqlite":
        # Edge events name older memories all over the store: with SQLite's
        # default 2 MiB page cache, their references (memory_events, keyed by
        # memory number) became random page reads and writes that grew with
        # the log. A cache as large as that index at 1M keeps appends flat.
        log.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    started, appended, inputs = time.perf_counter(), 0, 0
    try:
        for start in range(first_seq, last_seq + 1, BATCH):
            recs = [
                r for r in log.read(after=start - 1, upto=min(start + BATCH - 1, last_seq))
                if isinstance(r.event, MemoryRemembered)
            ]
            recs.sort(key=lambda r: r.occurred_at)  # edges by time, as a drain of a time-ordered import sees them
            events = _derive_batch(recs, embedder, graph, extractor, ids)
            appended += len(log.append_many(events))
            inputs += len(recs)
            if inputs % (BATCH * 20) < BATCH:
                rate = inputs / (time.perf_counter() - started)
                progress(f"generated {inputs:,} inputs' derived events ({rate:,.0f} inputs/s)")
    finally:
        if log is not log_path:
            log.close()
    seconds = time.perf_counter() - started
    return {"inputs": inputs, "events": appended, "seconds": round(seconds, 2), "rate": round(inputs / seconds, 1) if seconds else 0.0}
