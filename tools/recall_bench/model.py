"""The benchmark's data: memories with stable keys, questions labelled with
their evidence keys, stores, and the deterministic tuning / held-out split.

A store is one conversation (two speakers, many dated sessions) or one agent
project history. The split is by store, never by question: a question's
evidence and its neighbours never leak from the tuning half into the held-out
half. The store's number decides its half (`half_of`), so adding stores never
moves an existing store to the other half.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

CATEGORIES = ("single", "multi-hop", "temporal", "inference")
HALVES = ("tuning", "held-out")
GENERATOR_VERSION = 3  # bump when generated texts or questions change: figures are comparable within one version


@dataclass(frozen=True)
class Memory:
    key: str  # stable: "c3:s05:t012", "p2:decision:billing-db:reason"
    text: str
    at: str  # ISO-8601 UTC: when it was said or true (the import line's `at`)
    session: str
    source: str = "user"


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    category: str  # one of CATEGORIES
    evidence: tuple[str, ...]  # keys of the memories that hold the answer
    kind: str = ""  # finer label: "same-session", "cause-effect", "period", "when", "relative", ...
    asked_at: str | None = None  # the day the question is asked ("last week" counts from it)
    paraphrased: bool = False  # worded away from its evidence (shares no content word beyond names)


@dataclass
class Store:
    name: str  # "conv-03", "proj-02"
    seed: int
    kind: str  # "conversation" | "project"
    memories: list[Memory] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)

    @property
    def half(self) -> str:
        return half_of(self.name)

    def jsonl(self) -> bytes:
        """The `memman import` file: one line per memory, its key in `meta`."""
        lines = (
            json.dumps(
                {"text": m.text, "at": m.at, "source": m.source, "meta": {"bench_key": m.key, "session": m.session}},
                ensure_ascii=False,
            )
            for m in self.memories
        )
        return ("\n".join(lines) + "\n").encode()


def half_of(name: str) -> str:
    """The store's half, from its number: odd stores ("conv-01", "proj-03") tune,
    even ones are held out. Deterministic, balanced within each kind, and
    stable when stores are added."""
    return HALVES[int(name.rsplit("-", 1)[1]) % 2 == 0]
