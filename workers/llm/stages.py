"""The LLM versions of the drain's stages. Same interfaces as the rule stages
(`workers/stages/`), so the deriver does not care which one it runs; each
also reports a `provenance()` (model, prompt version and hash, tokens, latency).

- `LLMExtractor` is also the quality gate: the model's advisory warnings are
  merged with the rule gate's (transient cues, receipts, very long text).
  When the model finds nothing worth storing it returns no facts; the deriver
  then records a reconciliation that retires the input itself (a DELETE whose
  target is the input, reason "nothing worth storing: ..."), so the memory ends
  `forgotten` with that reason, visible in `memman log` and undone by `restore`.
- `LLMReconciler` shows the model the ranked, capped candidates under aliases
  and maps its answer back; it never lets a reply retire a protected memory.
- `LLMEnricher` adds keywords, a summary (only when clearly shorter) and
  normalised entities; the keywords and summary feed the FTS index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from events.types import CATEGORIES, Candidate, Decision, Fact, MemoryId, Provenance
from workers.llm import prompts
from workers.llm.accounting import Accounted
from workers.llm.client import ChatClient
from workers.llm.schemas import EnrichReply, ExtractReply, ReconcileReply
from workers.stages.extract import ExtractInput, ExtractOutput
from workers.stages.extract import _warnings as rule_warnings
from workers.stages.reconcile import Known

MAX_CANDIDATES = 8  # shown to the model, ranked by similarity
SUMMARY_MIN_TEXT = 80  # shorter texts need no summary
SUMMARY_MAX_RATIO = 0.6  # a summary is kept only when at most this fraction of the text
NOTHING_WORTH_STORING = "nothing worth storing"


class LLMExtractOutput(ExtractOutput, frozen=True, kw_only=True):
    nothing: bool = False  # the model found nothing worth storing


def _dedupe(items: Sequence[str], seen: set[str] | None = None) -> list[str]:
    seen = set() if seen is None else seen
    out = []
    for item in items:
        key = item.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(item.strip())
    return out


class LLMExtractor(Accounted):
    def __init__(self, client: ChatClient) -> None:
        super().__init__(client, prompts.EXTRACT)

    def extract(self, item: ExtractInput, new_id: Callable[[], str]) -> LLMExtractOutput:
        reply: ExtractReply = self._ask(
            {"text": item.text, "category_hint": item.category, "entities_hint": item.entities}
        )
        user = _dedupe(item.entities)
        keep_category = item.category != "general" and item.category in CATEGORIES
        facts = [
            Fact(
                memory_id=MemoryId(item.memory_id if i == 0 else new_id()),
                text=" ".join(out.text.split()),
                category=item.category if keep_category else out.category,  # type: ignore[arg-type]
                importance=item.importance if item.importance != 3 else out.importance,
                entities=user + _dedupe(out.entities, {e.casefold() for e in user}),
            )
            for i, out in enumerate(reply.facts)
        ]
        warnings = _dedupe([*rule_warnings(item.text), *(f"llm: {w}" for w in reply.warnings)])
        if not facts:
            warnings.append(f"{NOTHING_WORTH_STORING}: {reply.reason or 'no durable fact in the text'}")
        return LLMExtractOutput(facts=facts, warnings=warnings, nothing=not facts)


class LLMReconciler(Accounted):
    def __init__(self, client: ChatClient) -> None:
        super().__init__(client, prompts.RECONCILE)

    def decide(self, memory_id: str, text: str, entities: Sequence[str], candidates: Sequence[Known]) -> Decision:
        ranked = sorted(candidates, key=lambda k: (-(k.similarity or 0.0), k.memory_id))[:MAX_CANDIDATES]
        shown = [Candidate(memory_id=MemoryId(k.memory_id), similarity=round(k.similarity or 0.0, 4)) for k in ranked]
        mid = MemoryId(memory_id)
        if not ranked:  # nothing to reconcile against: no call needed
            return Decision(memory_id=mid, action="ADD", reason="no candidates", candidates=shown)
        aliases = {f"c{i}": k for i, k in enumerate(ranked, start=1)}

        def check(reply: object) -> None:
            assert isinstance(reply, ReconcileReply)
            if reply.action != "ADD" and reply.target not in aliases:
                raise ValueError(f"{reply.action} needs a target among {', '.join(aliases)}, got {reply.target!r}")

        payload = {
            "fact": text,
            "entities": list(entities),
            "candidates": [
                {"id": a, "text": k.content, "similarity": round(k.similarity or 0.0, 3)} for a, k in aliases.items()
            ],
        }
        reply: ReconcileReply = self._ask(payload, check)
        reason = " ".join(reply.reason.split())[:300]
        if reply.action == "ADD":
            return Decision(memory_id=mid, action="ADD", reason=reason, candidates=shown)
        target = aliases[reply.target]  # type: ignore[index]
        if reply.action in ("UPDATE", "DELETE") and target.protected:
            return Decision(
                memory_id=mid,
                action="ADD",
                reason=f"model said {reply.action} {target.memory_id}, which is protected; kept both",
                candidates=shown,
            )
        merged = None
        if reply.action == "UPDATE" and reply.text and " ".join(reply.text.split()) != " ".join(text.split()):
            merged = " ".join(reply.text.split())
        return Decision(
            memory_id=mid,
            action=reply.action,
            target=MemoryId(target.memory_id),
            reason=reason,
            candidates=shown,
            text=merged,
        )


class Enrichment(msgspec.Struct, frozen=True, kw_only=True):
    memory_id: str
    keywords: list[str]
    summary: str
    entities: list[str]


class LLMEnricher(Accounted):
    def __init__(self, client: ChatClient) -> None:
        super().__init__(client, prompts.ENRICH)

    def enrich(self, items: Sequence[tuple[str, str]]) -> list[Enrichment]:
        """(memory id, text) pairs -> one Enrichment each, in order; one call."""
        if not items:
            return []
        aliases = {f"m{i}": pair for i, pair in enumerate(items, start=1)}

        def check(reply: object) -> None:
            assert isinstance(reply, EnrichReply)
            missing = set(aliases) - {m.id for m in reply.memories}
            if missing:
                raise ValueError(f"no entry for {', '.join(sorted(missing))}")

        reply: EnrichReply = self._ask({"memories": [{"id": a, "text": t} for a, (_, t) in aliases.items()]}, check)
        by_alias = {m.id: m for m in reply.memories}
        out = []
        for alias, (memory_id, text) in aliases.items():
            got = by_alias[alias]
            summary = " ".join(got.summary.split())
            if len(text) < SUMMARY_MIN_TEXT or len(summary) > SUMMARY_MAX_RATIO * len(text):
                summary = ""  # kept only when clearly shorter than the text
            out.append(
                Enrichment(
                    memory_id=memory_id,
                    keywords=_dedupe([k.lower() for k in got.keywords]),
                    summary=summary,
                    entities=_dedupe(got.entities),
                )
            )
        return out


def rules_provenance(stage: object, latency_ms: float) -> Provenance:
    """Provenance for a stage without accounting (the rule stages)."""
    return Provenance(
        implementation=getattr(stage, "implementation", "rules"),
        version=getattr(stage, "version", "1"),
        latency_ms=round(latency_ms, 3),
    )
