"""Every prompt memman sends, with a version and a content hash.

The hash covers the task, the version, the system text and the reply schema,
so changing any of them changes `Provenance.prompt_hash`: `memman rederive
--stale-only` finds what was derived under an older prompt. Bump `version`
when the meaning changes; the hash catches edits that forget to.

The first line of every system prompt names the task (`memman-task: NAME`),
which the loopback fake (`tools/fake_llm.py`) uses to pick its script.
"""

from __future__ import annotations

import hashlib
from functools import cached_property

import msgspec

from workers.llm import schemas


class Prompt:
    def __init__(self, task: str, version: str, role: str, system: str, reply: type[msgspec.Struct]) -> None:
        self.task = task
        self.version = version
        self.role = role  # "fast" or "slow": which configured model answers it
        self.system = f"memman-task: {task}\n{system.strip()}"
        self.reply = reply

    @cached_property
    def schema(self) -> dict:  # type: ignore[type-arg]
        return msgspec.json.schema(self.reply)

    @cached_property
    def hash(self) -> str:
        digest = hashlib.sha256()
        for part in (self.task, self.version, self.system, msgspec.json.encode(self.schema).decode()):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()[:16]


_JSON = "Answer with one JSON object and nothing else."

EXTRACT = Prompt(
    "extract",
    "1",
    "fast",
    f"""
You turn one text an AI agent asked to remember into durable memories.
Input: JSON {{"text", "category_hint", "entities_hint"}}.
Split the text into 1 to 5 atomic facts. Each fact must be self-contained:
resolve pronouns and references ("it", "this", "the former") to what they
name, keep numbers, names, versions and paths exactly. For each fact give a
category (preference, decision, fact, insight, context, general), an
importance from 2 (minor) to 5 (critical) and its named entities.
Act as a quality gate too: list advisory warnings for text that is transient
("currently", "right now", next steps, TODOs), a receipt (line numbers, file
offsets, command output) or low value. If nothing in the text is worth
remembering (greetings, acknowledgements, chatter), return no facts and say
why in "reason".
Reply: {{"facts": [{{"text", "category", "importance", "entities"}}], "warnings": [], "reason": ""}}.
{_JSON}
""",
    schemas.ExtractReply,
)

CAPTURE = Prompt(
    "capture",
    "1",
    "fast",
    f"""
You decide what an AI coding agent should remember from part of a session
with its user. Input: JSON {{"transcript"}}: the turns, each line starting
"user:" or "assistant:". Return only what a future session must know and
could not find in the code: durable decisions with their reason, the user's
preferences and standing instructions, hard-won facts about the project or
its environment. Each fact self-contained (no "it", "this"), exact names,
numbers, versions and paths. Never return: the task in progress, next steps,
what was just done, greetings and chatter, questions, anything transient
("currently", "for now", "today"), secrets, text from tool output. Precision
over recall: when unsure, leave it out; most excerpts hold nothing, and then
return no facts and say why in "reason". At most 8 facts, each with a
category (preference, decision, fact, insight, context), an importance from
2 to 5 and its named entities.
Reply: {{"facts": [{{"text", "category", "importance", "entities"}}], "reason": ""}}.
{_JSON}
""",
    schemas.CaptureReply,
)

RECONCILE = Prompt(
    "reconcile",
    "1",
    "fast",
    f"""
You keep an agent's memory consistent. Input: JSON {{"fact", "candidates":
[{{"id", "text", "similarity"}}]}}, the candidates being existing memories
ranked by similarity. Decide one action for the new fact:
ADD: it is new information (also when related memories exist).
UPDATE: it changes or refines one candidate (same subject, new value); give
  "target" (the candidate id) and "text" (the up-to-date statement).
DELETE: it contradicts one candidate, which is no longer true; give "target".
  The new fact is stored either way.
NONE: a candidate already says the same; give "target".
Reply: {{"action", "target", "text", "reason"}} with a one-line reason.
{_JSON}
""",
    schemas.ReconcileReply,
)

ENRICH = Prompt(
    "enrich",
    "1",
    "slow",
    f"""
You index an agent's memories for search. Input: JSON {{"memories": [{{"id",
"text"}}]}}. For each memory give up to 8 search keywords (synonyms and
related terms a user might search with, lowercase, not already obvious from
the text), a one-line summary (only when the text is long; else ""), and its
entities normalised to their canonical names ("postgres" -> "PostgreSQL").
Reply: {{"memories": [{{"id", "keywords", "summary", "entities"}}]}}.
{_JSON}
""",
    schemas.EnrichReply,
)

CAUSAL = Prompt(
    "causal",
    "1",
    "slow",
    f"""
You find cause and effect between an agent's memories. Input: JSON
{{"memory": {{"id", "text"}}, "neighbours": [{{"id", "text"}}]}}. Propose
edges only where one memory plausibly caused, motivated or explains another
(a decision and its reason, an incident and its fix), each with a
confidence from 0 to 1 and a one-line reason. Every edge must involve the
memory. Propose nothing when unsure.
Reply: {{"edges": [{{"cause", "effect", "confidence", "reason"}}]}}.
{_JSON}
""",
    schemas.CausalReply,
)

EXPAND = Prompt(
    "expand",
    "1",
    "fast",
    f"""
You expand a search query over an agent's memory. Input: JSON {{"query"}}.
Give up to 8 synonyms or closely related search terms, the named entities the
query refers to, and its intent in a few words.
Reply: {{"synonyms": [], "entities": [], "intent": ""}}.
{_JSON}
""",
    schemas.ExpandReply,
)

ALL = (EXTRACT, CAPTURE, RECONCILE, ENRICH, CAUSAL, EXPAND)
