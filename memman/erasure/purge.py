"""`memman purge`: destroy the content of memories, keep a tombstone.

1. Plan. The named memories (ids, or every memory whose text contains
   `--match TEXT`) and their families: a memory split from a remembered text
   shares that text, so purging one purges the input and all its facts.
2. Rewrite, under the drain lock: every event concerning the family is
   scrubbed (memman/erasure/scrub.py); with `--match`, any other event still
   holding the text has it replaced too. The new payloads and a
   `memory.purged` tombstone (ids, reason, who, and for each rewritten seq
   the digests of its payload before and after; no content) land in one
   transaction through `EventLog.rewrite_payloads`, the log's only rewrite.
3. Rebuild. Every derived file of the store (projections, vectors and their
   flat cache, query and LLM caches, corrupt copies set aside) is deleted and
   replayed from the scrubbed log: replay gives the store minus the purged
   memories. The log is VACUUMed and its WAL checkpointed and truncated, so
   no free page or WAL frame keeps the old bytes.
4. Verify. Every file under the data dir is scanned for the purged texts;
   any that still holds one (a WAL another process keeps open, a backup
   memman does not manage) is named in the report, never silently passed.

Kept shadows and archives of a `rederive --from-inputs` are stores of their
own holding copies of the texts: the same texts are purged from them too.
"""

from __future__ import annotations

import getpass
import time

import msgspec

from events.errors import BadInput, NotFound
from events.log import EventLog, NewEvent
from events.types import (
    FactsExtracted,
    MemoryId,
    MemoryPurged,
    MemoryRemembered,
    MemoryReplaced,
    Rewrite,
    SessionCaptured,
    SessionExtracted,
)
from memman.erasure.files import log_holding, rebuild_derived, stores_holding, vacuum
from memman.erasure.scrub import scrub, scrub_text
from memman.render import one_line
from memman.service import Memman

MIN_MATCH = 3


class Preview(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: str
    content: str
    protected: bool = False


class PurgePlan(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    match: str | None
    memories: list[Preview]  # the family: everything that will be purged
    texts: list[str]  # what must not survive anywhere (the inputs' and facts' texts, the match)


class PurgeReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    purged: list[str]
    rewritten: int  # event payloads rewritten
    tombstone_seq: int
    rebuilt: list[str]  # derived files deleted and rebuilt from the log
    related: dict[str, int]  # other stores (rederive shadows, archives): memories purged there
    remaining: list[str]  # files under the data dir that still hold a purged text (should be empty)
    seconds: float


def _family(log: EventLog, named: set[str]) -> set[str]:
    """The named memories plus every memory sharing an input text with them
    (facts split from one remembered text; memories taken from one session
    capture, and the capture itself, whose excerpt holds their text)."""
    family, frontier = set(named), list(named)
    while frontier:
        for rec in log.for_memory(frontier.pop()):
            e = rec.event
            shared: tuple[str, ...] = ()
            if isinstance(e, FactsExtracted):
                shared = (e.input_id, *(f.memory_id for f in e.facts))
            elif isinstance(e, SessionExtracted):
                shared = (e.capture_id, *(m.memory_id for m in e.memories))
            if shared:
                for m in shared:
                    if m not in family:
                        family.add(m)
                        frontier.append(m)
    return family


def _matching(app: Memman, needle: str) -> set[str]:
    if len(needle.strip()) < MIN_MATCH:
        raise BadInput(f"--match needs at least {MIN_MATCH} characters, got {needle!r}")
    found: set[str] = set()
    lowered = needle.casefold()
    for rec in app.db.log.read(types={"memory.remembered", "memory.replaced", "facts.extracted"}):
        e = rec.event
        if isinstance(e, MemoryRemembered | MemoryReplaced) and lowered in e.text.casefold():
            found.add(e.memory_id)
        elif isinstance(e, FactsExtracted):
            found.update(f.memory_id for f in e.facts if lowered in f.text.casefold())
    return found


def plan(app: Memman, ids: list[str], match: str | None = None) -> PurgePlan:
    if bool(ids) == (match is not None):
        raise BadInput("name the memories to purge: IDs, or --match TEXT (not both)")
    named = {app.resolve(i) for i in ids} if ids else _matching(app, match)  # type: ignore[arg-type]
    if not named:
        raise NotFound(f"no memory in store {app.store!r} contains {match!r}; nothing to purge")
    family = _family(app.db.log, named)
    rows = {r.id: r for r in (app.memory(m) for m in sorted(family) if _exists(app, m))}
    _refuse_implicit_protected(rows, set() if match else named, match)
    texts = {match} if match else set()
    for m in family:
        for rec in app.db.log.for_memory(m):
            e = rec.event
            if isinstance(e, MemoryRemembered | MemoryReplaced) and e.memory_id == m:
                texts.add(e.text)
            elif isinstance(e, SessionCaptured) and e.capture_id == m:
                texts.add(e.text)
            elif isinstance(e, FactsExtracted):
                texts.update(f.text for f in e.facts if f.memory_id == m)
    previews = [
        Preview(id=m, status=r.status, content=one_line(r.content, 100), protected=bool(r.protected))
        for m, r in sorted(rows.items())
    ]
    return PurgePlan(store=app.store, match=match, memories=previews, texts=sorted(t for t in texts if t))


def _refuse_implicit_protected(rows: dict, named: set[str], match: str | None) -> None:  # type: ignore[type-arg]
    """A protected memory is purged only when its id is named: never because
    it matched --match, nor because it shares an input text with a named one."""
    implicit = sorted(m for m, r in rows.items() if r.protected and m not in named)
    if not implicit:
        return
    why = f"contain {match!r}" if match else "share an input text with the memories named"
    listed = " ".join(implicit)
    raise BadInput(
        f"protected memories {listed} {why}; a protected memory is purged only by naming it:"
        f" 'memman purge {listed}' (or unprotect it first); nothing was changed"
    )


def _exists(app: Memman, memory_id: str) -> bool:
    return app.fresh().main.conn.execute("SELECT 1 FROM memories WHERE id=?", (memory_id,)).fetchone() is not None


def _recorded(log: EventLog, payloads: dict[int, bytes]) -> list[Rewrite]:
    """Each rewritten seq with its row checksum before and after (events/integrity.py)."""
    return [Rewrite(seq=seq, before=b, after=a) for seq, p in sorted(payloads.items()) for b, a in [log.checksums(seq, p)]]


def _rewrites(log: EventLog, family: frozenset[str], needles: list[str]) -> dict[int, bytes]:
    """New payloads for every event that carries the family's content or any
    of `needles` (case-insensitive)."""
    seqs = {rec.seq for m in family for rec in log.for_memory(m)}
    lowered = [n.casefold().encode() for n in needles]
    if lowered:
        for seq, payload in log.plain_payloads():  # decompressed (events/codec.py)
            if any(n in payload.lower() for n in lowered):
                seqs.add(seq)
    payloads: dict[int, bytes] = {}
    for seq in sorted(seqs):
        rec = log.get(seq)
        cleaned = scrub(rec.event, family)
        for needle in needles:
            cleaned = scrub_text(cleaned, needle)  # type: ignore[arg-type]
        if cleaned != rec.event:
            payloads[seq] = log.encode(cleaned)  # type: ignore[arg-type]
    return payloads


def purge(app: Memman, chosen: PurgePlan, *, reason: str = "") -> PurgeReport:
    """Carry out `chosen` (from `plan`); see the module docstring."""
    from workers.lock import drain_lock

    app.ensure_writable()
    started = time.perf_counter()
    family = frozenset(p.id for p in chosen.memories) | _family(app.db.log, {p.id for p in chosen.memories})
    data_dir = app.registry.data_dir
    directory = app.db.directory
    with drain_lock(data_dir):
        log = app.db.log
        payloads = _rewrites(log, family, [chosen.match] if chosen.match else [])
        rewritten = _recorded(log, payloads)
        tombstone = MemoryPurged(
            purged=[MemoryId(m) for m in sorted(family)], reason=reason, by=_user(), rewritten=rewritten
        )
        recorded = log.rewrite_payloads(payloads, record=NewEvent(event=tombstone, actor="cli"))
        assert recorded is not None
        app.close()
        rebuilt = rebuild_derived(directory, app.clock)
        vacuum(directory)
        related = _purge_related(app, chosen.texts, reason)
    return PurgeReport(
        store=app.store,
        purged=sorted(family),
        rewritten=len(payloads),
        tombstone_seq=recorded.seq,
        rebuilt=rebuilt,
        related=related,
        remaining=stores_holding(data_dir, chosen.texts) + log_holding(directory, chosen.texts),
        seconds=round(time.perf_counter() - started, 3),
    )


def _purge_related(app: Memman, texts: list[str], reason: str) -> dict[str, int]:
    """Purge the same texts from this store's rederive shadows and archives
    (the caller holds the drain lock)."""
    done: dict[str, int] = {}
    prefixes = (f"{app.store[:40]}-rederive-", f"{app.store[:40]}-before-rederive-")
    for name in app.registry.names():
        if not name.startswith(prefixes):
            continue
        with Memman(app.registry.data_dir, name, clock=app.clock) as other:
            ids = set().union(*(_matching(other, t) for t in texts if len(t.strip()) >= MIN_MATCH))
            if not ids:
                continue
            family = frozenset(_family(other.db.log, ids))
            payloads = _rewrites(other.db.log, family, [t for t in texts if len(t.strip()) >= MIN_MATCH])
            rewritten = _recorded(other.db.log, payloads)
            tombstone = MemoryPurged(purged=sorted(family), reason=reason, by=_user(), rewritten=rewritten)  # type: ignore[arg-type]
            other.db.log.rewrite_payloads(payloads, record=NewEvent(event=tombstone, actor="cli"))
            directory = other.db.directory
            other.close()
            rebuild_derived(directory, app.clock)
            vacuum(directory)
            done[name] = len(family)
    return done


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"

