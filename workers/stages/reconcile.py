"""The default reconciler: decides, for each extracted fact, whether it is new
(ADD), a change of something already known (UPDATE), or already known (NONE).
No LLM, deterministic, explainable: every decision names its rule in `reason`
and records the candidates it was shown.

Precision comes first: a false UPDATE hides a true fact from recall, a missed
one only leaves an older fact beside a newer one, which recall's succession
step ranks below it (memman/recall/succession.py). So every rule requires the
same subject, read by workers/stages/subject.py:

    NONE    the same text (case, spacing, end punctuation aside); or word
            overlap >= 0.9 with the same content words, values and named
            entities in the same order ("Priya: That's awesome, Dana!" is not "Dana: That's
            awesome, Priya!"); or a restatement with less detail.
    UPDATE  - a change the text states: "switched CI from GitHub Actions to
              Buildkite", "replaced X with Y", "Y instead of X" (the candidate
              says X and nothing the fact does not), "upgraded Postgres to 16"
              (the candidate gives Postgres a value), "X no longer ..." (the
              candidate is the same sentence without it), "from now on ..."
              (the candidate differs only in its names or values);
            - a changed value in the same or other words: the same content
              words and names, other values, none of them identifying the
              subject ("Ticket 123 ..." vs "Ticket 456 ...", "web1 listens on
              8080" vs "web2 listens on 9090" are two subjects);
            - a restatement with more detail: the same names in the same
              order and values, the candidate's words a strict subset
              (content overlap >= 0.6).
    ADD     everything else, including any difference of subject words
            ("notification exporter" vs "analytics exporter").

Protected memories are never superseded. Measured on tools/bench_supersession.py
(docs/time.md): false supersessions on 10k distinct service facts, and the
changes caught on a scripted week of changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import msgspec

from events.types import Action, Candidate, Decision
from workers.stages.subject import STOPWORDS, VERBS, Reading, contains, more_detail, read
from events.types import Candidate, Decision
from workers.entities import aliases

_WORDS = re.compile(r"\w+", re.UNICODE)
NEAR_DUPLICATE = 0.9
DETAIL_OVERLAP = 0.6
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


def _jaccard(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


READ_CACHE = 50_000  # readings kept (a drain shows the same candidates to many facts)


class RuleReconciler:
    implementation = "rules"
    version = "2"

    def __init__(self) -> None:
        self._readings: dict[tuple[str, tuple[str, ...]], _Read] = {}
        self._entities: dict[str, tuple[tuple[str, ...], str] | None] = {}  # entity -> words, canonical name

    def _read(self, text: str, entities: Sequence[str]) -> _Read:
        """`read`, remembered with what `decide` derives from it: all pure
        functions of the text and entities (a drain shows the same candidate
        to many facts, and each fact to up to eight candidates)."""
        key = (text, tuple(entities))
        got = self._readings.get(key)
        if got is None:
            if len(self._readings) >= READ_CACHE:
                self._readings.clear()
                self._entities.clear()
            reading = read(text, entities, self._entities)
            got = self._readings[key] = _Read(
                reading, frozenset(reading.tokens) - reading.values, normalise(text), sorted(reading.words)
            )
        return got

    def decide(self, memory_id: str, text: str, entities: Sequence[str], candidates: Sequence[Known]) -> Decision:
        new = self._read(text, entities)
        words = new.plain
        scored = []
        for known in candidates:
            old = self._read(known.content, known.entities)  # the drain's hot loop
            overlap = _jaccard(words, old.plain)
            similarity = known.similarity if known.similarity is not None else overlap
            scored.append((max(overlap, similarity), known, overlap, old))
        scored.sort(key=lambda item: (-item[0], item[1].memory_id))
        top = scored[:MAX_CANDIDATES]
        shown = [Candidate(memory_id=k.memory_id, similarity=round(score, 4)) for score, k, _, _ in top]
        for _, known, overlap, old in top:
            verdict = _judge(new, known, old, overlap)
            if verdict is not None:
                action, reason = verdict
                return Decision(
                    memory_id=memory_id, action=action, target=known.memory_id, reason=reason, candidates=shown
                )
        return Decision(memory_id=memory_id, action="ADD", candidates=shown)


Verdict = tuple[Action, str] | None


class _Read(NamedTuple):
    """A text's reading and what `decide` compares of it."""

    reading: Reading
    plain: frozenset[str]  # its tokens but values (the word overlap's words)
    normal: str  # `normalise(text)`
    sorted_words: list[str]  # its content words sorted, repeats kept


def _judge(fact: _Read, known: Known, candidate: _Read, overlap: float) -> Verdict:
    """The first rule that holds between a fact and one candidate, or None."""
    if candidate.normal == fact.normal:
        return "NONE", "same text"
    new, old = fact.reading, candidate.reading
    same_words = fact.sorted_words == candidate.sorted_words  # a paraphrase in other function words, not another subject
    if overlap >= NEAR_DUPLICATE and same_words and new.values == old.values and new.names == old.names:
        return "NONE", f"near duplicate (word overlap {overlap:.2f})"
    if new.names == old.names and new.values == old.values and more_detail(old, new):
        if _jaccard(new.content, old.content) >= DETAIL_OVERLAP:
            return "NONE", "already known in more detail"
    if known.protected:
        return None
    if new.change is not None:
        reason = replaced_by_change(new, old)
        if reason:
            return "UPDATE", reason
    if set(new.names) == set(old.names) and same_words and new.values != old.values:
        differing = new.values ^ old.values
        if not differing & (new.subject_values | old.subject_values):
            gone = ", ".join(sorted(old.values - new.values)) or "-"
            came = ", ".join(sorted(new.values - old.values)) or "-"
            return "UPDATE", f"value changed: {gone} -> {came}"
    if new.names == old.names and new.values == old.values and more_detail(new, old):
        if _jaccard(new.content, old.content) >= DETAIL_OVERLAP:
            return "UPDATE", "restates it with more detail"
    return None


def replaced_by_change(new: Reading, old: Reading) -> str | None:
    """Whether `old` is what the change stated in `new` replaces: the reason, or None."""
    change = new.change
    assert change is not None
    rest = old.content - VERBS
    if change.kind in ("from-to", "replaced", "instead"):
        said = _strip(change.old)
        if not said or not contains(old.tokens, said) or (change.new and contains(old.tokens, _strip(change.new))):
            return None
        if rest - set(said) <= new.content and _names_within(old, new, said):
            return f"{change.kind}: {' '.join(said)} -> {' '.join(_strip(change.new)) or '(see text)'}"
        return None
    if change.kind == "no-longer":
        if new.content == old.content and set(new.names) == set(old.names) and new.values == old.values:
            return "no longer"
        return None
    if change.kind == "subject-to":
        return _subject_to(change.subject, _strip(change.new), new, old)
    if change.kind == "from-now-on":  # the same words around other names or values
        names = {w for n in (*new.names, *old.names) for w in n.split()}
        if new.content - names == old.content - names and (new.names != old.names or new.values != old.values):
            return "from now on: " + ", ".join(old.names) + " -> " + ", ".join(new.names)
    return None


def _subject_to(subject: tuple[str, ...], value: tuple[str, ...], new: Reading, old: Reading) -> str | None:
    """"upgraded Postgres to 16": the candidate gives the subject another value
    right after it ("Postgres 15"), or says nothing but the subject and a value."""
    if not subject or not value or contains(old.tokens, value):
        return None
    for i in range(len(old.tokens) - len(subject)):
        if tuple(old.tokens[i : i + len(subject)]) == subject:
            after = old.tokens[i + len(subject)]
            if is_value(after) and is_value(value[0]):
                return f"{' '.join(subject)}: {after} -> {' '.join(value)}"
    if (
        contains(old.tokens, subject)
        and old.values
        and (old.content - VERBS) <= set(subject) | new.content
        and _names_within(old, new, subject)
    ):
        return f"{' '.join(subject)}: {', '.join(sorted(old.values))} -> {' '.join(value)}"
    return None


def _names_within(old: Reading, new: Reading, said: tuple[str, ...]) -> bool:
    """Every name the candidate gives is in the fact too, or is the value the change names."""
    return all(n in new.names or set(n.split()) <= set(said) for n in old.names)


def _strip(words: tuple[str, ...]) -> tuple[str, ...]:
    """A value phrase without leading and trailing stopwords ("the GitHub Actions" -> github actions)."""
    out = list(words)
    while out and out[0] in STOPWORDS:
        out.pop(0)
    while out and out[-1] in STOPWORDS:
        out.pop()
    return tuple(out)
