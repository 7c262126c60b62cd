"""The benchmark suite: which stores exist, their seeds, and the split.

Full suite: 10 conversations and 8 project histories (about 1,750 questions,
14,000 memories). Each store's half comes from its name (model.half_of), so
the suite splits into a tuning half and a held-out half by store.
"""

from __future__ import annotations

import dataclasses

from tools.recall_bench import conversation_data, project_data
from tools.recall_bench.common import paraphrased
from tools.recall_bench.conversations import conversation
from tools.recall_bench.model import Store
from tools.recall_bench.projects import project

CONVERSATIONS = 10
PROJECTS = 8
QUICK = ("conv-01", "proj-02")  # --quick: one small store of each kind, one per half
NAMES = frozenset(n.casefold() for n in conversation_data.FIRST_NAMES + project_data.TEAM)  # people, for paraphrase checks


def names() -> list[str]:
    return [f"conv-{i:02d}" for i in range(1, CONVERSATIONS + 1)] + [f"proj-{i:02d}" for i in range(1, PROJECTS + 1)]


def make(name: str, *, small: bool = False) -> Store:
    """The store called `name` ("conv-03", "proj-02"): same name, same store.
    `small` (--quick): a quarter of the sessions, for tests."""
    kind, number = name.split("-")
    if kind == "conv":
        store = conversation(name, 1000 + int(number), *([6] if small else []))
    else:
        store = project(name, 2000 + int(number), *([16] if small else []))
    texts = {m.key: m.text for m in store.memories}
    store.questions = [
        dataclasses.replace(q, paraphrased=paraphrased(q.text, [texts[k] for k in q.evidence], NAMES))
        for q in store.questions
    ]
    return store


def select(half: str | None, quick: bool = False, only: list[str] | None = None) -> list[Store]:
    """The stores of one half ("tuning", "held-out"), or both (None)."""
    chosen = list(QUICK) if quick else names()
    if only:
        chosen = [n for n in chosen if n in only]
    stores = [make(n, small=quick) for n in chosen]
    return stores if half is None else [s for s in stores if s.half == half]
