"""Session capture, offline: durable memories from a session excerpt, by rules.

A transcript is mostly the work itself (requests, progress reports, tool
chatter); very little of it should outlive the session. Without a model the
only safe rule is precision over recall, so this stage keeps a sentence only
when every test below passes, and returns nothing otherwise:

- it was said by the **user** (the agent's own turns describe work in
  progress; the LLM capture may read them, these rules never do);
- it carries an explicit cue of durability (`_CUES`): a stated preference
  ("I prefer ...", "we never ...", "always use ...", "from now on ..."), a
  decision ("we decided / chose / agreed ..."), or a fact the user asked to
  keep ("remember that ...", "keep in mind that ...", "for future
  reference ...");
- it is no question and no request to the agent ("can you ...", "please
  fix ..."), holds no transient cue ("for now", "today", "this time",
  "currently", ...), no code block and no masked secret;
- it is 4 to 60 words and at most 400 characters.

Leading "remember that" / "note that" / "please" are dropped from the text
kept; nothing else is rewritten. At most `MAX_FACTS` per excerpt.
"""

from __future__ import annotations

import re

import msgspec

from workers.stages.extract import extract_entities, split_sentences

MAX_FACTS = 8
MIN_WORDS, MAX_WORDS, MAX_CHARS = 4, 60, 400

_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (category, re.compile(pattern, re.I))
    for category, pattern in (
        ("preference", r"\b(?:i|we)\s+(?:always\s+|generally\s+|usually\s+|strongly\s+)?prefer\b"),
        ("preference", r"^(?:please\s+)?(?:always|never)\s+[a-z]"),
        ("preference", r"\b(?:i|we)\s+(?:always|never|don't|do not)\s+(?:use|want|like|run|commit|push|deploy)\b"),
        ("preference", r"\b(?:from now on|going forward)\b"),
        ("decision", r"\b(?:we|i)(?:\s+have|'ve)?\s+(?:decided|chose|chosen|settled on|agreed)\b"),
        ("decision", r"\bthe decision (?:is|was)\b"),
        ("fact", r"^(?:please\s+)?(?:remember|note|keep in mind|for (?:future )?reference)\b"),
    )
)
_TRANSIENT = re.compile(
    r"\b(?:right now|currently|for now|today|tonight|tomorrow|yesterday|this (?:time|session|once|turn|morning|afternoon|week)"
    r"|temporar\w*|at the moment|just now|for this (?:task|pr|change)|next step|todo)\b",
    re.I,
)
_REQUEST = re.compile(
    r"^(?:(?:can|could|would|will)\s+you|please\s+(?!always|never|remember|note|keep)\w+|let'?s|ok\b|okay\b|thanks?\b"
    r"|(?:fix|run|check|look|try|add|make|update|show|tell|help|write|explain|find)\b)",
    re.I,
)
_PREFIX = re.compile(
    r"^(?:please\s+)?(?:(?:remember|note|keep in mind)(?:\s+that)?|for (?:future )?reference)[,:]?\s+", re.I
)


class CapturedFact(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    category: str
    importance: int = 3
    entities: list[str] = []


class CaptureOutput(msgspec.Struct, frozen=True, kw_only=True):
    facts: list[CapturedFact]
    warnings: list[str] = []


def turns(text: str) -> list[tuple[str, str]]:
    """(role, text) of each turn of a capture's text: a turn starts a line with
    "user:" or "assistant:"; its further lines are indented by two spaces."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        role, sep, rest = line.partition(": ")
        if sep and role in ("user", "assistant") and not line.startswith(" "):
            out.append((role, rest))
        elif out:
            out[-1] = (out[-1][0], f"{out[-1][1]}\n{line.strip()}")
    return out


def gate(sentence: str) -> str | None:
    """Why a sentence is not a durable memory (None: it passes every test but the cue)."""
    words = len(sentence.split())
    if not MIN_WORDS <= words <= MAX_WORDS or len(sentence) > MAX_CHARS:
        return "length"
    if "?" in sentence:
        return "question"
    if "```" in sentence or sentence.count("`") > 4 or "[REDACTED:" in sentence:
        return "code or secret"
    if _TRANSIENT.search(sentence):
        return "transient"
    if _REQUEST.match(sentence):
        return "request"
    return None


def durable(sentence: str) -> CapturedFact | None:
    """The memory a user's sentence states, or None."""
    if gate(sentence) is not None:
        return None
    category = next((c for c, cue in _CUES if cue.search(sentence)), None)
    if category is None:
        return None
    text = _PREFIX.sub("", sentence).strip()
    if len(text.split()) < MIN_WORDS:
        return None
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!":
        text += "."
    return CapturedFact(text=text, category=category, entities=extract_entities(text)[:16])


class RuleCapturer:
    implementation = "rules"
    version = "1"

    def capture(self, text: str) -> CaptureOutput:
        facts: list[CapturedFact] = []
        seen: set[str] = set()
        for role, said in turns(text):
            if role != "user":
                continue
            for sentence in split_sentences(said):
                fact = durable(sentence)
                if fact is not None and fact.text.casefold() not in seen:
                    seen.add(fact.text.casefold())
                    facts.append(fact)
        warnings = [] if facts else ["nothing durable: no user sentence passed the capture rules"]
        return CaptureOutput(facts=facts[:MAX_FACTS], warnings=warnings)
