"""What erasure leaves of an event: the same event with every field that
carries a purged memory's content emptied, ids, times and numbers kept.

    memory.remembered / .replaced  text -> "[purged]", entities, meta emptied
    facts.extracted                the purged facts' texts and entities; warnings
    memory.reconciled              a decision about or against a purged memory
                                   loses its merged text and its reason
    memory.enriched                keywords, summary, entities
    memory.embedded                the purged memories' vectors are dropped
    edges.inferred                 edges touching a purged memory are dropped
    edge.linked                    meta
    memory.forgotten               reason (it may quote the text)
    derivation.failed              error (a provider's error may quote the text)
    work.retried / work.purged     reason

`scrub_text` is the second pass of `purge --match`: every string field of any
event that still holds the matched text gets it replaced by "[purged]".
"""

from __future__ import annotations

import re
from functools import singledispatch

import msgspec

from events.types import (
    DerivationFailed,
    EdgeLinked,
    EdgesInferred,
    Event,
    FactsExtracted,
    MemoryEmbedded,
    MemoryEnriched,
    MemoryForgotten,
    MemoryReconciled,
    MemoryRemembered,
    MemoryReplaced,
    SessionCaptured,
    SessionExtracted,
    WorkPurged,
    WorkRetried,
)

PURGED = "[purged]"
replace = msgspec.structs.replace


@singledispatch
def scrub(event: object, ids: frozenset[str]) -> object:
    """Events that carry no content (ids, times, numbers, settings) stay as they are."""
    return event


@scrub.register(MemoryRemembered | MemoryReplaced)
def _said(e: MemoryRemembered | MemoryReplaced, ids: frozenset[str]) -> object:
    return replace(e, text=PURGED, entities=[], meta={}) if e.memory_id in ids else e


@scrub.register(SessionCaptured)
def _captured(e: SessionCaptured, ids: frozenset[str]) -> object:
    return replace(e, text=PURGED) if e.capture_id in ids else e


@scrub.register(SessionExtracted)
def _taken(e: SessionExtracted, ids: frozenset[str]) -> object:
    if e.capture_id not in ids and not any(m.memory_id in ids for m in e.memories):
        return e
    return replace(e, memories=[replace(m, text=PURGED) if m.memory_id in ids else m for m in e.memories], warnings=[])


@scrub.register(FactsExtracted)
def _facts(e: FactsExtracted, ids: frozenset[str]) -> object:
    if e.input_id not in ids and not any(f.memory_id in ids for f in e.facts):
        return e
    facts = [replace(f, text=PURGED, entities=[]) if f.memory_id in ids else f for f in e.facts]
    return replace(e, facts=facts, warnings=[])


@scrub.register(MemoryReconciled)
def _reconciled(e: MemoryReconciled, ids: frozenset[str]) -> object:
    def clean(d):  # type: ignore[no-untyped-def]
        touched = d.memory_id in ids or (d.target is not None and d.target in ids)
        return replace(d, text=None, reason="") if touched else d

    return replace(e, decisions=[clean(d) for d in e.decisions])


@scrub.register(MemoryEnriched)
def _enriched(e: MemoryEnriched, ids: frozenset[str]) -> object:
    return replace(e, keywords=[], summary="", entities=[]) if e.memory_id in ids else e


@scrub.register(MemoryEmbedded)
def _embedded(e: MemoryEmbedded, ids: frozenset[str]) -> object:
    return replace(e, vectors=[v for v in e.vectors if v.memory_id not in ids])


@scrub.register(EdgesInferred)
def _edges(e: EdgesInferred, ids: frozenset[str]) -> object:
    return replace(e, edges=[x for x in e.edges if x.src not in ids and x.dst not in ids])


@scrub.register(EdgeLinked)
def _linked(e: EdgeLinked, ids: frozenset[str]) -> object:
    return replace(e, meta={}) if e.src in ids or e.dst in ids else e


@scrub.register(MemoryForgotten)
def _forgotten(e: MemoryForgotten, ids: frozenset[str]) -> object:
    return replace(e, reason="") if e.memory_id in ids else e


@scrub.register(DerivationFailed)
def _failed(e: DerivationFailed, ids: frozenset[str]) -> object:
    return replace(e, error="") if e.input_id in ids else e


@scrub.register(WorkRetried | WorkPurged)
def _work(e: WorkRetried | WorkPurged, ids: frozenset[str]) -> object:
    return replace(e, reason="") if e.input_id in ids else e


def scrub_text(event: Event, needle: str) -> Event:
    """`event` with every occurrence of `needle` (case-insensitive) in any of
    its strings replaced by "[purged]"."""
    pattern = re.compile(re.escape(needle), re.IGNORECASE)

    def walk(value: object) -> object:
        if isinstance(value, str):
            return pattern.sub(PURGED, value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        return value

    raw = msgspec.to_builtins(event)
    return msgspec.convert(walk(raw), type(event))  # type: ignore[return-value]
