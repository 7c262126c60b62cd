"""Graph operations: `related` (BFS), `stats`, and `rebuild` (re-derive every
inferred edge under the configured policy, with no model calls).

`rebuild` walks the active memories in the order the drain created them,
letting each see only the memories before it (the inferer's horizon), exactly
as a fresh drain would. It appends one `store.configured` edge_policy event
(the graph projection drops inferred edges on it; manual edges stay) followed
by the re-derived edges, all in one transaction, so readers switch at once.
"""

from __future__ import annotations

import json
import time
from collections import Counter, deque
from collections.abc import Callable

import msgspec

from events.errors import BadInput
from events.log import NewEvent
from events.types import EdgesInferred, Provenance, StoreConfigured
from memman import config
from memman.service import Memman
from projections.graph import EDGE_POLICY_SETTING

EDGES_PER_EVENT = 2000


class Neighbour(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    depth: int
    edge_type: str
    weight: float
    via: str  # the memory it was reached from
    content: str
    status: str


class GraphStats(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    policy: str
    edges: dict[str, int]
    manual: int
    memories: int
    linked: int
    mean_degree: float


class RebuildReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    policy: str
    memories: int
    before: dict[str, int]
    after: dict[str, int]
    dry_run: bool
    seconds: float
    skipped: bool = False  # --stale-only and already derived under this policy
    llm: bool = False  # causal edges (and enrichment) re-derived by the LLM too
    reenriched: int = 0


def desired_policy(settings: config.GraphSettings):  # type: ignore[no-untyped-def]
    from workers.stages.edges import EdgePolicy

    return EdgePolicy(
        proximity_window_s=settings.proximity_window_s,
        proximity_cap=settings.proximity_cap,
        entity_cap_per_entity=settings.entity_cap_per_entity,
        entity_cap_per_memory=settings.entity_cap_per_memory,
        semantic_k=settings.semantic_k,
        semantic_threshold=settings.semantic_threshold,
        semantic_skip=settings.semantic == "skip",
        causal_cap=settings.causal_cap,
        causal_min_confidence=settings.causal_min_confidence,
        story_cap=settings.story_cap,
        story_days=settings.story_days,
    )


def related(app: Memman, memory_id: str, *, edge_type: str | None = None, depth: int = 1) -> list[Neighbour]:
    """Breadth-first over edges in both directions, active memories only."""
    if not 1 <= depth <= 5:
        raise BadInput(f"--depth must be 1-5, got {depth}")
    start = app.memory(memory_id).id
    conn = app.db.main.conn
    seen = {start}
    found: list[Neighbour] = []
    queue = deque([(start, 0)])
    type_filter = " AND edge_type = ?" if edge_type else ""
    while queue:
        node, d = queue.popleft()
        if d == depth:
            continue
        args: tuple = (node, edge_type, node, edge_type) if edge_type else (node, node)  # type: ignore[type-arg]
        rows = conn.execute(
            f"SELECT dst, edge_type, weight FROM edges WHERE src = ?{type_filter}"
            f" UNION ALL SELECT src, edge_type, weight FROM edges WHERE dst = ?{type_filter}",
            args,
        ).fetchall()
        for other, kind, weight in sorted(rows, key=lambda r: (-r[2], r[0])):
            if other in seen:
                continue
            row = conn.execute("SELECT content, status FROM memories WHERE id = ?", (other,)).fetchone()
            if row is None or row[1] != "active":
                continue
            seen.add(other)
            found.append(
                Neighbour(id=other, depth=d + 1, edge_type=kind, weight=weight, via=node, content=row[0], status=row[1])
            )
            queue.append((other, d + 1))
    return found


def _counts(app: Memman) -> dict[str, int]:
    from projections.graph import counts_by_type

    return counts_by_type(app.db.main.conn, inferred_only=True)


def stats(app: Memman) -> GraphStats:
    db = app.fresh()
    conn = db.main.conn
    from projections import graph

    edges = graph.counts_by_type(conn)
    manual = graph.count(conn, manual=True)
    memories = conn.execute("SELECT count(*) FROM memories WHERE status = 'active'").fetchone()[0]
    linked = conn.execute(
        f"SELECT count(*) FROM ({graph.LINKED_IDS}) e JOIN memories m ON m.id = e.id WHERE m.status = 'active'"
    ).fetchone()[0]
    from workers.drain import store_policy

    policy = store_policy(db)
    total = sum(edges.values())
    return GraphStats(
        store=app.store,
        policy=policy.key,
        edges=edges,
        manual=manual,
        memories=memories,
        linked=linked,
        mean_degree=round(2 * total / memories, 2) if memories else 0.0,
    )


def rebuild(
    app: Memman,
    *,
    dry_run: bool = False,
    stale_only: bool = False,
    llm: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RebuildReport:
    """Re-derive the inferred edges. `stale_only`: only if the store's edges
    were derived under another policy. `llm`: the configured LLM re-derives
    causal edges (and stale enrichment, via memman.operations.rederive); without it, no
    model is called."""
    from projections.vectors import matrix
    from workers.pending import Pending
    from workers.stages.edges import EdgeInferer, NewMemory
    from workers.vectors.vectorset import VectorSet

    if not dry_run:
        app.ensure_writable()
    started = time.perf_counter()
    db = app.fresh_vectors()
    settings = config.settings_for(app.registry.data_dir, app.store)
    policy = desired_policy(settings.graph)
    causal = None
    if llm:
        if settings.llm.provider == "none":
            raise BadInput("--llm needs an LLM: set llm.provider (see 'memman config show')")
        from workers.pipeline import build_pipeline

        causal = build_pipeline(settings.llm).causal
    recorded = db.setting(EDGE_POLICY_SETTING)
    if stale_only and not llm and recorded == msgspec.json.encode(policy).decode():
        counts = _counts(app)
        return RebuildReport(
            store=app.store, policy=policy.key, memories=0, before=counts, after=counts, dry_run=dry_run,
            seconds=round(time.perf_counter() - started, 3), skipped=True,
        )  # fmt: skip
    fingerprint = db.setting("embedder")
    provider = fingerprint.split(":", 1)[0] if fingerprint else "static"
    ids, rows = matrix(db.vectors.conn, db.directory, fingerprint) if fingerprint else ([], None)
    stored = dict(zip(ids, rows, strict=True)) if ids else {}
    vectors = VectorSet(rows.shape[1] if ids else 1, capacity=len(ids) + 16)  # no vectors: never queried
    pending = Pending()
    inferer = EdgeInferer(db.main.conn, vectors, pending, policy, provider, causal=causal)
    memories = db.main.conn.execute(
        "SELECT key, id, content, entities, source, occurred_at FROM memories WHERE status = 'active' ORDER BY key"
    ).fetchall()
    edges = []
    for done, (key, memory_id, content, entities, source, occurred_at) in enumerate(memories, start=1):
        inferer.horizon = key
        vector = stored.get(memory_id)
        new = NewMemory(
            id=memory_id,
            text=content,
            entities=json.loads(entities),
            source=source,
            occurred_at=occurred_at,
            vector=b"" if vector is None else vector.astype("<f4").tobytes(),
        )
        edges.extend(inferer.infer([new]))
        pending.clear()
        if vector is not None:
            vectors.add(memory_id, vector)
        if progress is not None and (done % 500 == 0 or done == len(memories)):
            progress(done, len(memories))
    before = _counts(app)
    after = dict(Counter(e.edge_type for e in edges))
    reenriched = 0
    if not dry_run:
        provenance = Provenance(implementation=inferer.implementation, version=policy.key)
        if causal is not None:
            provenance = msgspec.structs.replace(
                causal.provenance(), implementation=inferer.implementation, version=policy.key
            )
        items = [NewEvent(event=StoreConfigured(setting=EDGE_POLICY_SETTING, value=msgspec.json.encode(policy).decode()), actor="rebuild")]
        for n, start in enumerate(range(0, len(edges), EDGES_PER_EVENT)):
            event = EdgesInferred(edges=edges[start : start + EDGES_PER_EVENT], provenance=provenance)
            items.append(NewEvent(event=event, actor="rebuild", stage=f"rebuild:{policy.key}:{n}"))
        db.log.append_many(items)
        db.main.catch_up()
        db.compact()
    if llm:
        from memman.operations.rederive import rederive

        reenriched = rederive(app, app.registry.data_dir, everything=not stale_only, dry_run=dry_run).rederived
    return RebuildReport(
        store=app.store,
        policy=policy.key,
        memories=len(memories),
        before=before,
        after=after,
        dry_run=dry_run,
        seconds=round(time.perf_counter() - started, 3),
        llm=llm,
        reenriched=reenriched,
    )
