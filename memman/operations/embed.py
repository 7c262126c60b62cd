"""Embedders per store: status, online swap, offline re-embed, and recall's
query embedding (time budget + cache).

A store is bound to one embedder fingerprint (`store.configured` embedder=KEY).
Switching is a backfill in the log, never an update:

    embed swap --to voyage     store.configured embedder.swap_to=KEY'   (swap starts)
                               memory.embedded under KEY', per input, in batches,
                               each batch under the drain lock, released between
                               batches, so the drain keeps running and embeds new
                               memories under both fingerprints meanwhile
                               store.configured embedder=KEY' + swap_to=""  (cutover,
                               one transaction, once every active memory is covered)

Recall keeps reading the old fingerprint until the cutover. A swap that
crashed or lost its provider resumes where the log says it stopped
(`--resume`: coverage is recomputed from the log; the unique
(type, causation, stage) index makes a repeated batch impossible). `--abort`
records swap_to="" and leaves the backfilled vectors in the log, where a
later swap to the same embedder reuses them. `reembed` is the same backfill
in one pass under one lock hold. Replay rebuilds every vector from these
events and calls no provider.

Coverage is counted per input: an active memory is covered under KEY when
the input that last set its text (`memories.input_seq`) has a
`memory.embedded` event at stage `embed:KEY`.

This module imports only the standard library, msgspec and apsw at load:
recall imports it for a remote query embedding.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from events.errors import BadInput, ProviderUnavailable, StoreLocked

if TYPE_CHECKING:
    import numpy as np

    from memman.service import Memman
    from projections.store import StoreDB
    from workers.embedders.base import Embedder
    from workers.embedders.settings import EmbedderSettings

ACTOR = "embed"
BATCH = 256  # memories per backfill batch (one log transaction each)
LOCK_WAIT_S = 60.0  # how long a swap batch waits for a running drain to finish
QUERY_CACHE_FILE = "query-cache.db"
QUERY_CACHE_ROWS = 2000
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- results


class Credential(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    role: str  # bound, swap target, configured
    source: str  # config, env VAR, missing, not needed (never the key itself)
    available: bool


class Coverage(msgspec.Struct, frozen=True, kw_only=True):
    fingerprint: str
    vectors: int  # rows stored under this fingerprint (any status)
    covered: int  # active memories whose current text has a vector under it
    active: int


class SwapState(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    covered: int
    active: int


class EmbedStatus(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    bound: str | None
    configured: str  # provider[:model] that config.toml asks for
    credentials: list[Credential]
    coverage: list[Coverage]
    swap: SwapState | None


class SwapReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    action: Literal["cut over", "aborted", "already bound"]
    from_: str | None = msgspec.field(name="from")
    to: str
    embedded: int  # memories embedded by this run
    active: int
    seconds: float


# ---------------------------------------------------------------- settings


def embedder_settings(data_dir: Path, store: str | None = None) -> EmbedderSettings:
    """The store's [embeddings] settings from config.toml, for the workers layer."""
    from memman.config import settings_for
    from workers.embedders.settings import EmbedderSettings
    from workers.providers.breaker import DIRECTORY as BREAKERS

    cfg = settings_for(data_dir, store).embeddings
    return EmbedderSettings(
        provider=cfg.provider,
        model=cfg.model,
        base_url=cfg.base_url,
        api_key=cfg.api_key,
        dimensions=cfg.dimensions,
        batch_size=cfg.batch_size,
        timeout_s=cfg.timeout_s,
        query_timeout_ms=cfg.query_timeout_ms,
        max_retries=cfg.max_retries,
        model_path=cfg.model_path,
        models_dir=str(data_dir / "models"),
        breakers=str(data_dir / BREAKERS),
    )


def _store_settings(db: StoreDB) -> EmbedderSettings:
    # <data_dir>/stores/<name>/: a StoreDB knows its directory, not its data dir
    return embedder_settings(db.directory.parent.parent, db.directory.name)


# ---------------------------------------------------------------- recall's query vector


def query_vector(db: StoreDB, text: str, fingerprint: str) -> np.ndarray:
    """The query's vector under a non-local `fingerprint`: from the store's
    query cache, else from the provider within `query_timeout_ms` (retries
    included). Raises a MemmanError when the budget runs out; recall then
    degrades to keyword + recency and says so."""
    import numpy as np

    cache = QueryCache(db.directory / QUERY_CACHE_FILE)
    try:
        hit = cache.get(fingerprint, text)
        if hit is not None:
            return np.frombuffer(hit, dtype="<f4")
        from workers.embedders import embedder_for

        settings = _store_settings(db)
        embedder = embedder_for(fingerprint, settings)
        connect = getattr(embedder, "connect", None)
        if connect is None:  # a local model (onnx): no network, no budget to keep
            row = embedder.embed([text], kind="query")[0]
        else:
            connect()  # importing httpx is not network time: start the clock after it
            row = _within_budget(embedder, text, settings.query_timeout_ms / 1000)
        cache.put(fingerprint, text, row.astype("<f4").tobytes())
        return row
    finally:
        cache.close()


def _within_budget(embedder: Embedder, text: str, budget_s: float) -> np.ndarray:
    """Embed one query in at most budget_s. httpx's timeouts bound each
    network phase, but not name resolution or a server that trickles bytes,
    so the call runs in a daemon thread and recall stops waiting at the
    deadline; the deadline also stops retries that could not finish in time."""
    import threading

    deadline = time.monotonic() + budget_s
    box: list[object] = []

    def work() -> None:
        try:
            box.append(embedder.embed([text], kind="query", deadline=deadline)[0])  # type: ignore[call-arg]
        except Exception as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            box.append(exc)

    thread = threading.Thread(target=work, name="memman-query-embed", daemon=True)
    thread.start()
    thread.join(budget_s)
    if not box:
        raise ProviderUnavailable(
            f"query embedding took longer than embeddings.query_timeout_ms={round(budget_s * 1000)}"
        )
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]  # type: ignore[return-value]


class QueryCache:
    """(fingerprint, query text) -> vector, in a small SQLite file beside the
    store; a cache (safe to delete), bounded to the newest QUERY_CACHE_ROWS."""

    def __init__(self, path: Path) -> None:
        import apsw

        self._apsw = apsw
        self.conn: apsw.Connection | None = None
        try:
            self.conn = apsw.Connection(str(path))
            self.conn.setbusytimeout(200)
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS queries (fingerprint TEXT NOT NULL, text TEXT NOT NULL,"
                " vec BLOB NOT NULL, UNIQUE (fingerprint, text))"
            )
        except apsw.Error:
            self.close()  # unreadable or read-only: recall works, just without the cache

    def get(self, fingerprint: str, text: str) -> bytes | None:
        if self.conn is None:
            return None
        try:
            row = self.conn.execute(
                "SELECT vec FROM queries WHERE fingerprint=? AND text=?", (fingerprint, text)
            ).fetchone()
        except self._apsw.Error:
            return None
        return None if row is None else row[0]

    def put(self, fingerprint: str, text: str, vec: bytes) -> None:
        if self.conn is None:
            return
        try:
            with self.conn:
                self.conn.execute(
                    "INSERT OR REPLACE INTO queries (fingerprint, text, vec) VALUES (?,?,?)", (fingerprint, text, vec)
                )
                self.conn.execute(
                    "DELETE FROM queries WHERE rowid <= (SELECT max(rowid) FROM queries) - ?", (QUERY_CACHE_ROWS,)
                )
        except self._apsw.Error:
            pass  # a busy or read-only cache only costs the next recall a request

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---------------------------------------------------------------- coverage


def missing(db: StoreDB, fingerprint: str) -> dict[int, list[tuple[str, str]]]:
    """Active memories with no vector under `fingerprint` for their current
    text, grouped by the input that set it: {input seq: [(memory id, text)]}."""
    covered = {
        r[0]
        for r in db.log.conn.execute(
            "SELECT causation FROM events WHERE type='memory.embedded' AND stage=?", (f"embed:{fingerprint}",)
        )
    }
    out: dict[int, list[tuple[str, str]]] = {}
    for seq, memory_id, content in db.main.conn.execute(
        "SELECT input_seq, id, content FROM memories WHERE status='active' ORDER BY input_seq, key"
    ):
        if seq not in covered:
            out.setdefault(seq, []).append((memory_id, content))
    return out


def _active(db: StoreDB) -> int:
    return db.main.conn.execute("SELECT count(*) FROM memories WHERE status='active'").fetchone()[0]


def _coverage(db: StoreDB, fingerprint: str, active: int) -> Coverage:
    vectors = db.vectors.conn.execute(
        "SELECT count(*) FROM vectors WHERE fingerprint=?", (fingerprint,)
    ).fetchone()[0]
    lacking = sum(len(v) for v in missing(db, fingerprint).values())
    return Coverage(fingerprint=fingerprint, vectors=vectors, covered=active - lacking, active=active)


# ---------------------------------------------------------------- status


def status(app: Memman) -> EmbedStatus:
    from workers.drain import EMBEDDER_SETTING, SWAP_SETTING
    from workers.embedders import REMOTE_PROVIDERS, parse_key
    from workers.embedders.remote import api_key_for

    db = app.db
    db.catch_up()
    settings = embedder_settings(app.registry.data_dir, app.store)
    bound = db.setting(EMBEDDER_SETTING)
    swap_to = db.setting(SWAP_SETTING) or None
    active = _active(db)
    known = [r[0] for r in db.vectors.conn.execute("SELECT fingerprint FROM vector_sets ORDER BY fingerprint")]
    coverage = [_coverage(db, fp, active) for fp in dict.fromkeys([*filter(None, [bound, swap_to]), *known])]
    roles = [(parse_key(k)[0], role) for k, role in ((bound, "bound"), (swap_to, "swap target")) if k]
    roles.append((settings.provider, "configured"))
    credentials = []
    for provider, role in roles:
        source = api_key_for(provider, settings)[1] if provider in REMOTE_PROVIDERS else "not needed"
        credentials.append(
            Credential(provider=provider, role=role, source=source, available=source != "missing")
        )
    swap = None
    if swap_to:
        c = next(c for c in coverage if c.fingerprint == swap_to)
        swap = SwapState(to=swap_to, covered=c.covered, active=active)
    configured = settings.provider + (f":{settings.model}" if settings.model else "")
    return EmbedStatus(
        store=app.store, bound=bound, configured=configured, credentials=credentials, coverage=coverage, swap=swap
    )


# ---------------------------------------------------------------- swap and reembed


def _target(db: StoreDB, settings: EmbedderSettings, to: str) -> Embedder:
    from workers.embedders import create_embedder, split_target

    provider, model = split_target(to)
    return create_embedder(provider, settings, model=model)


def _lock(data_dir: Path, store_dir: Path, wait_s: float):  # type: ignore[no-untyped-def]
    """The store's drain lock, waiting up to wait_s for a running drain to finish."""
    from workers.lock import store_lock

    deadline = time.monotonic() + wait_s
    while True:
        lock = store_lock(data_dir, store_dir)
        try:
            lock.__enter__()
        except StoreLocked:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
            continue
        return lock


def _backfill_batch(db: StoreDB, embedder: Embedder, todo: dict[int, list[tuple[str, str]]], limit: int) -> int:
    """Embed up to `limit` memories of `todo` (whole inputs) and append their
    events in one transaction; the number of memories embedded."""
    from events.log import NewEvent
    from events.types import MemoryEmbedded, Provenance, Vector
    from projections.vectors import encode

    chosen: list[tuple[int, list[tuple[str, str]]]] = []
    size = 0
    for seq, memories in todo.items():
        if size and size + len(memories) > limit:
            break
        chosen.append((seq, memories))
        size += len(memories)
    texts = [text for _, memories in chosen for _, text in memories]
    started = time.perf_counter()
    matrix = embedder.embed(texts)
    per_text_ms = (time.perf_counter() - started) * 1000 / max(1, len(texts))
    fp = embedder.fingerprint
    stage = f"embed:{fp.key}"
    events, row = [], 0
    for seq, memories in chosen:
        vectors = [
            Vector(memory_id=memory_id, data=encode(matrix[row + i]))  # type: ignore[arg-type]
            for i, (memory_id, _) in enumerate(memories)
        ]
        row += len(memories)
        provenance = Provenance(
            implementation=fp.provider,
            model=fp.model,
            fingerprint=fp.key,
            latency_ms=round(per_text_ms * len(memories), 3),
        )
        event = MemoryEmbedded(fingerprint=fp.key, dim=fp.dim, vectors=vectors, provenance=provenance)
        events.append(NewEvent(event=event, actor=ACTOR, causation=seq, stage=stage))
    db.log.append_many(events)
    for seq, _ in chosen:
        del todo[seq]
    return size


def _cut_over(db: StoreDB, key: str) -> None:
    from events.log import NewEvent
    from events.types import StoreConfigured
    from projections.vectors import matrix
    from workers.drain import EMBEDDER_SETTING, SWAP_SETTING

    db.log.append_many(
        [
            NewEvent(event=StoreConfigured(setting=EMBEDDER_SETTING, value=key), actor=ACTOR),
            NewEvent(event=StoreConfigured(setting=SWAP_SETTING, value=""), actor=ACTOR),
        ]
    )
    db.catch_up()
    matrix(db.vectors.conn, db.directory, key)  # build recall's flat copy now, not on the next recall


def swap(
    app: Memman,
    to: str | None = None,
    *,
    resume: bool = False,
    abort: bool = False,
    batch: int = BATCH,
    max_batches: int | None = None,
    progress: Progress | None = None,
    offline: bool = False,
) -> SwapReport:
    """Start, resume or abort a swap; runs the backfill and cuts over when
    complete. `offline` (reembed) holds the drain lock for the whole run.
    `max_batches` stops early (the swap stays in progress, for --resume)."""
    app.ensure_writable()
    from events.types import StoreConfigured
    from workers.drain import EMBEDDER_SETTING, SWAP_SETTING, bind_embedder
    from workers.embedders import embedder_for

    started = time.perf_counter()
    data_dir = app.registry.data_dir
    db = app.db
    db.catch_up()
    settings = embedder_settings(data_dir, app.store)
    in_progress = db.setting(SWAP_SETTING) or None
    if abort:
        if in_progress is None:
            raise BadInput("no embedder swap in progress; nothing to abort (see 'memman embed status')")
        db.log.append(StoreConfigured(setting=SWAP_SETTING, value=""), actor=ACTOR)
        db.catch_up()
        bound = db.setting(EMBEDDER_SETTING)
        return SwapReport(store=app.store, action="aborted", from_=bound, to=in_progress, embedded=0,
                          active=_active(db), seconds=round(time.perf_counter() - started, 3))
    if resume and in_progress is None:
        raise BadInput("no embedder swap in progress; start one with 'memman embed swap --to PROVIDER[:MODEL]'")
    if resume:
        target = embedder_for(in_progress, settings)  # type: ignore[arg-type]
    else:
        assert to is not None
        target = _target(db, settings, to)
    key = target.fingerprint.key
    if in_progress and in_progress != key:
        raise BadInput(
            f"a swap to {in_progress} is in progress; finish it with 'memman embed swap --resume' "
            "or drop it with 'memman embed swap --abort'"
        )
    bound = db.setting(EMBEDDER_SETTING)
    if bound is None:
        bound = bind_embedder(db, settings).fingerprint.key
    if bound == key:
        return SwapReport(store=app.store, action="already bound", from_=bound, to=key, embedded=0,
                          active=_active(db), seconds=round(time.perf_counter() - started, 3))
    if in_progress is None:
        lock = _lock(data_dir, db.directory, LOCK_WAIT_S)  # so a drain running now sees the swap from its next pass
        try:
            db.log.append(StoreConfigured(setting=SWAP_SETTING, value=key), actor=ACTOR)
            db.catch_up()
        finally:
            lock.__exit__(None, None, None)
    embedded = _run_backfill(app, target, batch=batch, max_batches=max_batches, progress=progress, offline=offline)
    if embedded is None:  # stopped early on purpose
        raise ProviderUnavailable(f"swap to {key} paused before completion; run 'memman embed swap --resume'")
    return SwapReport(store=app.store, action="cut over", from_=bound, to=key, embedded=embedded,
                      active=_active(db), seconds=round(time.perf_counter() - started, 3))


def _run_backfill(
    app: Memman, target: Embedder, *, batch: int, max_batches: int | None, progress: Progress | None, offline: bool
) -> int | None:
    """Backfill until complete, then cut over; the memories embedded, or
    None when max_batches stopped it first."""
    data_dir, db, key = app.registry.data_dir, app.db, target.fingerprint.key
    embedded = batches = 0
    held = _lock(data_dir, db.directory, LOCK_WAIT_S) if offline else None
    try:
        while True:
            lock = held or _lock(data_dir, db.directory, LOCK_WAIT_S)
            try:
                db.catch_up()
                todo = missing(db, key)
                remaining = sum(len(v) for v in todo.values())
                if progress is not None:
                    progress(embedded, embedded + remaining)
                if not todo:
                    _cut_over(db, key)
                    return embedded
                if max_batches is not None and batches >= max_batches:
                    return None
                while todo:
                    embedded += _backfill_batch(db, target, todo, batch)
                    batches += 1
                    if progress is not None:
                        progress(embedded, embedded + sum(len(v) for v in todo.values()))
                    if not offline or (max_batches is not None and batches >= max_batches):
                        break
            finally:
                if held is None:
                    lock.__exit__(None, None, None)
    finally:
        if held is not None:
            held.__exit__(None, None, None)


def reembed(app: Memman, to: str | None = None, *, batch: int = 1024, progress: Progress | None = None) -> SwapReport:
    """The offline swap: one pass under the drain lock, then the cutover.
    Without `to`, the target is the configured embedder ([embeddings])."""
    app.ensure_writable()
    if to is None:
        settings = embedder_settings(app.registry.data_dir, app.store)
        to = settings.provider + (f":{settings.model}" if settings.model else "")
    return swap(app, to, batch=batch, progress=progress, offline=True)
