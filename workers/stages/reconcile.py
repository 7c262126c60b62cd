"""The default reconciler: decides, for each extracted fact, whether it is new
(ADD), a change of value of something already known (UPDATE), or already known
(NONE), by similarity and shared entities. No LLM, deterministic.

Decisions are lexical and entity-based, so they are explainable and do not
depend on the embedder's calibration; vectors only help find candidates.

    NONE    the same text (case, spacing and end punctuation aside), or word
            overlap >= 0.9 with the same values and the same named entities
            (a near-identical sentence about another subject is a new fact)
    UPDATE  the same words (overlap >= 0.85) and the same named entities, but a
            value differs ("timeout is 30s" -> "timeout is 60s", "Python 3.11" ->
            "Python 3.12"). Strict on purpose: two texts that differ in a subject
            word ("search API on port 9090" vs "ledger API on port 8443") are two
            facts, and wrongly superseding one hides it from recall.
    ADD     everything else

Protected memories are never superseded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from events.types import Candidate, Decision
from workers.entities import aliases

_WORDS = re.compile(r"\w+", re.UNICODE)
NEAR_DUPLICATE = 0.9
SAME_SUBJECT = 0.85
MAX_CANDIDATES = 8


class Known(msgspec.Struct, frozen=True, kw_only=True):
    """An existing memory offered as a candidate, with its vector similarity."""

    memory_id: str
    content: str
    entities: list[str]
    protected: bool = False
    similarity: float | None = None


def normalise(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?;: ")


_DIGIT = re.compile(r"\d")


def is_value(token: str) -> bool:
    """A value (30s, 3.11, port 8080) rather than a name: it holds a digit."""
    return _DIGIT.search(token) is not None


def named(entities: Sequence[str]) -> set[str]:
    """The named entities, canonical (workers/entities/aliases.py: "Postgres"
    is "postgresql"): the ones that say what a memory is about."""
    return aliases.named(entities)


def _split(text: str, entities: Sequence[str]) -> tuple[set[str], set[str], set[str]]:
    """(plain words, value tokens, named entities) of a text."""
    tokens = {t.casefold() for t in _WORDS.findall(text)}
    values = {t for t in tokens if is_value(t)} | {e.casefold() for e in entities if is_value(e)}
    return tokens - values, values, named(entities)


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class RuleReconciler:
    implementation = "rules"
    version = "1"

    def decide(self, memory_id: str, text: str, entities: Sequence[str], candidates: Sequence[Known]) -> Decision:
        words, values, names = _split(text, entities)
        scored = []
        for known in candidates:
            split = _split(known.content, known.entities)  # once per candidate: the drain's hot loop
            overlap = _jaccard(words, split[0])
            similarity = known.similarity if known.similarity is not None else overlap
            scored.append((max(overlap, similarity), known, overlap, split))
        scored.sort(key=lambda item: (-item[0], item[1].memory_id))
        shown = [
            Candidate(memory_id=k.memory_id, similarity=round(score, 4)) for score, k, _, _ in scored[:MAX_CANDIDATES]
        ]
        for _, known, overlap, (k_words, k_values, k_names) in scored[:MAX_CANDIDATES]:
            if normalise(known.content) == normalise(text):
                return Decision(
                    memory_id=memory_id, action="NONE", target=known.memory_id, reason="same text", candidates=shown
                )
            if overlap >= NEAR_DUPLICATE and values == k_values and names == k_names:
                return Decision(
                    memory_id=memory_id,
                    action="NONE",
                    target=known.memory_id,
                    reason=f"near duplicate (word overlap {overlap:.2f})",
                    candidates=shown,
                )
            if (
                not known.protected
                and values != k_values
                and (values or k_values)
                and names == k_names
                and overlap >= SAME_SUBJECT
            ):
                old = ", ".join(sorted(k_values - values)) or "-"
                new = ", ".join(sorted(values - k_values)) or "-"
                return Decision(
                    memory_id=memory_id,
                    action="UPDATE",
                    target=known.memory_id,
                    reason=f"value changed: {old} -> {new}",
                    candidates=shown,
                )
        return Decision(memory_id=memory_id, action="ADD", candidates=shown)
