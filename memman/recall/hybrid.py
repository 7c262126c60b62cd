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
   Session neighbours (memman/recall/expand.py) and hops (memman/recall/hop.py:
   memories sharing a rare word with the best candidates) are on by default.
4. Score: a calibrated probability of relevance from the named signals
   (memman/recall/fusion.py); for every embedder but the static one the
   vector signal enters on the static scale (memman/recall/vector.py
   `comparable`). Results below `min_score` are dropped; `meta.confidence`
   is the best score. The last quarter of the shown list goes to the best
   memories a hop reached (`_hop_slots`).
5. Order: by score for every intent; `order="time"` is chronological; a why
   question may put a cause right before its effect (memman/recall/order.py).

Pending (not yet drained) memories have no vector and no edges; they are
found by keyword and returned with status "pending".
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import datetime

from events.clock import to_iso
from events.errors import BadInput, MemmanError
from memman.lifecycle.retention import importance_weigher
from memman.recall import beam, dates, scripts, window
from memman.recall.fusion import DEFAULT_MIN_SCORE, WEIGHTS, logit, probability, rank_prior
from memman.recall.intent import Intent, detect
from memman.recall.order import order as order_hits
from memman.recall.terms import QueryTerms, coverage, memory_count, query_terms
from memman.recall.expand import session_neighbours
from memman.recall.hop import shared_rare_words
from memman.recall.story import story_links
from memman.recall.vector import DEFAULT_MIN_COSINE, MIN_COSINE, STEPS, Scores, VectorHit, comparable, vector_hits
from memman.output.results import DateWindow, RecallHit, RecallMeta, RecallResult, Signals
from projections.fts import WordCounts
from projections.queries import MemoryRow, keyword_search, memories_by_id
from projections.store import StoreDB

CANDIDATES = 50
KEYWORD_SPREAD = 5.0  # keyword_rank prior: 1/2 at bm25 rank 6
RECENCY_SPREAD = 10.0
# Where graph expansion is on by default: only where the benchmark shows it wins
# (docs/recall-benchmark.md). --graph forces it anywhere.
GRAPH_DEFAULT = {"why": False, "when": False, "entity": False, "general": False}
NEIGHBOURS_DEFAULT = True  # session-neighbour expansion (memman/recall/expand.py)
# Shared-rare-word expansion across sessions (memman/recall/hop.py); not for a
# question that names a period: it asks about all of that period, which the
# date window widens to, and hops there cost temporal all@10 on the tuning half.
HOPS_DEFAULT = True
HOP_SLOTS = 3  # the last places of a shown list kept for memories a hop reached ...
HOP_SLOTS_SHARE = 4  # ... at most a quarter of it (2 of 10)
HOP_WEIGHT = 3.0  # how much a hop counts when choosing those (added to the fused logit)
# A neighbour counts only if it says something about the query itself: a query
# word, or a vector similarity this far above the store's mean.
NEIGHBOUR_MIN_Z = 1.0
SPARSE_SCORE = 0.5
# What `recall(disable=...)` can switch off, for ablations (tools/recall_bench):
# "keyword" and "vector" drop that candidate list (and its signals), any other
# fusion signal drops out of the score ("neighbour" also skips its expansion),
# the vector channel's own steps (centring, store word weights, the per-store
# floor) fall back to plain, "retention" leaves effective importance out of the
# order (memman/lifecycle/retention.py), "story" skips the story links
# (memman/recall/story.py; "hop" skips both) and "succession" skips the stale-value
# step after scoring (memman/recall/succession.py, run by memman/service.py).
SIGNALS = tuple(dict.fromkeys(["keyword", "vector", *WEIGHTS, "hop", "story", *STEPS, "retention", "succession"]))


class _Found:
    """What the candidate lists (and expansions) found for one query."""

    def __init__(self, words: QueryTerms, wanted: set[str]) -> None:
        self.words = words
        self.wanted = wanted
        self.keyword: list[tuple[str, float]] = []
        self.vector: list[VectorHit] = []
        self.scores: Scores | None = None
        self.degraded: str | None = None
        self.fingerprint: str | None = None
        self.rows: dict[str, MemoryRow] = {}
        self.graph: dict[str, beam.Reached] = {}
        self.neighbour: dict[str, float] = {}
        self.hop: dict[str, float] = {}
        self.date: dict[str, float] = {}
        self.expanded: set[str] = set()  # memories only an expansion brought in
        self.traversed = 0


def _memories(db: StoreDB, version: object) -> int:
    """The memories projection's row count, kept while its checkpoints hold
    (counting walks an index of every row: ~9 ms at 1M, per recall)."""
    return db.kept("memories:count", version, lambda: memory_count(db.main.conn))


def _counts(db: StoreDB, version: object) -> WordCounts:
    """How many memories say each word, held while the projection's
    checkpoints hold (projections/fts.py `WordCounts`): a word's count
    changes only when memories do, and at 1M counting a common word costs
    milliseconds ("service": 237k memories) each time a statement needs it."""
    return WordCounts(db.main.conn, held=db.kept("fts:counts", version, dict))


def _channels(
    db: StoreDB, query: str, found: _Found, keyword_text: str, *,
    basic: bool, category: str | None, source: str | None, disable: Collection[str],
) -> None:
    if "keyword" not in disable:
        found.keyword = keyword_search(
            db.main.conn, keyword_text, limit=CANDIDATES, category=category, source=source, counts=found.words.counts
        )
    found.fingerprint = db.setting("embedder")
    if not (basic or "vector" in disable):
        if found.fingerprint is None:
            found.degraded = "no embeddings yet: run 'memman scheduler drain'"
        else:
            try:
                found.vector, found.scores = vector_hits(
                    db, query, found.fingerprint, found.words, category=category, source=source, disable=disable
                )
                agree = {i for i, _ in scripts.agreeing(
                    db.main.conn, query, found.fingerprint, [(h.memory_id, h.cosine) for h in found.vector]
                )}  # fmt: skip
                found.vector = [h for h in found.vector if h.memory_id in agree]
            except MemmanError as exc:
                found.degraded = f"vector recall unavailable: {exc}"
    ids = [*(i for i, _ in found.keyword), *(h.memory_id for h in found.vector)]
    found.rows = memories_by_id(db.main.conn, list(dict.fromkeys(ids)))


def _window(
    db: StoreDB, found: _Found, when: dates.DateQuery, keyword_text: str, *,
    limit: int, category: str | None, source: str | None,
) -> None:
    """Memories from the window the question names join the candidates
    (memman/recall/window.py): in-window keyword and vector matches the
    global lists missed, then the window's newest when those are few."""
    floor = MIN_COSINE.get((found.fingerprint or "").split(":", 1)[0], DEFAULT_MIN_COSINE)
    extra = window.hits(
        db.main.conn, when, keyword_text, found.scores.cosine if found.scores else None, floor=floor, limit=limit,
        known=list(found.rows), category=category, source=source,
    )  # fmt: skip
    found.keyword += [(i, 0.0) for i in extra.keyword]
    scores = found.scores
    found.vector += [VectorHit(i, c, scores.z(c) if scores else 0.0) for i, c in extra.vector]
    _admit(found, memories_by_id(db.main.conn, [*extra.keyword, *(i for i, _ in extra.vector), *extra.plain]), category, source)
    found.expanded.difference_update([*extra.keyword, *(i for i, _ in extra.vector), *extra.plain])


def _signals(found: _Found) -> dict[str, Signals]:
    """Every candidate's signals from what is found so far."""
    keyword_rank = {memory_id: rank for rank, (memory_id, _) in enumerate(found.keyword, start=1)}
    vector = {h.memory_id: (rank, h) for rank, h in enumerate(found.vector, start=1)}
    by_recency = sorted(found.rows.values(), key=lambda r: (r.updated_at, r.key), reverse=True)
    recency_rank = {row.id: rank for rank, row in enumerate(by_recency, start=1)}
    found.words.learn(row.key for row in found.rows.values())  # which candidates say the common query words, at once
    known = found.words.known()
    if known == 0 and found.keyword:  # the keyword index matched something this word count missed
        known = 1.0 / max(1, len(found.words.words))
    others = [i for i in found.rows if i not in vector]
    cosine = found.scores.cosine(others) if found.scores is not None and others else {}
    out: dict[str, Signals] = {}
    names: dict[str, str] = {}
    for row in found.rows.values():
        v = vector.get(row.id)
        sim = v[1].cosine if v else cosine.get(row.id)
        z = v[1].z if v else (found.scores.z(sim) if found.scores is not None and sim is not None else None)
        reached = found.graph.get(row.id)
        said = coverage(found.words, row.key)
        near = found.neighbour.get(row.id, 0.0) if said > 0 or (z or 0.0) >= NEIGHBOUR_MIN_Z else 0.0
        hop = found.hop.get(row.id, 0.0)
        if row.id in found.expanded and not (near or reached or hop):
            continue  # a neighbour that says nothing about the query is not a result
        out[row.id] = Signals(
            keyword=round(said, 4),
            keyword_rank=keyword_rank.get(row.id),
            vector_rank=None if v is None else v[0],
            similarity=None if sim is None else round(sim, 4),
            vector_z=None if z is None else round(z, 3),
            recency_rank=recency_rank.get(row.id),
            entity=_entity(row, found.wanted, names),
            known=round(known, 4),
            graph=0.0 if reached is None else round(reached.score, 4),
            via=None if reached is None else f"{reached.edge_type}:{reached.via}",
            neighbour=round(near, 4),
            hop=round(hop, 4),
            date=found.date.get(row.id) if found.date else None,
        )
    return out


def _entity(row: MemoryRow, wanted: set[str], names: dict[str, str]) -> float:
    """The share of the query's named entities (canonical: "postgresql") the
    memory names, its entities as stored ("Postgres") made canonical too;
    `names` memoises that for one query (most candidates share a name)."""
    if not wanted:
        return 0.0
    from workers.entities.aliases import canonical

    said = {names[e] if e in names else names.setdefault(e, canonical(e)) for e in row.entities}
    return round(len(wanted & said) / len(wanted), 4)


def values(s: Signals, importance: int, disable: Collection[str] = (), provider: str = "static") -> dict[str, float]:
    """The named signal values fusion weighs (memman/recall/fusion.py),
    without the disabled ones; `provider` is the store's embedder's
    (memman/recall/vector.py `comparable`: the same scale for every embedder)."""
    out = {
        "keyword": s.keyword,
        "keyword_rank": rank_prior(s.keyword_rank, KEYWORD_SPREAD),
        "vector": comparable(s.similarity, s.vector_z, provider),
        "vector_z": min(max(s.vector_z or 0.0, 0.0), 6.0),
        "entity": s.entity,
        "graph": s.graph,
        "neighbour": s.neighbour,
        "date": s.date or 0.0,
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


def _provider(found: _Found) -> str:
    return (found.fingerprint or "static").split(":", 1)[0]


def _score(row: MemoryRow, s: Signals, basic: bool, disable: Collection[str], provider: str) -> float:
    """A pending memory has no vector yet: the keyword-only model (fitted for
    exactly that case, `recall --basic`) scores it, so a text remembered a
    moment ago that says the query's words ranks as it should."""
    return probability(values(s, row.importance, disable, provider), basic=basic or row.status == "pending")


def _final(  # type: ignore[no-untyped-def]
    row: MemoryRow, s: Signals, basic: bool, disable: Collection[str], provider: str, weigh
) -> float:
    """The score recall sorts by: the calibrated probability times effective
    importance (capped at 1)."""
    return min(1.0, _score(row, s, basic, disable, provider) * weigh(row))


def _hop_slots(
    scored: list[tuple[float, str]], signals: dict[str, Signals], rows: dict[str, MemoryRow], shown: int,
    disable: Collection[str], provider: str,
) -> list[tuple[float, str]]:
    """The best-first list with its last places (of the `shown` first) given
    to the best memories a hop reached that are not above them already:
    evidence a question needs besides its best match, where it costs only
    the weakest shown results (memman/recall/hop.py)."""
    slots = min(HOP_SLOTS, shown // HOP_SLOTS_SHARE)
    head = scored[: max(0, shown - slots)]
    taken = {i for _, i in head}
    reached = sorted(
        ((logit(values(signals[i], rows[i].importance, disable, provider)) + HOP_WEIGHT * signals[i].hop, p, i)
         for p, i in scored if i not in taken and signals[i].hop > 0),
        key=lambda t: (-t[0], t[2]),
    )[:slots]  # fmt: skip
    picked = {i for _, _, i in reached}
    return head + [(p, i) for _, p, i in reached] + [(p, i) for p, i in scored if i not in taken and i not in picked]


def _admit(found: _Found, rows: dict[str, MemoryRow], category: str | None, source: str | None) -> None:
    for memory_id, row in rows.items():
        if memory_id in found.rows or row.status != "active":
            continue
        if (category and row.category != category) or (source and row.source != source):
            continue
        found.rows[memory_id] = row
        found.expanded.add(memory_id)


def _expand(
    db: StoreDB, found: _Found, anchor: dict[str, float], intent: str, *,
    graph: bool, neighbours: bool, hops: bool, stories: bool, category: str | None, source: str | None,
) -> None:
    """Graph and session-neighbour expansion from the scored candidates."""
    active = {i: a for i, a in anchor.items() if found.rows[i].status == "active"}
    top = max(active.values(), default=0.0)
    if top <= 0:
        return
    if graph:
        similarity = found.scores.cosine if found.scores is not None else None
        reached, found.traversed = beam.search(db.main.conn, {i: a / top for i, a in active.items()}, intent, similarity)
        found.graph = {i: r for i, r in reached.items() if i in found.rows or r.score >= beam.MIN_RESULT_SCORE}
        _admit(found, memories_by_id(db.main.conn, [i for i in found.graph if i not in found.rows]), category, source)
    if neighbours:
        found.neighbour, rows = session_neighbours(db.main.conn, [(found.rows[i], a) for i, a in active.items()])
        _admit(found, rows, category, source)
    if hops:
        found.hop, rows = shared_rare_words(db.main.conn, [(found.rows[i], a) for i, a in active.items()], found.words)
        _admit(found, rows, category, source)
    if hops and stories:  # a story's other tellings compete for the same places as hops
        linked, rows = story_links(db.main.conn, [(found.rows[i], a) for i, a in active.items()])
        for memory_id, value in linked.items():
            found.hop[memory_id] = max(found.hop.get(memory_id, 0.0), value)
        _admit(found, rows, category, source)


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
    today: datetime | None = None,  # what "yesterday" is relative to: --as-of or now (memman/recall/dates.py)
    disable: Collection[str] = (),  # names in SIGNALS to switch off (benchmark ablations)
    shown: int | None = None,  # how many of `limit` the caller will show (the service asks a few more)
) -> RecallResult:
    import msgspec

    from workers.entities import aliases
    from workers.stages.extract import extract_entities
    from workers.stages.reconcile import named

    unknown = set(disable) - set(SIGNALS)
    if unknown:
        raise BadInput(f"unknown recall signal(s) {sorted(unknown)}; choose from {', '.join(SIGNALS)}")
    started = time.perf_counter()
    when = dates.find(query, today) if today is not None and "date" not in disable else None
    semantic = when.rest if when else query  # the date phrase only says when: not what to match by meaning
    entities = extract_entities(semantic)
    chosen: Intent = intent if intent else detect(query, entities)  # type: ignore[assignment]
    use_graph = (GRAPH_DEFAULT[chosen] if graph is None else graph) and not basic
    literal = when.keyword_text if when else query
    version = db.main.checkpoints()
    counts = _counts(db, version)
    found = _Found(query_terms(db.main.conn, literal, _memories(db, version), counts), set() if "entity" in disable else named(entities))
    keyword_text = " ".join([literal, *aliases.expansion(semantic), *expansion])
    _channels(db, semantic, found, keyword_text, basic=basic, category=category, source=source, disable=disable)
    if when is not None:
        _window(db, found, when, keyword_text, limit=limit, category=category, source=source)
        found.date = window.signal(when, found.rows.values())
    signals = _signals(found)
    provider = _provider(found)
    anchor = {i: _score(found.rows[i], s, basic, disable, provider) for i, s in signals.items()}
    neighbours = NEIGHBOURS_DEFAULT and not basic and "neighbour" not in disable
    hops = HOPS_DEFAULT and not basic and "hop" not in disable and when is None
    if (use_graph or neighbours or hops) and anchor:
        _expand(
            db, found, anchor, chosen, graph=use_graph, neighbours=neighbours, hops=hops,
            stories="story" not in disable, category=category, source=source,
        )
        if when is not None:
            found.date = window.signal(when, found.rows.values())
        signals = _signals(found)
    weigh = (lambda _row: 1.0) if "retention" in disable else importance_weigher(db, found.rows.values())
    scored = sorted(
        ((_final(found.rows[i], s, basic, disable, provider, weigh), i) for i, s in signals.items()),
        key=lambda t: (-t[0], t[1]),
    )
    best = scored[0][0] if scored else 0.0
    if hops and found.hop:
        scored = _hop_slots(scored, signals, found.rows, shown or limit, disable, provider)
    kept = [(p, i) for p, i in scored if p >= min_score][:limit]  # hundreds are scored: build only the shown
    hits = [
        _hit(found.rows[i], p, msgspec.structs.replace(signals[i], anchor=round(anchor.get(i, 0.0), 4)))
        for p, i in kept
    ]
    results, ordering = order_hits(db, hits, chosen, found.rows, order)
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
        anchors=len(anchor),
        traversed=found.traversed,
        graph=use_graph,
        ordering=ordering,
        sparse=len(results) < min(limit, 3) or best < SPARSE_SCORE,
        hint=_hint(results, best, min_score, basic, found.degraded),
        confidence=round(best, 4),
        min_score=min_score,
        window=None if when is None else DateWindow(start=to_iso(when.start), end=to_iso(when.end), phrases=when.phrases),
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
        occurred_at=row.occurred_at,
        status=row.status,
        signals=signals,
        recorded_at=row.recorded_at,
        valid_until=row.valid_to,
        superseded_by=row.superseded_by,
    )
