"""`scheduler queue`: read the drain queue (the `work` projection) and act on
it. Retry and purge are events (`work.retried`, `work.purged`) handled by the
queue projector, so a replay rebuilds exactly the same queue.

Retry gives a failed or dead-lettered input one more attempt now; attempts
keep counting (each failed attempt is its own `derivation.failed` event), so
an input that fails again is dead-lettered again. Purge gives up on it: the
drain stops trying, while its text stays in the log and keyword-recallable.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from events.clock import to_iso
from events.errors import BadInput, NotFound
from events.types import MemoryId, WorkPurged, WorkRetried
from memman.service import Memman

States = ("pending", "failed", "dead", "done", "stale", "purged")
OPEN = ("pending", "failed", "dead")
_COLUMNS = "input_seq, memory_id, kind, state, attempts, last_stage, last_error, retry_after, queued_at, updated_at"


class WorkItem(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    memory_id: str
    kind: str
    state: str
    attempts: int
    last_stage: str | None
    last_error: str | None
    retry_after: str | None
    queued_at: str
    updated_at: str
    text: str | None = None


class Derivation(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    type: str
    stage: str | None
    recorded_at: str
    error: str | None = None


class WorkDetail(msgspec.Struct, frozen=True, kw_only=True):
    item: WorkItem
    history: list[Derivation]  # what the drain recorded for this input, oldest first


class QueueAction(msgspec.Struct, frozen=True, kw_only=True):
    action: Literal["retried", "purged"]
    store: str
    items: list[int]  # input seqs acted on
    event_seqs: list[int]


class UnknownWork(NotFound):
    pass


def _item(row: tuple) -> WorkItem:  # type: ignore[type-arg]
    return WorkItem(
        seq=row[0],
        memory_id=row[1],
        kind=row[2],
        state=row[3],
        attempts=row[4],
        last_stage=row[5],
        last_error=row[6],
        retry_after=row[7],
        queued_at=row[8],
        updated_at=row[9],
    )


def items(app: Memman, states: tuple[str, ...] = OPEN, limit: int = 100) -> list[WorkItem]:
    unknown = sorted(set(states) - set(States))
    if unknown:
        raise BadInput(f"unknown queue state {unknown[0]!r}; choose from {', '.join(States)}")
    conn = app.fresh().main.conn
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM work WHERE state IN ({','.join('?' * len(states))}) ORDER BY input_seq LIMIT ?",
        (*states, limit),
    ).fetchall()
    return [_item(r) for r in rows]


def get(app: Memman, seq: int) -> WorkItem:
    row = app.fresh().main.conn.execute(f"SELECT {_COLUMNS} FROM work WHERE input_seq=?", (seq,)).fetchone()
    if row is None:
        raise UnknownWork(f"no queue item with input seq {seq} in store {app.store!r}; see 'memman scheduler queue list'")
    return _item(row)


def show(app: Memman, seq: int) -> WorkDetail:
    item = get(app, seq)
    source = app.db.log.get(seq).event
    history = [
        Derivation(
            seq=rec.seq,
            type=rec.type,
            stage=rec.stage,
            recorded_at=to_iso(rec.recorded_at),
            error=getattr(rec.event, "error", None),
        )
        for rec in app.db.log.derivations_of(seq)
    ]
    return WorkDetail(item=msgspec.structs.replace(item, text=getattr(source, "text", None)), history=history)


def _targets(app: Memman, seqs: list[int], every: str | None, verb: str) -> list[WorkItem]:
    if every is not None:
        chosen = items(app, (every,), limit=1_000_000)
        if not chosen:
            raise BadInput(f"no {every} items in store {app.store!r}; nothing to {verb}")
        return chosen
    if not seqs:
        raise BadInput(f"name the input seqs to {verb}, or pass --all-failed / --all-dead")
    chosen = [get(app, seq) for seq in dict.fromkeys(seqs)]
    for item in chosen:
        if item.state not in ("failed", "dead"):
            raise BadInput(f"queue item {item.seq} is {item.state}; only failed or dead items can be {verb}d")
    return chosen


def _act(app: Memman, seqs: list[int], every: str | None, verb: str, reason: str) -> QueueAction:
    from events.log import NewEvent

    app.ensure_writable()
    chosen = _targets(app, seqs, every, verb)
    cls = WorkRetried if verb == "retry" else WorkPurged
    batch = [
        NewEvent(event=cls(input_id=MemoryId(i.memory_id), reason=reason), actor="operator", causation=i.seq)
        for i in chosen
    ]
    recorded = app.db.log.append_many(batch)  # all or nothing
    app.db.main.catch_up()
    return QueueAction(
        action="retried" if verb == "retry" else "purged",
        store=app.store,
        items=[i.seq for i in chosen],
        event_seqs=[r.seq for r in recorded],
    )


def retry(app: Memman, seqs: list[int], every: str | None = None, reason: str = "") -> QueueAction:
    return _act(app, seqs, every, "retry", reason)


def purge(app: Memman, seqs: list[int], every: str | None = None, reason: str = "") -> QueueAction:
    return _act(app, seqs, every, "purge", reason)
