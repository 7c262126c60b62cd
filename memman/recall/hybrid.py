"""Intent-aware hybrid recall.

1. Anchors: keyword (FTS5 bm25), vector similarity and recency, fused with
   reciprocal rank fusion (K = 60):  anchor(m) = sum_L w_L / (K + rank_L(m)),
   scaled to 0..1. Candidates come from the keyword and vector lists only:
   recency re-ranks them and never brings in a memory that matched nothing,
   so a query about something unknown returns nothing, not the newest rows.
   Vector candidates must clear the embedder's similarity floor.
2. Intent (why / when / entity / general, or --intent) and query entities,
   from the same extractor the drain uses.
3. Beam search from the anchors over the graph with the intent's edge weights
   (memman/recall/beam.py); reached memories enter with a graph score.
4. Final score, an intent-weighted blend of the signals, every one reported
   per result in --json:
       score = w_anchor x prior + w_entity x entity overlap + w_graph x graph
       x (1 + 0.05 x (importance - 3))
   where prior = 1 / (1 + (fused rank - 1) / 5): RRF decides the anchors'
   order, the prior gives that order a slope graph evidence can move.
5. Order: why -> causes before effects (topological over causal edges among
   the results); when -> chronological by occurred_at; otherwise by score.

Pending (not yet drained) memories have no vector and no edges; they are
found by keyword and returned with status "pending".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from events.errors import BadInput, MemmanError
from memman.recall import beam, dates, scripts, window
from memman.recall.intent import Intent, detect
from events.clock import to_iso
from memman.results import DateWindow, RecallHit, RecallMeta, RecallResult, Signals
from projections.queries import MemoryRow, keyword_search, memories_by_id
from projections.store import StoreDB
from projections.vectors import matrix

RRF_K = 60
CANDIDATES = 50
WEIGHTS = {"keyword": 1.0, "vector": 1.0, "recency": 0.25}
# Cosine floors below which a vector-only match is noise, per embedder provider.
# static: its calibration pairs put unrelated texts at <= 0.15 and paraphrases
# down to 0.28; 0.30 measured best on both tools/eval_embedders.py (paraphrase
# hit@10 0.58 -> 0.67 against 0.35) and tools/bench_graph.py (R@10 -0.004).
MIN_SIMILARITY = {"static": 0.30, "hashing": 0.35, "onnx": 0.35, "openai": 0.3, "voyage": 0.3}
DEFAULT_MIN_SIMILARITY = 0.5
BLEND: dict[str, dict[str, float]] = {  # per intent: anchor prior, entity overlap, graph
    "why": {"anchor": 0.5, "entity": 0.1, "graph": 0.6},
    "when": {"anchor": 0.5, "entity": 0.1, "graph": 0.6},
    "entity": {"anchor": 0.45, "entity": 0.2, "graph": 0.35},
    "general": {"anchor": 0.55, "entity": 0.1, "graph": 0.35},
}
# The anchor prior falls with the fused (RRF) rank: 1 at rank 1, 1/2 at rank 6.
# RRF values themselves are nearly flat (rank 30 keeps ~2/3 of rank 1's), which
# would leave graph evidence nothing to move.
PRIOR_SPREAD = 5.0
# Where graph expansion is on by default: only where tools/bench_graph.py shows
# it wins (README, "Recall and the memory graph"). --graph forces it anywhere.
GRAPH_DEFAULT = {"why": True, "when": True, "entity": False, "general": False}
SPARSE_SCORE = 0.25
# Signals `recall(disable=...)` can switch off, for ablations (tools/recall_bench):
# keyword and vector drop that candidate list, recency its rank from the fusion,
# entity the entity-overlap term, date the query's dates (no window, no date
# signal; memman/recall/window.py). Graph expansion has its own switch (`graph`).
SIGNALS = ("keyword", "vector", "recency", "entity", "date")

Similarity = Callable[[list[str]], dict[str, float]]


def _floor(fingerprint: str | None) -> float:
    provider = (fingerprint or "").split(":", 1)[0]
    return MIN_SIMILARITY.get(provider, DEFAULT_MIN_SIMILARITY)


def _rrf(rank: int | None, weight: float) -> float:
    return 0.0 if rank is None else weight / (RRF_K + rank)


def _vector_hits(
    db: StoreDB, query: str, fingerprint: str, *, category: str | None, source: str | None
) -> tuple[list[tuple[str, float]], Similarity]:
    """Vector candidates (active, filtered, above the floor), and a lookup of
    the query's similarity to any memory, for the graph walk."""
    import numpy as np

    from workers.embedders import embedder_for

    nothing: Similarity = lambda ids: {}  # noqa: E731
    if fingerprint.split(":", 1)[0] in ("static", "hashing"):  # shipped, instant: no config, no cache
        q = embedder_for(fingerprint).embed([query], kind="query")[0]
    else:  # onnx or remote: the store's settings, a query cache, and (remote) a time budget
        from memman.embed import query_vector

        q = query_vector(db, query, fingerprint)
    if not q.any():
        return [], nothing
    ids, rows = matrix(db.vectors.conn, db.directory, fingerprint)
    if not ids:
        return [], nothing
    scores = rows @ q
    if not np.isfinite(scores).all():  # flipped bytes in the flat cache: check it, rebuild it if damaged
        ids, rows = matrix(db.vectors.conn, db.directory, fingerprint, verify=True)
        scores = np.nan_to_num(rows @ q, nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
    floor = _floor(fingerprint)
    order = np.argsort(-scores)[: CANDIDATES * 4]
    best = [(ids[i], float(scores[i])) for i in order if scores[i] >= floor]
    found = memories_by_id(db.main.conn, [i for i, _ in best])
    kept = []
    for memory_id, similarity in best:
        row = found.get(memory_id)
        if row is None or row.status != "active":
            continue
        if (category and row.category != category) or (source and row.source != source):
            continue
        kept.append((memory_id, similarity))
    position: dict[str, int] = {}

    def similarity_of(wanted: list[str]) -> dict[str, float]:
        if not position:
            position.update((memory_id, n) for n, memory_id in enumerate(ids))
        return {i: float(scores[position[i]]) for i in wanted if i in position}

    return kept[:CANDIDATES], similarity_of


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
    today: datetime | None = None,  # what "yesterday" is relative to: --as-of or now (memman/recall/dates.py)
    disable: Collection[str] = (),  # signals in SIGNALS to switch off (benchmark ablations)
) -> RecallResult:
    from workers.entities import aliases
    from workers.stages.extract import extract_entities
    from workers.stages.reconcile import named

    unknown = set(disable) - set(SIGNALS)
    if unknown:
        raise BadInput(f"unknown recall signal(s) {sorted(unknown)}; choose from {', '.join(SIGNALS)}")
    started = time.perf_counter()
    when = dates.find(query, today) if today is not None and "date" not in disable else None
    semantic_query = when.rest if when else query  # the date phrase only says when: not what to embed
    entities = extract_entities(semantic_query)
    chosen: Intent = intent if intent else detect(query, entities)  # type: ignore[assignment]
    use_graph = (GRAPH_DEFAULT[chosen] if graph is None else graph) and not basic

    keyword_text = " ".join([when.keyword_text if when else query, *aliases.expansion(semantic_query), *expansion])
    keyword = (
        [] if "keyword" in disable
        else keyword_search(db.main.conn, keyword_text, limit=CANDIDATES, category=category, source=source)
    )
    fingerprint = db.setting("embedder")
    vector: list[tuple[str, float]] = []
    similarity_of: Similarity | None = None
    degraded = None
    if not basic and "vector" not in disable:
        if fingerprint is None:
            degraded = "no embeddings yet: run 'memman scheduler drain'"
        else:
            try:
                vector, similarity_of = _vector_hits(db, semantic_query, fingerprint, category=category, source=source)
                vector = scripts.agreeing(db.main.conn, semantic_query, fingerprint, vector)
            except MemmanError as exc:
                degraded = f"vector recall unavailable: {exc}"

    in_window: list[str] = []
    if when is not None:  # memories from the window the question names join the candidates
        extra = window.hits(
            db.main.conn, when, keyword_text, similarity_of, floor=_floor(fingerprint), limit=limit,
            known=[i for i, _ in [*keyword, *vector]], category=category, source=source,
        )  # fmt: skip
        keyword = keyword + [(i, 0.0) for i in extra.keyword]
        vector = vector + extra.vector
        in_window = extra.plain
    keyword_rank = {memory_id: rank for rank, (memory_id, _) in enumerate(keyword, start=1)}
    vector_rank = {memory_id: rank for rank, (memory_id, _) in enumerate(vector, start=1)}
    similarity = dict(vector)
    rows = memories_by_id(db.main.conn, list(dict.fromkeys([*keyword_rank, *vector_rank, *in_window])))
    by_recency = sorted(rows.values(), key=lambda r: (r.updated_at, r.key), reverse=True)
    recency_rank = {row.id: rank for rank, row in enumerate(by_recency, start=1)}
    w_recency = 0.0 if "recency" in disable else WEIGHTS["recency"]
    ceiling = (WEIGHTS["keyword"] + w_recency + (0 if basic else WEIGHTS["vector"])) / (RRF_K + 1)
    anchor = {
        row.id: (
            _rrf(keyword_rank.get(row.id), WEIGHTS["keyword"])
            + _rrf(vector_rank.get(row.id), WEIGHTS["vector"])
            + _rrf(recency_rank.get(row.id), w_recency)
        )
        / ceiling
        for row in rows.values()
    }

    by_fused = sorted(anchor, key=lambda i: (-anchor[i], i))
    prior = {memory_id: 1.0 / (1.0 + n / PRIOR_SPREAD) for n, memory_id in enumerate(by_fused)}
    reached: dict[str, beam.Reached] = {}
    traversed = 0
    if use_graph and anchor:
        active_anchors = {i: s for i, s in prior.items() if rows[i].status == "active"}
        reached, traversed = beam.search(db.main.conn, active_anchors, chosen, similarity_of)
        reached = {
            i: r for i, r in reached.items() if i in anchor or r.score >= beam.MIN_RESULT_SCORE
        }  # a memory found only through the graph must clear the floor
        extra = memories_by_id(db.main.conn, [i for i in reached if i not in rows])
        for memory_id, row in extra.items():
            if row.status != "active" or (category and row.category != category) or (source and row.source != source):
                reached.pop(memory_id, None)
            else:
                rows[memory_id] = row
        if similarity_of is not None:
            similarity.update({k: v for k, v in similarity_of([i for i in reached if i not in similarity]).items()})

    wanted = set() if "entity" in disable else named(entities)
    blend = BLEND[chosen]
    dated = window.signal(when, rows.values())
    hits: list[RecallHit] = []
    for row in rows.values():
        if row.id not in anchor and row.id not in reached:
            continue
        entity = len(wanted & named(row.entities)) / len(wanted) if wanted else 0.0
        graph_score = reached[row.id].score if row.id in reached else 0.0
        w_entity = blend["entity"] if wanted else 0.0
        w_graph = blend["graph"] if use_graph else 0.0
        date = dated.get(row.id)
        w_date = window.DATE_WEIGHT if dated else 0.0
        total = blend["anchor"] + w_entity + w_graph + w_date
        score = (
            blend["anchor"] * prior.get(row.id, 0.0) + w_entity * entity + w_graph * graph_score + w_date * (date or 0.0)
        ) / total
        score *= 1 + 0.05 * (row.importance - 3)
        signals = Signals(
            keyword_rank=keyword_rank.get(row.id),
            vector_rank=vector_rank.get(row.id),
            similarity=None if row.id not in similarity else round(similarity[row.id], 4),
            recency_rank=recency_rank.get(row.id),
            anchor=round(anchor.get(row.id, 0.0), 4),
            entity=round(entity, 4),
            graph=round(graph_score, 4),
            via=None if row.id not in reached else f"{reached[row.id].edge_type}:{reached[row.id].via}",
            date=date,
        )
        hits.append(_hit(row, score, signals))
    hits.sort(key=lambda h: (-h.score, h.id))
    results, ordering = _order(db, hits[:limit], chosen, rows)
    top = results[0].score if results else 0.0
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
        intent=chosen,
        entities=entities,
        anchors=len(anchor),
        traversed=traversed,
        graph=use_graph,
        ordering=ordering,
        sparse=len(results) < min(limit, 3) or top < SPARSE_SCORE,
        hint=_hint(results, top, basic, degraded),
        window=None if when is None else DateWindow(start=to_iso(when.start), end=to_iso(when.end), phrases=when.phrases),
    )
    return RecallResult(results=results, meta=meta)


def _order(db: StoreDB, hits: list[RecallHit], intent: str, rows: dict[str, MemoryRow]) -> tuple[list[RecallHit], str]:
    if intent == "when":
        return sorted(hits, key=lambda h: (rows[h.id].occurred_at, rows[h.id].key)), "chronological"
    if intent == "why" and len(hits) > 1:
        return _causes_first(db, hits), "causes-first"
    return hits, "score"


def _causes_first(db: StoreDB, hits: list[RecallHit]) -> list[RecallHit]:
    """Topological order over the causal edges among `hits`; ties (and
    anything outside a causal chain) keep their score order."""
    ids = [h.id for h in hits]
    marks = ",".join("?" * len(ids))
    pairs = db.main.conn.execute(
        f"SELECT src, dst FROM edges WHERE edge_type = 'causal' AND src IN ({marks}) AND dst IN ({marks})",
        (*ids, *ids),
    ).fetchall()
    causes: dict[str, set[str]] = {i: set() for i in ids}
    for src, dst in pairs:
        if src != dst:
            causes[dst].add(src)
    ordered: list[RecallHit] = []
    placed: set[str] = set()
    remaining = list(hits)
    while remaining:
        ready = next((h for h in remaining if causes[h.id] <= placed), remaining[0])  # a cycle: take the best
        ordered.append(ready)
        placed.add(ready.id)
        remaining.remove(ready)
    return ordered


def _hint(results: list[RecallHit], top: float, basic: bool, degraded: str | None) -> str | None:
    if not results:
        return "nothing matched: try other words, or remember it if it is worth keeping"
    if degraded:
        return "keyword and recency only: " + degraded
    if top < SPARSE_SCORE:
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
        occurred_at=row.occurred_at,
        status=row.status,
        signals=signals,
    )
