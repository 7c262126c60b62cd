"""The audit trail: a one-line, human-readable account of every event
(who, what, when; for derived events the stage, implementation, model and
input), and a memory's full history."""

from __future__ import annotations

from datetime import datetime

import msgspec

from events.types import (
    DerivationFailed,
    EdgeLinked,
    EdgesInferred,
    EdgeUnlinked,
    FactsExtracted,
    MemoryEmbedded,
    MemoryEnriched,
    MemoryForgotten,
    MemoryAccessed,
    MemoryProtected,
    MemoryPurged,
    MemoryReconciled,
    MemoryRemembered,
    MemoryReplaced,
    MemoryRestored,
    MemoryUnprotected,
    Provenance,
    Recorded,
    SessionCaptured,
    SessionExtracted,
    StoreConfigured,
)
from memman.render import one_line, short
from memman.service import Memman
from projections.queries import MemoryRow


class LogLine(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    id: str
    type: str
    recorded_at: str
    occurred_at: str
    actor: str
    causation: int | None
    stage: str | None
    summary: str


class History(msgspec.Struct, frozen=True, kw_only=True):
    memory: MemoryRow
    events: list[LogLine]


def _how(p: Provenance) -> str:
    parts = [f"{p.implementation}/{p.version}"]
    if p.model:
        parts.append(f"model={p.model}")
    if p.prompt_hash:
        parts.append(f"prompt={p.prompt_hash[:12]}")
    if p.latency_ms:
        parts.append(f"{p.latency_ms:.1f}ms")
    if p.tokens_in or p.tokens_out:
        parts.append(f"tokens={p.tokens_in}+{p.tokens_out}")
    return " ".join(parts)


def summarise(rec: Recorded) -> str:  # noqa: C901 - one arm per event type is the clearest form
    e = rec.event
    if isinstance(e, MemoryRemembered):
        extra = (f" replaces {short(e.replaces)}" if e.replaces else "") + (
            f" valid until {e.valid_until[:19]}" if e.valid_until else ""
        )
        return f"{short(e.memory_id)} [{e.category}, imp {e.importance}, {e.source}] {one_line(e.text, 100)!r}{extra}"
    if isinstance(e, MemoryReplaced):
        return f"{short(e.memory_id)} text -> {one_line(e.text, 100)!r}"
    if isinstance(e, MemoryForgotten):
        return f"{short(e.memory_id)} forgotten" + (f": {e.reason}" if e.reason else "")
    if isinstance(e, MemoryRestored):
        return f"{short(e.memory_id)} restored"
    if isinstance(e, MemoryProtected):
        return f"{short(e.memory_id)} {'protected' if e.protected else 'unprotected'}"
    if isinstance(e, MemoryPurged):
        ids = ", ".join(short(m) for m in e.purged[:8]) + (f" and {len(e.purged) - 8} more" if len(e.purged) > 8 else "")
        why = f": {e.reason}" if e.reason else ""
        return f"purged {ids} by {e.by or 'unknown'}; {len(e.rewritten)} event(s) rewritten{why}"
    if isinstance(e, MemoryUnprotected):
        return f"{short(e.memory_id)} unprotected"
    if isinstance(e, MemoryAccessed):
        uses = ", ".join(f"{short(a.memory_id)} x{a.count}" for a in e.accesses[:8])
        more = f" and {len(e.accesses) - 8} more" if len(e.accesses) > 8 else ""
        return f"used by recall: {uses}{more}"
    if isinstance(e, EdgeLinked):
        return f"{short(e.src)} -{e.edge_type}({e.weight:g})-> {short(e.dst)} (manual)"
    if isinstance(e, EdgeUnlinked):
        return f"{short(e.src)} -{e.edge_type}-x {short(e.dst)}"
    if isinstance(e, StoreConfigured):
        return f"{e.setting} = {e.value}"
    if isinstance(e, SessionCaptured):
        return (f"{short(e.capture_id)} {e.agent or 'agent'} session {one_line(e.session_id, 40)!r} at {e.trigger or 'a hook'}:"
                f" bytes {e.start}-{e.end}, {len(e.text)} chars {one_line(e.text, 80)!r}")
    via = f"from #{rec.causation} by {rec.actor}"
    if isinstance(e, SessionExtracted):
        kept = "; ".join(f"{short(m.memory_id)} [{m.category}] {one_line(m.text, 60)!r}" for m in e.memories) or "nothing"
        warn = f" warnings={e.warnings}" if e.warnings else ""
        return f"capture {short(e.capture_id)} -> {len(e.memories)} memory(ies) {via} [{_how(e.provenance)}]: {kept}{warn}"
    if isinstance(e, FactsExtracted):
        facts = "; ".join(f"{short(f.memory_id)} {one_line(f.text, 60)!r} {f.entities}" for f in e.facts)
        warn = f" warnings={e.warnings}" if e.warnings else ""
        return f"{len(e.facts)} fact(s) {via} [{_how(e.provenance)}]: {facts}{warn}"
    if isinstance(e, MemoryReconciled):
        decisions = "; ".join(
            f"{short(d.memory_id)} {d.action}"
            + (f" {short(d.target)}" if d.target else "")
            + (f" ({d.reason})" if d.reason else "")
            + f" among {len(d.candidates)} candidate(s)"
            for d in e.decisions
        )
        shown = "; ".join(
            f"{short(d.memory_id)} was shown " + ", ".join(f"{short(c.memory_id)} {c.similarity:.2f}" for c in d.candidates)
            for d in e.decisions
            if d.candidates
        )
        return f"{decisions} {via} [{_how(e.provenance)}]" + (f" ({shown})" if shown else "")
    if isinstance(e, MemoryEnriched):
        extra = (f" summary={e.summary!r}" if e.summary else "") + (f" entities={e.entities}" if e.entities else "")
        return f"{short(e.memory_id)} keywords={e.keywords}{extra} {via} [{_how(e.provenance)}]"
    if isinstance(e, MemoryEmbedded):
        return f"{len(e.vectors)} vector(s) {e.fingerprint} {via} [{_how(e.provenance)}]"
    if isinstance(e, EdgesInferred):
        edges = ", ".join(f"{short(x.src)}-{x.edge_type}->{short(x.dst)}" for x in e.edges) or "none"
        return f"edges: {edges} {via} [{_how(e.provenance)}]"
    if isinstance(e, DerivationFailed):
        state = "dead-lettered" if e.dead else f"retry after {(e.retry_after or '')[:19]}"
        return f"stage {e.stage} failed (attempt {e.attempt}, {state}) {via}: {one_line(e.error, 120)}"
    return rec.type


def line(rec: Recorded) -> LogLine:
    return LogLine(
        seq=rec.seq,
        id=rec.id,
        type=rec.type,
        recorded_at=rec.recorded_at.isoformat(),
        occurred_at=rec.occurred_at.isoformat(),
        actor=rec.actor,
        causation=rec.causation,
        stage=rec.stage,
        summary=summarise(rec),
    )


def _subject(app: Memman, memory_id: str) -> str:
    """A memory id (full, or a unique prefix or suffix), or a session capture's id
    (which is an input, never a memory), as `memman log --memory` takes it."""
    from events.errors import UnknownMemory

    try:
        return app.resolve(memory_id)
    except UnknownMemory:
        wanted = memory_id.strip().upper()
        rows = app.fresh().main.conn.execute(
            "SELECT memory_id FROM work WHERE kind='captured' AND"
            " (memory_id=? OR (length(?) >= 6 AND (substr(memory_id, 1, length(?)) = ? OR substr(memory_id, -length(?)) = ?)))"
            " LIMIT 2",
            (wanted, wanted, wanted, wanted, wanted, wanted),
        ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
        raise


def trail(
    app: Memman, *, memory_id: str | None = None, since: datetime | None = None, limit: int = 50
) -> list[LogLine]:
    """The newest `limit` events (of one memory, or since a time), oldest first."""
    log = app.db.log
    if memory_id is not None:
        events = log.for_memory(_subject(app, memory_id))
        if since is not None:
            events = [r for r in events if r.recorded_at >= since]
    elif since is not None:
        events = log.between(since)
    else:
        head = log.head()
        events = list(log.read(after=max(0, head - limit)))
    return [line(r) for r in events[-limit:]]


def history(app: Memman, memory_id: str) -> History:
    row = app.memory(memory_id)
    return History(memory=row, events=[line(r) for r in app.db.log.for_memory(row.id)])
