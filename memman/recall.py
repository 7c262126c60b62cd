"""Hybrid recall: keyword (FTS5 bm25) + vector similarity + recency, fused
with reciprocal rank fusion (K = 60), then weighted.

    score(m) = sum over lists L of  w_L / (K + rank_L(m))      scaled to 0..1
               x (1 + 0.05 x (importance - 3))

Candidates come from the keyword and vector lists only. Recency re-ranks the
candidates; it never brings in a memory that matched nothing, so a recall
for something unknown returns nothing rather than the newest rows.

Vector candidates must clear the embedder's similarity floor (`MIN_SIMILARITY`),
so a query unrelated to everything stored does not return noise. Pending
(not yet drained) memories have no vector and are found by keyword only;
they are returned with status "pending".
"""

from __future__ import annotations

import time

from events.errors import MemmanError
from memman.results import RecallHit, RecallMeta, RecallResult, Signals
from projections.queries import MemoryRow, keyword_search, memories_by_id
from projections.vectors import matrix
from projections.store import StoreDB

RRF_K = 60
CANDIDATES = 50
WEIGHTS = {"keyword": 1.0, "vector": 1.0, "recency": 0.25}
# Cosine floors below which a vector-only match is noise, per embedder provider.
# Calibrated on the paraphrase / unrelated pairs in tests (see README).
MIN_SIMILARITY = {"static": 0.35, "hashing": 0.35, "onnx": 0.35, "openai": 0.3, "voyage": 0.3}
DEFAULT_MIN_SIMILARITY = 0.5


def _rrf(rank: int | None, weight: float) -> float:
    return 0.0 if rank is None else weight / (RRF_K + rank)


def _vector_hits(
    db: StoreDB, query: str, fingerprint: str, *, category: str | None, source: str | None
) -> list[tuple[str, float]]:
    import numpy as np

    from workers.embedders import embedder_for

    if fingerprint.split(":", 1)[0] in ("static", "hashing"):  # shipped, instant: no config, no cache
        q = embedder_for(fingerprint).embed([query], kind="query")[0]
    else:  # onnx or remote: the store's settings, a query cache, and (remote) a time budget
        from memman.embed import query_vector

        q = query_vector(db, query, fingerprint)
    if not q.any():
        return []
    ids, rows = matrix(db.vectors.conn, db.directory, fingerprint)
    if not ids:
        return []
    scores = rows @ q
    floor = MIN_SIMILARITY.get(fingerprint.split(":", 1)[0], DEFAULT_MIN_SIMILARITY)
    order = np.argsort(-scores)[: CANDIDATES * 4]
    best = [(ids[i], float(scores[i])) for i in order if scores[i] >= floor]
    rows = memories_by_id(db.main.conn, [i for i, _ in best])
    kept = []
    for memory_id, similarity in best:
        row = rows.get(memory_id)
        if row is None or row.status != "active":
            continue
        if (category and row.category != category) or (source and row.source != source):
            continue
        kept.append((memory_id, similarity))
    return kept[:CANDIDATES]


def recall(
    db: StoreDB,
    store: str,
    query: str,
    *,
    limit: int = 10,
    category: str | None = None,
    source: str | None = None,
    basic: bool = False,
) -> RecallResult:
    started = time.perf_counter()
    keyword = keyword_search(db.main.conn, query, limit=CANDIDATES, category=category, source=source)
    fingerprint = db.setting("embedder")
    vector: list[tuple[str, float]] = []
    degraded = None
    if not basic:
        if fingerprint is None:
            degraded = "no embeddings yet: run 'memman scheduler drain'"
        else:
            try:
                vector = _vector_hits(db, query, fingerprint, category=category, source=source)
            except MemmanError as exc:
                degraded = f"vector recall unavailable: {exc}"
    keyword_rank = {memory_id: rank for rank, (memory_id, _) in enumerate(keyword, start=1)}
    vector_rank = {memory_id: rank for rank, (memory_id, _) in enumerate(vector, start=1)}
    similarity = dict(vector)
    rows = memories_by_id(db.main.conn, list(dict.fromkeys([*keyword_rank, *vector_rank])))
    by_recency = sorted(rows.values(), key=lambda r: (r.updated_at, r.key), reverse=True)
    recency_rank = {row.id: rank for rank, row in enumerate(by_recency, start=1)}
    ceiling = sum(WEIGHTS[k] for k in ("keyword", "recency")) + (0 if basic else WEIGHTS["vector"])
    ceiling /= RRF_K + 1

    hits: list[RecallHit] = []
    for row in rows.values():
        fused = (
            _rrf(keyword_rank.get(row.id), WEIGHTS["keyword"])
            + _rrf(vector_rank.get(row.id), WEIGHTS["vector"])
            + _rrf(recency_rank.get(row.id), WEIGHTS["recency"])
        )
        score = fused / ceiling * (1 + 0.05 * (row.importance - 3))
        hits.append(_hit(row, score, keyword_rank, vector_rank, similarity, recency_rank))
    hits.sort(key=lambda h: (-h.score, h.id))
    results = hits[:limit]
    meta = RecallMeta(
        query=query,
        store=store,
        mode="basic" if basic else "hybrid",
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        keyword_hits=len(keyword),
        vector_hits=len(vector),
        pending=sum(1 for h in results if h.status == "pending"),
        fingerprint=fingerprint,
        degraded=degraded,
    )
    return RecallResult(results=results, meta=meta)


def _hit(
    row: MemoryRow,
    score: float,
    keyword_rank: dict[str, int],
    vector_rank: dict[str, int],
    similarity: dict[str, float],
    recency_rank: dict[str, int],
) -> RecallHit:
    sim = similarity.get(row.id)
    return RecallHit(
        id=row.id,
        content=row.content,
        score=round(score, 4),
        category=row.category,
        importance=row.importance,
        entities=row.entities,
        source=row.source,
        created_at=row.created_at,
        status=row.status,
        signals=Signals(
            keyword_rank=keyword_rank.get(row.id),
            vector_rank=vector_rank.get(row.id),
            similarity=None if sim is None else round(sim, 4),
            recency_rank=recency_rank.get(row.id),
        ),
    )
