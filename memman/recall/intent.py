"""What a query asks for, which decides how recall walks the graph.

    why      the reason for something        -> causal edges first; causes before effects
    when     ordering or time                -> temporal edges first; chronological order
    entity   everything about a name         -> entity edges first
    general  anything else                   -> semantic and entity edges

Rules over the query text; the entities come from the same extractor the
drain uses, so the entity signal is live without an LLM.
"""

from __future__ import annotations

import re
from typing import Literal

Intent = Literal["why", "when", "entity", "general"]
INTENTS: tuple[str, ...] = ("why", "when", "entity", "general")

_WHY = re.compile(
    r"^\s*(why|how come)\b|\b(reason|reasons|rationale|motivation|because|what caused|cause of|caused|"
    r"what led to|led to|why did|why do|why is|why was|justif\w*)\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"^\s*when\b|\b(what time|what date|which day|which week|timeline|history of|chronolog\w*|"
    r"since when|first time|last time|how long ago|in what order|order of|before|after|"
    r"sequence of|what happened)\b",
    re.IGNORECASE,
)
_ABOUT = re.compile(
    r"^\s*(who is|who are|who's|what is|what's|tell me about|what do we know about|everything about|"
    r"info on|information about|details on|about)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


def detect(query: str, entities: list[str]) -> Intent:
    if _WHY.search(query):
        return "why"
    if _WHEN.search(query):
        return "when"
    from workers.stages.reconcile import named

    if named(entities) and (_ABOUT.search(query) or len(_WORD.findall(query)) <= 3):
        return "entity"
    return "general"
