"""Intent-aware hybrid recall with calibrated scores.

1. Candidates: keyword (FTS5 bm25, top CANDIDATES) and vector (centred,
   store-weighted, above a per-store floor: memman/recall/vector.py). Nothing
   else brings a memory in, so a query about something unknown returns
   nothing rather than the newest rows.
2. Signals per candidate, each bounded and comparable across stores
   (memman/recall/terms.py, vector.py): keyword coverage and rank, centred
   cosine and its z-score, entity overlap, recency among the candidates,
   importance, and the share of query words the store knows.
3. Intent (why / when / entity / general, or --intent) picks the graph's
   edge weights; where graph expansion is on (GRAPH_DEFAULT, or --graph) a
   beam search from the candidates (memman/recall/beam.py) adds a graph
   signal, and may bring in memories the graph reaches.
4. Score: a calibrated probability of relevance from the named signals
   (memman/recall/fusion.py). Results below `min_score` are dropped;
   `meta.confidence` is the best score.
5. Order: by score for every intent; `order="time"` is chronological; a why
   question may put a cause right before its effect (memman/recall/order.py).

Pending (not yet drained) memories have no vector and no edges; they are
found by keyword and returned with status "pending".
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

from events.errors import BadInput, MemmanError
from memman.recall import beam
from memman.recall.fusion import DEFAULT_MIN_SCORE, WEIGHTS, probability, rank_prior
from memman.recall.intent import Intent, detect
from memman.recall.order import order as order_hits
from memman.recall.terms import QueryTerms, coverage, query_terms
from memman.recall.vector import STEPS, Similarity, VectorHit, vector_hits
from memman.results import RecallHit, RecallMeta, RecallResult, Signals
from projections.queries import MemoryRow, keyword_search, memories_by_id
from projections.store import StoreDB

CANDIDATES = 50
KEYWORD_SPREAD = 5.0  # keyword_rank prior: 1/2 at bm25 rank 6
RECENCY_SPREAD = 10.0
# Where graph expansion is on by default: only where the benchmark shows it wins
# (docs/recall-benchmark.md). --graph forces it anywhere.
GRAPH_DEFAULT = {"why": False, "when": False, "entity": False, "general": False}
SPARSE_SCORE = 0.5
# What `recall(disable=...)` can switch off, for ablations (tools/recall_bench):
# "keyword" and "vector" drop that candidate list (and its signals), any other
# fusion signal drops out of the score, and the vector channel's own steps
# (centring, store word weights, the per-store floor) fall back to plain.
SIGNALS = tuple(dict.fromkeys(["keyword", "vector", *WEIGHTS, *STEPS]))


class _Channels:
    """What the two candidate lists found for one query."""

    def __init__(self) -> None:
        self.keyword: list[tuple[str, float]] = []
        self.vector: list[VectorHit] = []
        self.similarity_of: Similarity | None = None
        self.degraded: str | None = None
        self.fingerprint: str | None = None


def _channels(
    db: StoreDB, query: str, words: QueryTerms, keyword_text: str, *,
    basic: bool, category: str | None, source: str | None, disable: Collection[str],
) -> _Channels:
    found = _Channels()
    if "keyword" not in disable:
        found.keyword = keyword_search(db.main.conn, keyword_text, limit=CANDIDATES, category=category, source=source)
    found.fingerprint = db.setting("embedder")
    if basic or "vector" in disable:
        return found
    if found.fingerprint is None:
        found.degraded = "no embeddings yet: run 'memman scheduler drain'"
        return found
    try:
        found.vector, found.similarity_of = vector_hits(
            db, query, found.fingerprint, words, category=category, source=source, disable=disable
        )
    except MemmanError as exc:
        found.degraded = f"vector recall unavailable: {exc}"
    return found


def _base_signals(rows: dict[str, MemoryRow], found: _Channels, words: QueryTerms, wanted: set[str]) -> dict[str, Signals]:
    """Every candidate's signals before graph expansion."""
    keyword_rank = {memory_id: rank for rank, (memory_id, _) in enumerate(found.keyword, start=1)}
    vector = {h.memory_id: (rank, h) for rank, h in enumerate(found.vector, start=1)}
    by_recency = sorted(rows.values(), key=lambda r: (r.updated_at, r.key), reverse=True)
    recency_rank = {row.id: rank for rank, row in enumerate(by_recency, start=1)}
    known = words.known()
    out: dict[str, Signals] = {}
    for row in rows.values():
        v = vector.get(row.id)
        entity = len(wanted & {e.casefold() for e in row.entities}) / len(wanted) if wanted else 0.0
        out[row.id] = Signals(
            keyword=round(coverage(words, row.key), 4),
            keyword_rank=keyword_rank.get(row.id),
            vector_rank=None if v is None else v[0],
            similarity=None if v is None else round(v[1].cosine, 4),
            vector_z=None if v is None else round(v[1].z, 3),
            recency_rank=recency_rank.get(row.id),
            entity=round(entity, 4),
            known=round(known, 4),
        )
    return out


def values(s: Signals, importance: int, disable: Collection[str] = ()) -> dict[str, float]:
    """The named signal values fusion weighs (memman/recall/fusion.py),
    without the disabled ones."""
    out = {
        "keyword": s.keyword,
        "keyword_rank": rank_prior(s.keyword_rank, KEYWORD_SPREAD),
        "vector": s.similarity or 0.0,
        "vector_z": min(max(s.vector_z or 0.0, 0.0), 6.0),
        "entity": s.entity,
        "graph": s.graph,
        "recency": rank_prior(s.recency_rank, RECENCY_SPREAD),
        "importance": (importance - 3) / 2,
        "known": s.known,
    }
    for name in disable:
        out.pop(name, None)
    if "keyword" in disable:
        out.pop("keyword_rank", None)
    if "vector" in disable:
        out.pop("vector_z", None)
    return out


def _expand(
    db: StoreDB, rows: dict[str, MemoryRow], signals: dict[str, Signals], found: _Channels, intent: str,
    *, category: str | None, source: str | None,
) -> int:
    """Graph expansion from the candidates: adds the graph signal (and the
    memories only the graph reaches) in place; returns nodes traversed."""
    import msgspec

    anchors = {i: signals[i].anchor for i in signals if rows[i].status == "active"}
    top = max(anchors.values(), default=0.0)
    if top <= 0:
        return 0
    reached, traversed = beam.search(db.main.conn, {i: a / top for i, a in anchors.items()}, intent, found.similarity_of)
    extra = memories_by_id(db.main.conn, [i for i, r in reached.items() if i not in rows and r.score >= beam.MIN_RESULT_SCORE])
    for memory_id, row in extra.items():
        if row.status == "active" and not (category and row.category != category) and not (source and row.source != source):
            rows[memory_id] = row
            known = next(iter(signals.values())).known
            signals[memory_id] = Signals(known=known)
    sims = found.similarity_of([i for i in extra if i in rows]) if found.similarity_of else {}
    for memory_id, r in reached.items():
        if memory_id in signals:
            sim = sims.get(memory_id)
            extra_fields = {"similarity": round(sim, 4)} if sim is not None and signals[memory_id].similarity is None else {}
            signals[memory_id] = msgspec.structs.replace(
                signals[memory_id], graph=round(r.score, 4), via=f"{r.edge_type}:{r.via}", **extra_fields
            )
    return traversed


def recall(
    db: StoreDB,
    store: str,
    query: str,
    *,
    limit: int = 10,
    category: str | None = None,
    source: str | None = None,
    basic: bool = False,
    graph: bool | None = None,
    intent: str | None = None,
    expansion: Sequence[str] = (),  # `--expand`: extra keyword terms from the LLM (memman/recall/llm.py)
    min_score: float = DEFAULT_MIN_SCORE,
    order: str = "score",
    disable: Collection[str] = (),  # names in SIGNALS to switch off (benchmark ablations)
) -> RecallResult:
    import msgspec

    from workers.stages.extract import extract_entities
    from workers.stages.reconcile import named

    unknown = set(disable) - set(SIGNALS)
    if unknown:
        raise BadInput(f"unknown recall signal(s) {sorted(unknown)}; choose from {', '.join(SIGNALS)}")
    started = time.perf_counter()
    entities = extract_entities(query)
    chosen: Intent = intent if intent else detect(query, entities)  # type: ignore[assignment]
    use_graph = (GRAPH_DEFAULT[chosen] if graph is None else graph) and not basic
    words = query_terms(db.main.conn, query)
    found = _channels(
        db, query, words, " ".join([query, *expansion]), basic=basic, category=category, source=source, disable=disable
    )
    rows = memories_by_id(db.main.conn, list(dict.fromkeys([*(i for i, _ in found.keyword), *(h.memory_id for h in found.vector)])))
    signals = _base_signals(rows, found, words, set() if "entity" in disable else named(entities))
    score = lambda i: probability(values(signals[i], rows[i].importance, disable))  # noqa: E731
    signals = {i: msgspec.structs.replace(s, anchor=round(score(i), 4)) for i, s in signals.items()}
    traversed = _expand(db, rows, signals, found, chosen, category=category, source=source) if use_graph and signals else 0
    scored = sorted(((score(i), i) for i in signals), key=lambda t: (-t[0], t[1]))
    best = scored[0][0] if scored else 0.0
    hits = [_hit(rows[i], p, signals[i]) for p, i in scored if p >= min_score][:limit]
    results, ordering = order_hits(db, hits, chosen, rows, order)
    meta = RecallMeta(
        query=query,
        store=store,
        mode="basic" if basic else "hybrid",
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        keyword_hits=len(found.keyword),
        vector_hits=len(found.vector),
        pending=sum(1 for h in results if h.status == "pending"),
        fingerprint=found.fingerprint,
        degraded=found.degraded,
        intent=chosen,
        entities=entities,
        anchors=len(signals),
        traversed=traversed,
        graph=use_graph,
        ordering=ordering,
        sparse=len(results) < min(limit, 3) or best < SPARSE_SCORE,
        hint=_hint(results, best, min_score, basic, found.degraded),
        confidence=round(best, 4),
        min_score=min_score,
    )
    return RecallResult(results=results, meta=meta)


def _hint(results: list[RecallHit], best: float, min_score: float, basic: bool, degraded: str | None) -> str | None:
    if not results and best > 0:
        return (
            f"nothing relevant enough: the best match scored {best:.2f}, below --min-score {min_score:.2f};"
            " lower --min-score to see weak matches"
        )
    if not results:
        return "nothing matched: try other words, or remember it if it is worth keeping"
    if degraded:
        return "keyword only: " + degraded
    if best < SPARSE_SCORE:
        return "weak matches only: check them before relying on them"
    if basic:
        return "keyword only: drop --basic to match by meaning too"
    return None


def _hit(row: MemoryRow, score: float, signals: Signals) -> RecallHit:
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
        signals=signals,
    )
