"""A stale value never outranks its successor: the last step of recall.

After scoring, each pair of results where one succeeds the other is put in
order, newest first, and the older is marked in `stale`:

    superseded  an explicit chain: the reconciler's UPDATE (`superseded_by`,
                seen in `--as-of` and `--history` answers) or `remember
                --replaces` (honoured by the drain; marked here while the
                successor is still pending)
    older       the same subject and attribute with another value, or a change
                the newer one states ("switched CI from GitHub Actions to
                Buildkite"), read by the reconciler's own rules
                (workers/stages/subject.py), newer by occurred_at
    expired     its explicit end of validity (`--until`) has passed; moved
                after the results that still hold

Before that, among claims about the same named thing, those about the subject
the question asks come first (memman/recall/asked.py). The successor moves to
just above the first stale memory it succeeds; other
results keep their score order, so scores are no longer monotonic where a
successor moved. A "when" question keeps its chronological order (the older
first is the answer there) and only gets the marks.

`--history` adds, after each result, the memories it superseded, newest first:
the chain that led to it. A "when" question always gets the chain, in time
order: "when did we change the rate limit" is answered by the old value, its
end of validity and the new one.
"""

from __future__ import annotations

import msgspec
from apsw import Connection

from memman.recall import asked
from memman.output.results import RecallHit, RecallMeta, RecallResult, Signals
from projections.queries import MemoryRow, memories_by_id, terms
from workers.stages.reconcile import replaced_by_change
from workers.stages.subject import Reading, read

MAX_CHAIN = 20


def _same_attribute(new: Reading, old: Reading) -> bool:
    """Whether `new` gives `old`'s subject and attribute another value, or states a change away from it."""
    if set(new.names) == set(old.names) and sorted(new.words) == sorted(old.words) and new.values != old.values:
        return not (new.values ^ old.values) & (new.subject_values | old.subject_values)
    return new.change is not None and replaced_by_change(new, old) is not None


def _successors(hits: list[RecallHit], rows: dict[str, MemoryRow]) -> dict[str, tuple[str, str]]:
    """stale id -> (successor id, "superseded" | "older") among the hits."""
    ids = {h.id for h in hits}
    found: dict[str, tuple[str, str]] = {}
    for h in hits:
        row = rows.get(h.id)
        if row is None:
            continue
        if row.superseded_by in ids and row.superseded_at:
            found[h.id] = (row.superseded_by, "superseded")  # type: ignore[assignment]
        if row.replaces in ids:
            found[row.replaces] = (h.id, "superseded")  # type: ignore[index]
    readings = {h.id: read(h.content, h.entities) for h in hits}
    when = {h.id: (h.occurred_at, h.recorded_at, h.id) for h in hits}
    for i, a in enumerate(hits):
        for b in hits[i + 1 :]:
            older, newer = (a, b) if when[a.id] < when[b.id] else (b, a)
            if older.id in found or newer.id in found and found[newer.id][0] == older.id:
                continue
            if _same_attribute(readings[newer.id], readings[older.id]):
                found[older.id] = (newer.id, "older")
    return found


def _reorder(hits: list[RecallHit], found: dict[str, tuple[str, str]]) -> list[RecallHit]:
    order = list(hits)
    for _ in range(len(order)):  # each pass moves one successor; a chain needs one pass per link
        position = {h.id: n for n, h in enumerate(order)}
        moved = False
        for stale, (successor, _) in found.items():
            if stale in position and successor in position and position[successor] > position[stale]:
                order.insert(position[stale], order.pop(position[successor]))
                moved = True
                break
        if not moved:
            break
    return order


def successors_first(hits: list[RecallHit]) -> list[RecallHit]:
    """Re-establish the order after results were re-sorted by score (several
    stores merged): each stale hit below its successor, as marked."""
    found = {h.id: (h.superseded_by, h.stale) for h in hits if h.stale in ("superseded", "older") and h.superseded_by}
    return _reorder(hits, found)  # type: ignore[arg-type]


def _chain(conn: Connection, hit: RecallHit) -> list[RecallHit]:
    """The memories `hit` superseded, newest first (an UPDATE or --replaces each)."""
    chain: list[RecallHit] = []
    current = hit.id
    for _ in range(MAX_CHAIN):
        row = conn.execute(
            "SELECT id FROM memories WHERE superseded_by = ? AND superseded_at IS NOT NULL ORDER BY occurred_at DESC",
            (current,),
        ).fetchone()
        if row is None:
            break
        found = memories_by_id(conn, [row[0]])
        if row[0] not in found:
            break
        previous = found[row[0]]
        chain.append(_as_hit(previous, successor=current))
        current = previous.id
    return chain


def _as_hit(row: MemoryRow, *, successor: str) -> RecallHit:
    return RecallHit(
        id=row.id, content=row.content, score=0.0, category=row.category, importance=row.importance,
        entities=row.entities, source=row.source, created_at=row.created_at, status=row.status, signals=Signals(),
        occurred_at=row.occurred_at, recorded_at=row.recorded_at, valid_until=row.valid_to,
        superseded_by=successor, stale="superseded",
    )  # fmt: skip


def asked_first(hits: list[RecallHit], meta: RecallMeta) -> list[RecallHit]:
    """Claims about the subject asked before look-alikes about another one (memman/recall/asked.py)."""
    from workers.entities import aliases

    return asked.order(hits, terms(meta.query), aliases.named(meta.entities))


def finish(
    conn: Connection, result: RecallResult, *, now: str, limit: int, history: bool = False, reorder: bool = True
) -> RecallResult:
    """Order successors above what they succeed, mark the stale, cut to `limit`,
    and with `history` add each result's chain after it. `reorder=False`
    (`recall(disable=["succession"])`, an ablation) moves nothing: it marks
    and cuts to `limit` only."""
    hits = result.results
    rows = memories_by_id(conn, [h.id for h in hits])
    found = _successors(hits, rows) if reorder else {}
    marked = [
        msgspec.structs.replace(h, stale=found[h.id][1], superseded_by=found[h.id][0]) if h.id in found else h
        for h in hits
    ]
    ends = {i: row.valid_until for i, row in rows.items() if row.valid_until is not None}
    expired = {h.id for h in marked if h.id in ends and ends[h.id] <= now}
    marked = [msgspec.structs.replace(h, stale="expired") if h.id in expired and not h.stale else h for h in marked]
    if result.meta.ordering != "chronological":
        marked = _reorder(asked_first(marked, result.meta) if reorder else marked, found)
        marked = [h for h in marked if h.id not in expired] + [h for h in marked if h.id in expired]
    marked = marked[:limit]
    if history or result.meta.intent == "when":  # "when did X change" is answered by the chain itself
        seen = {h.id for h in marked}
        marked = [x for h in marked for x in (h, *(c for c in _chain(conn, h) if c.id not in seen))]
        if result.meta.ordering == "chronological":
            marked.sort(key=lambda h: (h.occurred_at, h.recorded_at, h.id))
    meta = msgspec.structs.replace(result.meta, pending=sum(1 for h in marked if h.status == "pending"))
    return msgspec.structs.replace(result, results=marked, meta=meta)


def travelled_meta(conn: Connection, result: RecallResult, *, as_of: str | None, known_at: object) -> RecallResult:
    """Name the time travelled to, and say truthfully why an answer is empty."""
    from events.clock import to_iso

    known = None if known_at is None else to_iso(known_at)  # type: ignore[arg-type]
    meta = msgspec.structs.replace(result.meta, as_of=as_of, known_at=known)
    if not result.results:
        count, ended = conn.execute(
            "SELECT count(*) FILTER (WHERE status IN ('active', 'pending')),"
            " count(*) FILTER (WHERE status IN ('expired', 'superseded')) FROM memories"
        ).fetchone()
        when = " and ".join(x for x in (f"true at {as_of}" if as_of else "", f"recorded by {known}" if known else "") if x)
        held = " ".join(x for x in (f"at {as_of}" if as_of else "", f"as recorded by {known}" if known else "") if x)
        meta = msgspec.structs.replace(meta, degraded=None, hint=_empty_hint(when, held, count, ended))
    return msgspec.structs.replace(result, meta=meta)


def _empty_hint(when: str, held: str, holding: int, ended: int) -> str:
    """Why a time-travelled answer is empty: nothing yet, nothing still valid, or no match."""
    if holding:
        return f"nothing matched among the {holding} memories {when}: try other words or another time"
    if ended:
        return f"no memory held {held}: the {ended} there were had expired or been superseded by then; try an earlier time"
    return f"no memory was {when}: try a later time"
