"""Helpers the two generators share: slot filling, dates in words, and the
paraphrase check."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from string import Formatter
from typing import Any

from tools.recall_bench.bm25 import STOP, stem

MONTHS = "January February March April May June July August September October November December".split()
_WORD = re.compile(r"[^\W_]+")
# Question words and fillers that never carry the answer.
_QWORDS = frozenset(
    "what which who whom whose when where why how did does do is are was were would could should will can "
    "kind sort any anything recently now new like".split()
)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fill(template: str, values: dict[str, Any]) -> str:
    """`template` with its placeholders filled; a filled value may itself hold
    placeholders (a grievance naming {company}), so fill until stable."""
    text = template
    for _ in range(3):
        names = {n for _, n, _, _ in Formatter().parse(text) if n}
        if not names:
            break
        text = text.format(**{n: values[n] for n in names})
    return text


def draw_slots(rng: random.Random, slots: dict[str, list[Any]], used: set[tuple[str, str]]) -> dict[str, Any]:
    """One value per slot, never one this store already used for that slot
    (two people do not adopt the same dog); dict values spread their fields."""
    values: dict[str, Any] = {}
    for name, options in slots.items():
        fresh = [o for o in options if (name, repr(o)) not in used] or list(options)
        value = rng.choice(fresh)
        used.add((name, repr(value)))
        if isinstance(value, dict):
            values.update(value)
        else:
            values[name] = value
    return values


def day_words(rng: random.Random, moment: datetime) -> str:
    """A date the way people write it, in one of several forms."""
    d, m, y = moment.day, MONTHS[moment.month - 1], moment.year
    suffix = "th" if 11 <= d <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return rng.choice([f"{d} {m} {y}", f"{m} {d}, {y}", f"{m} {d}{suffix} {y}", f"the {d}{suffix} of {m} {y}"])


def month_words(moment: datetime) -> str:
    return f"{MONTHS[moment.month - 1]} {moment.year}"


def content_words(text: str, names: set[str]) -> set[str]:
    return {
        stem(w) for w in _WORD.findall(text.casefold()) if w not in STOP and w not in _QWORDS and w not in names
    }


def paraphrased(question: str, evidence_texts: list[str], names: set[str]) -> bool:
    """True when the question shares no content word (stemmed, names aside)
    with any of its evidence texts: it is worded away from the evidence."""
    asked = content_words(question, names)
    return not any(asked & content_words(t, names) for t in evidence_texts)


def later(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)
