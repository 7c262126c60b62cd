"""One drain pass over one store: every pending (or due-for-retry) input is
derived into memories, in log order, and the projections are caught up after
each one so the next input is reconciled against everything before it.

The caller holds the data dir's drain lock (`workers.lock.drain_lock`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import msgspec

from events.clock import to_iso
from events.log import NewEvent
from events.types import Recorded, SessionCaptured, StoreConfigured
from projections.graph import EDGE_POLICY_SETTING
from projections.vectors import _cache_path, matrix, refresh, stamp
from projections.store import StoreDB
from workers.capture import CaptureDeriver
from workers.derive import ACTOR, Deriver
from events.errors import MemmanError
from workers.embedders import create_embedder, embedder_for
from workers.embedders.settings import EmbedderSettings
from workers.embedders.base import Embedder
from workers.pipeline import Pipeline, pipeline_stages
from workers.stages.edges import EdgePolicy
from workers.vectors import annindex
from workers.claims import Claims, claims_for
from workers.vectors.cacherows import CacheRows
from workers.vectors.indexedset import IndexedVectorSet
from workers.vectors.kept import KeptVectors
from workers.vectors.vectorset import VectorSet

EMBEDDER_SETTING = "embedder"
SWAP_SETTING = "embedder.swap_to"  # the fingerprint an `embed swap` is moving to; "" when none
# Inputs derived per transaction. Larger chunks mean fewer commits and catch-ups;
# a killed drain loses at most one chunk's work, which the next drain redoes.
CHUNK = 100
INPUT_TYPES = ("memory.remembered", "memory.replaced", "session.captured")  # what the work queue's items are
# Allocations (net of frees) between the cyclic collector's youngest-generation passes during a drain
# (CPython's default is 700): see `_fewer_collections`.
GC_YOUNG = 20_000
# The memories that are not active, through the status index (each status a range of it): fewer
# than the active ones (a third of the synthetic 100k store, 33k rows: ~44 ms; every active id was 72k).
INACTIVE_SQL = "SELECT id FROM memories WHERE status IN ('pending', 'superseded', 'forgotten')"
DRAIN_CACHE_KIB = 64 * 1024  # each local SQLite file's page cache during a drain (`_page_cache`)


class DrainReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    processed: int  # inputs attempted
    completed: int
    failed: int
    dead: int
    remaining: int  # still pending or waiting for a retry
    seconds: float
    skipped: int = 0  # not tried: a provider's circuit was open (workers/providers/breaker.py); still pending


def store_policy(db: StoreDB) -> EdgePolicy:
    """The edge policy the store's edges are derived under (the default until
    `graph rebuild` records another)."""
    raw = db.setting(EDGE_POLICY_SETTING)
    return msgspec.json.decode(raw, type=EdgePolicy) if raw else EdgePolicy()


def bind_embedder(db: StoreDB, settings: EmbedderSettings | None = None) -> Embedder:
    """The store's embedder; binds the store to the configured one on first use."""
    bound = db.setting(EMBEDDER_SETTING)
    if bound is not None:
        return embedder_for(bound, settings)
    embedder = create_embedder(settings.provider, settings) if settings else create_embedder()
    db.log.append(StoreConfigured(setting=EMBEDDER_SETTING, value=embedder.fingerprint.key), actor=ACTOR)
    db.main.catch_up()
    return embedder


def swap_target(db: StoreDB, settings: EmbedderSettings | None = None) -> Embedder | None:
    """The embedder a swap in progress is moving to (new memories get both
    embeddings), or None. If it cannot be built, the drain goes on without
    it and says so; the swap's backfill fills the gap before cutting over."""
    target = db.setting(SWAP_SETTING)
    if not target:
        return None
    try:
        return embedder_for(target, settings)
    except MemmanError as exc:
        db.notices.append(f"embedder swap target unavailable, new memories wait for the backfill: {exc}")
        return None


def load_vectors(db: StoreDB, embedder: Embedder) -> VectorSet | IndexedVectorSet:
    """The active memories' vectors under the store's fingerprint: past the
    HNSW threshold with a saved index, read from the flat cache as the
    index's candidates need them (`indexed_vectors`), else all in memory."""
    indexed = indexed_vectors(db, embedder)
    if indexed is not None:
        return indexed
    fingerprint = embedder.fingerprint.key
    ids, rows = matrix(db.vectors.conn, db.directory, fingerprint)
    active = {r[0] for r in db.main.conn.execute("SELECT id FROM memories WHERE status='active'")}
    current = stamp(db.vectors.conn, fingerprint)
    large = len(ids) >= annindex.MIN_ROWS  # the rows' keys, stored beside them, spare hashing every id
    keys = annindex.flat_keys(db.directory, fingerprint, current) if large and current else None
    vectors = VectorSet.of(embedder.fingerprint.dim, ids, rows, active, keys=keys)
    if len(vectors) >= annindex.MIN_ROWS:  # a large store: candidates from HNSW (workers/vectors/annindex.py)
        rewritten = current[3] if current else 0
        path = _cache_path(db.directory, fingerprint, "hnsw")
        ann = annindex.AnnIndex.load(path, fingerprint, vectors.dim, rewritten)
        if ann is None:
            db.notices.append(f"building the vector index for {len(vectors):,} memories (once; saved for the next drain)")
        vectors.attach(ann or annindex.AnnIndex(vectors.dim))
    return vectors


def indexed_vectors(db: StoreDB, embedder: Embedder) -> IndexedVectorSet | None:
    """The vector set of workers/vectors/indexedset.py when the in-memory one would
    hold at least `annindex.MIN_ROWS` rows (so attach the index), a saved
    index loads and the flat cache is current; else None.

    The in-memory set counts the active memories that have a row, which
    takes every active id; here a lower bound decides instead: the rows
    less the memories not active (every row is a memory's). Only a store
    within a few pending inputs of the threshold falls between the bound
    and the count, and it loads the in-memory set, which counts exactly:
    the same decision either way."""
    fingerprint = embedder.fingerprint.key
    current = stamp(db.vectors.conn, fingerprint)
    if current is None or current[1] < annindex.MIN_ROWS:
        return None
    inactive = {r[0] for r in db.main.conn.execute(INACTIVE_SQL)}
    live = current[1] - len(inactive)
    if live < annindex.MIN_ROWS:
        return None
    ann = annindex.AnnIndex.load(_cache_path(db.directory, fingerprint, "hnsw"), fingerprint, embedder.fingerprint.dim, current[3])
    if ann is None:  # none saved (or stale): the in-memory set builds it from every row
        return None
    refresh(db.vectors.conn, db.directory, fingerprint)
    base = CacheRows.open(_cache_path(db.directory, fingerprint), fingerprint, current)
    if base is None or base.dim != embedder.fingerprint.dim:
        return None
    vectors = IndexedVectorSet(embedder.fingerprint.dim, base, inactive, live)
    vectors.attach(ann)
    return vectors


def save_index(db: StoreDB, vectors: VectorSet | IndexedVectorSet, fingerprint: str) -> None:
    """Save the drain's HNSW index once it holds enough rows the saved copy lacks."""
    if vectors.ann is None or vectors.ann.added < annindex.SAVE_AFTER:
        return
    current = stamp(db.vectors.conn, fingerprint)
    if current is not None:
        rows = annindex.flat_keys(db.directory, fingerprint, current)  # what the index lacks, for recall
        vectors.ann.save(_cache_path(db.directory, fingerprint, "hnsw"), fingerprint, current[3], rows)


def due_work(db: StoreDB, now: datetime, limit: int | None = None) -> list[tuple[int, int]]:
    """(input seq, attempts so far) of the items to derive now, oldest first."""
    rows = db.main.conn.execute(
        "SELECT input_seq, attempts FROM work WHERE state='pending'"
        " OR (state='failed' AND (retry_after IS NULL OR retry_after <= ?)) ORDER BY input_seq LIMIT ?",
        (to_iso(now), -1 if limit is None else limit),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def drain_store(
    db: StoreDB,
    name: str,
    *,
    clock: Callable[[], datetime],
    embedder: Embedder | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    embeddings: EmbedderSettings | None = None,
    pipeline: Pipeline | None = None,  # the stages' implementations (workers/pipeline.py); rules by default
    kept: KeptVectors | None = None,  # a long-running worker's vector sets between drains (workers/vectors/kept.py)
) -> DrainReport:
    with _fewer_collections(), _page_cache(db):
        return _drain_store(db, name, clock, embedder, limit, progress, embeddings, pipeline, kept)


@contextmanager
def _page_cache(db: StoreDB) -> Iterator[None]:
    """A larger SQLite page cache on the store's local files for the length
    of one drain. With the default (2 MiB) the drain's lookups of a 100k
    store (projections.db ~200 MB: FTS postings, memory rows, the edges it
    upserts) became page reads from the OS again and again: ~8% of its CPU
    at 100k. Pages are cached only as they are read, and the size is
    restored afterwards (which frees them)."""
    conns = [h.conn for h in (db.main, db.vectors, db.log) if getattr(h, "backend", "sqlite") == "sqlite"]
    before = [c.execute("PRAGMA cache_size").fetchone()[0] for c in conns]
    for conn in conns:
        conn.execute(f"PRAGMA cache_size=-{DRAIN_CACHE_KIB}")
    try:
        yield
    finally:
        for conn, size in zip(conns, before, strict=True):
            conn.execute(f"PRAGMA cache_size={int(size)}")


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector, less often, for the length of one drain.

    A drain allocates hundreds of container objects per input that live for
    a chunk or the whole pass (events, readings, word sets, candidate rows;
    none of them cyclic), and CPython collects every 700 net allocations,
    promoting survivors and rescanning them: ~0.1 ms an input at 10k (3% of
    the drain), a full collection of the whole heap included. Here what
    exists at the start (modules, the loaded vectors) is frozen out of every
    collection and the youngest generation holds `GC_YOUNG` objects before a
    pass; both are restored afterwards, whatever happens. Cycles still get
    collected, only later: memory stays bounded by the same caches. A process
    that froze its heap itself (the warm server) keeps it frozen."""
    threshold = gc.get_threshold()
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    gc.set_threshold(GC_YOUNG, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if ours:
            gc.unfreeze()


def _drain_store(
    db: StoreDB,
    name: str,
    clock: Callable[[], datetime],
    embedder: Embedder | None,
    limit: int | None,
    progress: Callable[[int, int], None] | None,
    embeddings: EmbedderSettings | None,
    pipeline: Pipeline | None,
    kept: KeptVectors | None = None,
) -> DrainReport:
    started = time.perf_counter()
    db.catch_up()
    embedder = embedder or bind_embedder(db, embeddings)
    fingerprint = embedder.fingerprint.key
    vectors = kept.take(db, fingerprint) if kept is not None else None
    deriver = Deriver(
        db,
        embedder,
        vectors or load_vectors(db, embedder),
        clock=clock,
        also=swap_target(db, embeddings),
        policy=store_policy(db),
        **pipeline_stages(pipeline),
    )
    capturer = CaptureDeriver(pipeline.capturer if pipeline else None, clock=clock)
    work = due_work(db, clock(), limit)
    with db.bulk_wal():  # checkpoints by size for the whole pass (projections/store.py)
        completed, failed = _run(db, deriver, capturer, work, progress)
        if capturer.produced and (limit is None or len(work) < limit):  # the memories captures just remembered
            more = due_work(db, clock(), None if limit is None else limit - len(work))
            done, bad = _run(db, deriver, capturer, more, progress)
            work, completed, failed = work + more, completed + done, failed + bad
        db.vectors.catch_up()
    counts = dict(db.main.conn.execute("SELECT state, count(*) FROM work GROUP BY state").fetchall())
    skipped = deriver.skipped + capturer.skipped
    if skipped:
        db.notices.append(f"{skipped} inputs left pending: a provider failed repeatedly (circuit open); the next drain retries")
    if deriver.also_missed:
        db.notices.append(f"{deriver.also_missed} inputs lack the swap target's embedding; 'memman embed swap --resume' adds them")
    if work:  # refresh recall's flat cache now (the new rows appended, nothing else rewritten: recall
        # centres at query time), so the next recall imports no numpy
        refresh(db.vectors.conn, db.directory, fingerprint)
        save_index(db, deriver.vectors, fingerprint)
    if kept is not None and failed == 0:  # a failed input's rows may be in the set, not in the log
        kept.keep(db, fingerprint, deriver.vectors)
    return DrainReport(
        store=name,
        processed=completed + failed,
        completed=completed,
        failed=failed - skipped,
        skipped=skipped,
        dead=counts.get("dead", 0),
        remaining=counts.get("pending", 0) + counts.get("failed", 0),
        seconds=round(time.perf_counter() - started, 3),
    )


def _run(
    db: StoreDB,
    deriver: Deriver,
    capturer: CaptureDeriver,
    work: list[tuple[int, int]],
    progress: Callable[[int, int], None] | None,
) -> tuple[int, int]:
    """Derive `work` in chunks; (completed, failed)."""
    seen = db.main.checkpoints()["queue"]  # the log position the queue (and `work`) reflects
    completed = failed = 0
    claims = claims_for(db.log)  # other workers on a shared (PostgreSQL) log: derive only what we claim
    try:
        for start in range(0, len(work), CHUNK):
            done, bad = _drain_chunk(db, deriver, capturer, claims, work[start : start + CHUNK], seen)
            completed, failed = completed + done, failed + bad
            if progress is not None:
                progress(completed + failed, len(work))
    finally:
        claims.close()
    return completed, failed


def _drain_chunk(
    db: StoreDB, deriver: Deriver, capturer: CaptureDeriver, claims: Claims, work: list[tuple[int, int]], seen: int
) -> tuple[int, int]:
    """Derive the claimed inputs of one chunk (remembered texts, and session
    captures: workers/capture.py) and append what they produced in one
    transaction; returns (completed, failed)."""
    attempts = dict(work)
    mine = claims.claim([seq for seq, _ in work], seen)
    completed = failed = 0
    try:
        chunk: list[NewEvent] = []
        inputs = _inputs(db, mine)
        deriver.prepare(inputs)
        for rec in inputs:
            how = capturer if isinstance(rec.event, SessionCaptured) else deriver
            events, ok = how.derive(rec, attempts[rec.seq])
            chunk.extend(events)
            completed, failed = completed + ok, failed + (not ok)
        appended = db.log.append_many(chunk)  # a chunk lands whole or not at all
    finally:
        claims.release()
    db.main.catch_up(appended=appended)  # applied as they are, not read back, unless others appended too
    deriver.finish_chunk()
    return completed, failed


def _inputs(db: StoreDB, seqs: list[int]) -> list[Recorded]:
    """The input events of a chunk, read in one pass over their seq range."""
    if not seqs:
        return []
    wanted = set(seqs)
    found = db.log.read(after=min(seqs) - 1, upto=max(seqs), types=INPUT_TYPES)
    return [rec for rec in found if rec.seq in wanted]
