"""`Memman`: the application service and the Python API.

Write methods validate, build one event and append it; they never call a
provider. `remember` appends and returns (one SQLite write); the memory is
keyword-recallable as `pending` as soon as a reader catches the projection up.
forget / restore / replace / link apply the memories projection at once, so
the next recall already reflects them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from events.clock import Clock, utc_now
from events.errors import (
    BackendUnavailable,
    BadInput,
    CorruptEvent,
    DiskFull,
    LogMissing,
    MemmanError,
    ReadOnlyStore,
    StoreCorrupt,
    StoreLocked,
    UnknownMemory,
)
from events.ids import UlidFactory
from events.log import NewEvent
from events.types import (
    EdgeLinked,
    EdgeUnlinked,
    FactsExtracted,
    MemoryForgotten,
    MemoryId,
    MemoryProtected,
    MemoryRemembered,
    MemoryReplaced,
    MemoryRestored,
    MemoryUnprotected,
)
from memman.intake import validate
from memman.intake.privacy import guard
from memman.output.results import Changed, Remembered
from memman.stores import Registry
from projections.store import StoreDB

if TYPE_CHECKING:
    from memman.output.results import RecallResult
    from projections.pool import StorePool
    from projections.queries import MemoryRow

MIN_ID_PREFIX = 6
SUCCESSION_SLACK = 10  # results past the limit that recall's succession step still considers
# Present while `memman scheduler stop` holds the data dir recall-only
# (memman/scheduler/state.py owns it); one stat() on the write path.
STOPPED_MARKER = os.path.join("scheduler", "stopped")


class Memman:
    def __init__(self, data_dir: Path, store: str | None = None, *, clock: Clock = utc_now) -> None:
        self.registry = Registry(data_dir)
        self.store = self.registry.active(store)
        self.clock = clock
        self._ids = UlidFactory()
        self._db: StoreDB | None = None
        self._pool: StorePool | None = None
        self.degraded: list[str] = []  # why a read answered from less than the whole log

    def ensure_writable(self) -> None:
        """Refuse a write while the scheduler is stopped (recall-only mode) or
        when the store cannot be written (a read-only mount). Every operation
        that appends to the log calls this first."""
        if os.path.exists(os.path.join(self.registry.data_dir, STOPPED_MARKER)):
            from memman.scheduler.state import refuse_write

            refuse_write(self.registry.data_dir)
        directory = self.registry.path(self.store)
        if directory.is_dir() and not os.access(directory, os.W_OK):
            raise ReadOnlyStore(f"store {self.store!r} at {directory} is read-only (a read-only mount?);"
                                " nothing was written; recall still works")

    @property
    def db(self) -> StoreDB:
        """The store's handles: opened now, or lent by the warm server's pool
        (projections/pool.py), which hands back only handles on the same files."""
        if self._db is None:
            directory = self.registry.require(self.store)
            # only a process that loaded the pool (the warm server) can be lending:
            # a cold one does not pay for importing it (threading, contextvars)
            pooling = sys.modules.get("projections.pool")
            self._pool = None if pooling is None else pooling.lender()
            self._db = StoreDB(directory, clock=self.clock) if self._pool is None else self._pool.take(directory, self.clock)
            self._db.read_only_view()  # a no-op unless the store cannot be written
        return self._db

    @property
    def notices(self) -> list[str]:
        return [] if self._db is None else list(self._db.notices)

    def close(self, *, failed: bool = False) -> None:
        """Close the store's handles, or give them back to the pool that lent
        them; after a failure they are closed either way."""
        if self._db is not None:
            if self._pool is None or failed:
                self._db.close()
            else:
                self._pool.give(self._db)
            self._db = None

    def __enter__(self) -> Memman:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(failed=exc[0] is not None)

    # ------------------------------------------------------------ writes

    def capture(self, excerpts: Sequence[str], *, agent: str, session_id: str, transcript: str, start: int,
                end: int, trigger: str) -> int:
        """Record a session excerpt (already cleaned: memman/integration/capture.py)
        as `session.captured` inputs for the drain; the same excerpt of the same
        transcript is recorded once (idempotency key). Returns how many were new."""
        import hashlib

        from events.types import SessionCaptured

        self.ensure_writable()
        where = hashlib.sha256(transcript.encode()).hexdigest()[:16]
        events = [
            NewEvent(event=SessionCaptured(
                capture_id=MemoryId(self._ids.mint(self.clock())), text=text, agent=agent, session_id=session_id[:200],
                transcript=transcript[:4096], start=start, end=end, trigger=trigger,
                key=f"capture:{where}:{hashlib.sha256(text.encode()).hexdigest()[:32]}",
            ))
            for text in excerpts
        ]
        return len(self.db.log.append_many(events))

    def remember(
        self,
        text: str | bytes,
        *,
        category: str = "general",
        importance: int = 3,
        entities: Sequence[str] | str | None = None,
        source: str = "agent",
        meta: list[str] | dict[str, object] | None = None,
        at: datetime | None = None,
        replaces: str | None = None,
        until: datetime | None = None,
        key: str | None = None,
        redact: bool = False,
    ) -> Remembered:
        """`redact` stores a text holding a likely secret with the secret
        masked; without it such a text is refused (memman/intake/privacy.py).
        `key` makes it idempotent: remembering the same key again appends
        nothing and returns the memory the first call made (`already`).
        `replaces` names a memory this one replaces (the drain supersedes it
        with this one); `until` ends this memory's validity explicitly."""
        self.ensure_writable()
        from events.clock import to_iso

        occurred = None if at is None else validate.occurred(at, self.clock())
        replaced = self._replaceable(replaces) if replaces else None
        if until is not None:
            validate.until(until, occurred or self.clock())
        if key is not None:
            key = f"id:{validate.idempotency_key(key)}"
        else:  # a forwarded remember's retry key (memman/intake/retry.py), if any
            from memman.intake.retry import log_key

            key = log_key()
        event = MemoryRemembered(
            memory_id=MemoryId(self._ids.mint(self.clock())),
            text=guard(validate.text(text), redacting=redact),
            category=validate.category(category),  # type: ignore[arg-type]
            importance=validate.importance(importance),
            entities=validate.entities(list(entities) if isinstance(entities, Sequence) and not isinstance(entities, str) else entities),
            source=validate.source(source),  # type: ignore[arg-type]
            meta=validate.meta(meta),
            replaces=None if replaced is None else MemoryId(replaced),
            valid_until=None if until is None else to_iso(until),
            key=key,
        )
        recorded = self.db.log.append_many([NewEvent(event=event, occurred_at=occurred)])
        if not recorded:
            return self._remembered_before(key, event.text)  # type: ignore[arg-type]
        return Remembered(id=event.memory_id, seq=recorded[0].seq, status="pending", store=self.store)

    def _remembered_before(self, key: str, text: str) -> Remembered:
        """The memory an earlier call with `key` made. The same key with
        another text is a mistake, not a retry: refused, so a new memory is
        never silently dropped. A retry key (the warm client's retry of one
        invocation) reports the memory as that invocation's first run did."""
        from memman.intake.retry import is_retry_key

        seq = self.db.log.seq_of_key(key)
        assert seq is not None
        first = self.db.log.get(seq).event
        assert isinstance(first, MemoryRemembered)
        if is_retry_key(key) and first.text == text:
            return Remembered(id=first.memory_id, seq=seq, status="pending", store=self.store)
        if first.text != text:
            given = key.removeprefix("id:")
            raise BadInput(
                f"--id {given} was already used for memory {first.memory_id} with another text; nothing was"
                " written (give a new memory a new --id)"
            )
        try:
            status = self.memory(first.memory_id).status
        except MemmanError:  # merged into another memory by the drain, or projections unavailable
            status = "pending"
        return Remembered(id=first.memory_id, seq=seq, status=status, store=self.store, already=True)

    def _replaceable(self, memory_id: str) -> str:
        """The full id of a memory `--replaces` may name: it exists and is not forgotten."""
        current = self.memory(memory_id)
        if current.status == "forgotten":
            raise BadInput(
                f"memory {current.id} is forgotten, so nothing replaces it; 'memman restore {current.id}' first"
            )
        return current.id

    def replace(
        self,
        memory_id: str,
        text: str | bytes,
        *,
        category: str | None = None,
        importance: int | None = None,
        entities: Sequence[str] | str | None = None,
        source: str | None = None,
        meta: list[str] | dict[str, object] | None = None,
        redact: bool = False,
    ) -> Changed:
        """New text for a memory; metadata not given is inherited from what the
        user last said about it (not from what the drain derived from the old
        text: entities and an inferred category belong to that text).
        Secrets are refused or, with `redact`, masked, as in `remember`."""
        self.ensure_writable()
        new_text = guard(validate.text(text), redacting=redact)
        current = self.memory(memory_id)
        if current.status == "forgotten":  # replacing would leave the new text hidden: say so instead
            raise BadInput(
                f"memory {current.id} is forgotten; 'memman restore {current.id}' first, then replace it"
            )
        said = self._last_said(current.id)
        event = MemoryReplaced(
            memory_id=MemoryId(current.id),
            text=new_text,
            category=validate.category(category) if category else said.category,  # type: ignore[arg-type]
            importance=validate.importance(importance) if importance is not None else said.importance,
            entities=validate.entities(entities) if entities is not None else said.entities,  # type: ignore[arg-type]
            source=validate.source(source) if source else said.source,  # type: ignore[arg-type]
            meta={**said.meta, **validate.meta(meta)},
        )
        return self._apply_now(event, current.id, "replaced")

    def _last_said(self, memory_id: str) -> MemoryRemembered | MemoryReplaced:
        """The latest remember/replace command for a memory. A memory split off
        another text by the drain has none of its own: its input's is used."""
        history = self.db.log.for_memory(memory_id)
        for rec in reversed(history):
            e = rec.event
            if isinstance(e, MemoryRemembered | MemoryReplaced) and e.memory_id == memory_id:
                return e
        for rec in reversed(history):
            e = rec.event
            if isinstance(e, FactsExtracted) and e.input_id != memory_id:
                return self._last_said(e.input_id)
        raise UnknownMemory(f"no remember event for memory {memory_id}; see 'memman log --memory {memory_id}'")

    def forget(self, memory_id: str, reason: str = "") -> Changed:
        self.ensure_writable()
        current = self.memory(memory_id)
        if current.status == "forgotten":
            raise BadInput(f"memory {current.id} is already forgotten; 'memman restore {current.id}' undoes it")
        return self._apply_now(MemoryForgotten(memory_id=MemoryId(current.id), reason=reason), current.id, "forgotten")

    def restore(self, memory_id: str) -> Changed:
        self.ensure_writable()
        current = self.memory(memory_id)
        if current.status not in ("forgotten", "superseded"):
            raise BadInput(
                f"memory {current.id} is not forgotten or superseded (it is {current.status}); nothing to restore"
            )
        changed = self._apply_now(MemoryRestored(memory_id=MemoryId(current.id)), current.id, "restored")
        self.note_use([current.id])  # wanted back: a use, so the next gc does not retire it again at once
        return changed

    def protect(self, memory_id: str) -> Changed:
        """Pin a memory: gc never retires it, its importance never decays, and
        neither reconciler (rules or LLM) may supersede or retire it."""
        self.ensure_writable()
        current = self.memory(memory_id)
        if current.protected:
            raise BadInput(f"memory {current.id} is already protected; 'memman insights unprotect {current.id}' undoes it")
        if current.status == "forgotten":
            raise BadInput(f"memory {current.id} is forgotten; 'memman restore {current.id}' first, then protect it")
        return self._apply_now(MemoryProtected(memory_id=MemoryId(current.id)), current.id, "protected")

    def unprotect(self, memory_id: str) -> Changed:
        self.ensure_writable()
        current = self.memory(memory_id)
        if not current.protected:
            raise BadInput(f"memory {current.id} is not protected; nothing to undo")
        return self._apply_now(MemoryUnprotected(memory_id=MemoryId(current.id)), current.id, "unprotected")

    def link(
        self, src: str, dst: str, edge_type: str, weight: float = 1.0, meta: list[str] | None = None
    ) -> Changed:
        self.ensure_writable()
        a, b = self.memory(src).id, self.memory(dst).id
        if a == b:
            raise BadInput("an edge needs two different memories")
        if not edge_type.strip():
            raise BadInput("edge type is empty; pass --type, e.g. --type causal")
        if not 0.0 <= weight <= 10.0:
            raise BadInput(f"weight must be between 0 and 10, got {weight}")
        event = EdgeLinked(
            src=MemoryId(a), dst=MemoryId(b), edge_type=edge_type.strip(), weight=weight, meta=validate.meta(meta)
        )
        return self._apply_now(event, a, "linked")

    def unlink(self, src: str, dst: str, edge_type: str) -> Changed:
        self.ensure_writable()
        a, b = self.memory(src).id, self.memory(dst).id
        row = self.db.main.conn.execute(
            "SELECT 1 FROM edges WHERE src=? AND dst=? AND edge_type=?", (a, b, edge_type)
        ).fetchone()
        if row is None:
            raise UnknownMemory(f"no {edge_type!r} edge from {a} to {b}; see 'memman insights show {a}'")
        return self._apply_now(EdgeUnlinked(src=MemoryId(a), dst=MemoryId(b), edge_type=edge_type), a, "unlinked")

    def _apply_now(self, event: object, memory_id: str, action: str) -> Changed:
        rec = self.db.log.append(event)  # type: ignore[arg-type]
        self.db.main.catch_up()
        status = self.memory(memory_id).status
        return Changed(id=memory_id, seq=rec.seq, action=action, status=status, store=self.store)

    # ------------------------------------------------------------ reads

    def fresh(self, *, offline: bool = False) -> StoreDB:
        """The store with its main projection caught up (read-your-own-writes).
        If another process holds the write lock, read what is there.
        `offline`: a read that may answer from a PostgreSQL store's local
        replica alone while its server cannot be reached, with a notice
        saying how stale it may be (docs/postgres.md)."""
        db = self.db
        if db.offline is not None:
            return db
        try:
            if db.main.lag() > 0:
                db.main.catch_up()
            db.note_synced()
        except StoreLocked:
            pass
        except DiskFull as exc:  # answer from the projections as they stand, and say so
            self.degraded.append(f"newest memories not yet readable: {exc}")
        except BackendUnavailable as exc:
            if not (offline and db.answer_offline(exc)):
                raise
        return db

    def fresh_vectors(self, *, offline: bool = False) -> StoreDB:
        """`fresh`, and the vectors too when an embedding is not yet applied
        (after a drain, or when vectors.db was lost and must be rebuilt)."""
        db = self.fresh(offline=offline)
        try:
            if db.offline is None and db.vectors.behind():
                db.vectors.catch_up()
        except StoreLocked:
            pass
        except DiskFull as exc:
            self.degraded.append(f"newest vectors not yet readable: {exc}")
        except BackendUnavailable as exc:
            if not (offline and db.answer_offline(exc)):
                raise
        return db

    def recall(
        self,
        query: str,
        *,
        limit: int = 10,
        category: str | None = None,
        source: str | None = None,
        basic: bool = False,
        expand: bool = False,
        graph: bool | None = None,
        intent: str | None = None,
        as_of: datetime | None = None,
        min_score: float | None = None,
        order: str = "score",
        known_at: datetime | None = None,
        history: bool = False,
        disable: Sequence[str] = (),
        note_use: bool = True,
    ) -> RecallResult:
        """`graph` forces graph expansion on or off (default: per intent) and
        `intent` overrides detection. `as_of` answers what was true then (valid
        time), `known_at` what had been recorded by then (transaction time);
        both read the projections as of then (memman/recall/timeline.py). `history`
        adds, after each result, the memories it superseded (the chain).
        `expand` asks the LLM for extra keyword terms (cached); a configured
        `rerank.provider` re-orders the top results (see memman/recall/llm.py).
        `disable` switches signals off for ablations (memman/recall/hybrid.py
        SIGNALS; tools/recall_bench). A damaged projection file is rebuilt
        from the log once and the question asked again; a damaged or missing
        log is reported as it is.

        Scores are calibrated probabilities of relevance; results below
        `min_score` (default memman.recall.DEFAULT_MIN_SCORE; prompt
        injection uses INJECT_MIN_SCORE) are left out, and `meta.confidence`
        says how good the best candidate was. `order` is "score" (best
        first, every intent) or "time" (chronological by occurred time)."""
        import apsw

        from memman.recall import DEFAULT_MIN_SCORE

        options = dict(limit=limit, category=category, source=source, basic=basic, expand=expand, graph=graph,
                       intent=intent, as_of=as_of, known_at=known_at, history=history,
                       disable=disable,
                       min_score=DEFAULT_MIN_SCORE if min_score is None else validate.min_score(min_score),
                       order=validate.order(order))
        query = validate.query(query)
        try:
            result = self._recall(query, **options)  # type: ignore[arg-type]
        except (StoreCorrupt, apsw.CorruptError) as exc:
            if isinstance(exc, LogMissing | CorruptEvent) or not self.db.writable or not self.db.repair():
                raise
            result = self._recall(query, **options)  # type: ignore[arg-type]
        if as_of is None and known_at is None and note_use:  # what an agent was given counts as used
            self.note_use([h.id for h in result.results])
        return result

    def note_use(self, ids: list[str]) -> None:
        """Returned results are used: one append to a side file the worker
        folds into the log (memman/lifecycle/access.py); recall never waits
        on the log's write lock. A store mounted read-only cannot take the
        append: that recall's use is not counted, silently."""
        from memman.lifecycle.access import record

        if not self.db.writable:  # a scratch view of a read-only store: nobody would ever fold it
            return
        try:
            record(self.db.directory, ids, self.clock())
        except OSError:
            return

    def _recall(
        self,
        query: str,
        *,
        limit: int,
        category: str | None,
        source: str | None,
        basic: bool,
        expand: bool,
        graph: bool | None,
        intent: str | None,
        as_of: datetime | None,
        known_at: datetime | None,
        history: bool,
        disable: Sequence[str],
        min_score: float,
        order: str,
    ) -> RecallResult:
        import msgspec

        from events.clock import to_iso
        from memman.recall import llm as llm_recall
        from memman.recall import DEFAULT_MIN_SCORE, recall, succession

        valid_at = None if as_of is None else to_iso(as_of)
        with self._reading(query, basic=basic, category=category, source=source, as_of=valid_at, known_at=known_at,
                           disable=disable, today=as_of or self.clock()) as (db, upto), self._travel(db, valid_at, upto):
            terms, note = (
                llm_recall.expansion(self.registry.data_dir, self.store, self.db.directory, query) if expand else ([], None)
            )
            result = recall(  # a few more than asked: a successor just below the cut still moves up
                db, self.store, query, limit=limit + SUCCESSION_SLACK, category=category, source=source, basic=basic,
                graph=graph, intent=intent, expansion=terms, today=as_of or self.clock(), disable=disable,
                min_score=min_score, order=order, shown=limit,
            )  # fmt: skip
            if not basic:
                result = llm_recall.rerank(self.registry.data_dir, self.store, query, result)
            # last, after any rerank: a stale value never outranks its successor
            result = succession.finish(
                db.main.conn, result, now=valid_at or to_iso(self.clock()), limit=limit, history=history,
                reorder="succession" not in disable,
            )
            if valid_at or upto is not None:
                result = succession.travelled_meta(db.main.conn, result, as_of=valid_at, known_at=known_at)
        if self.degraded:
            degraded = "; ".join(x for x in (result.meta.degraded, *dict.fromkeys(self.degraded)) if x)
            result = msgspec.structs.replace(result, meta=msgspec.structs.replace(result.meta, degraded=degraded))
        if expand:
            degraded = "; ".join(x for x in (result.meta.degraded, note) if x) or None
            result = msgspec.structs.replace(
                result, meta=msgspec.structs.replace(result.meta, expansion=terms, degraded=degraded)
            )
        return result

    @contextmanager
    def _reading(
        self, query: str, *, basic: bool, category: str | None, source: str | None, as_of: str | None,
        known_at: datetime | None, disable: Sequence[str], today: datetime,
    ) -> Iterator[tuple[StoreDB, int | None]]:
        """(the projections recall reads, the seq `known_at` reaches): the
        local replica caught up, or, with `postgres.reads = server`, a scratch
        store of this question's candidates read from the server projections
        (memman/recall/server.py), removed after the block."""
        from memman.recall.server import reads_server

        dsn = reads_server(self.registry.data_dir, self.store, self.registry.require(self.store))
        if dsn is None:
            upto = None if known_at is None else self._known_upto(known_at)  # reads the log: never answered offline
            yield (self.fresh(offline=True) if basic else self.fresh_vectors(offline=True)), upto
            return
        from memman.recall.server import candidates, refuse_known_at
        from projections.server.view import ServerView

        if known_at is not None:
            raise refuse_known_at(self.store)
        with ServerView(dsn, self.store, clock=self.clock) as view:
            yield candidates(
                view, query, basic=basic, category=category, source=source, as_of=as_of, disable=disable, today=today
            ), None

    def _known_upto(self, known_at: datetime) -> int:
        return self.db.log.known_at(known_at)

    @contextmanager
    def _travel(self, db: StoreDB, as_of: str | None, upto: int | None) -> Iterator[None]:
        """The projections read as of then for the block (memman/recall/timeline.py)."""
        from memman.recall.timeline import travel

        with travel(db.main.conn, as_of=as_of, upto=upto):
            yield

    def resolve(self, memory_id: str) -> str:
        """A full memory id from a full id, or a unique prefix or suffix (>= 6 chars)."""
        wanted = memory_id.strip().upper()
        conn = self.fresh().main.conn
        if conn.execute("SELECT 1 FROM memories WHERE id=?", (wanted,)).fetchone():
            return wanted
        if len(wanted) >= MIN_ID_PREFIX:
            rows = conn.execute(
                "SELECT id FROM memories WHERE substr(id, 1, ?) = ? OR substr(id, -?) = ? LIMIT 2",
                (len(wanted), wanted, len(wanted), wanted),
            ).fetchall()
            if len(rows) == 1:
                return rows[0][0]
            if len(rows) > 1:
                raise BadInput(f"memory id {memory_id!r} is ambiguous; give more characters")
        raise UnknownMemory(f"unknown memory id {memory_id!r} in store {self.store!r}; see 'memman recall' or 'memman log'")

    def memory(self, memory_id: str) -> MemoryRow:
        from projections.queries import get_memory

        row = get_memory(self.fresh().main.conn, self.resolve(memory_id))
        assert row is not None
        return row
