"""What each prompt asks the model to answer, as msgspec Structs.

Replies are decoded strictly (unknown fields are ignored, wrong types and
out-of-range values are errors that trigger the one repair retry). Memories are
shown to the model under short aliases (`m1`, `c1`, ...), never their ULIDs, so a
reply cannot name a memory it was not shown.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Category = Literal["preference", "decision", "fact", "insight", "context", "general"]
Importance = Annotated[int, msgspec.Meta(ge=2, le=5)]
Confidence = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Short = Annotated[str, msgspec.Meta(max_length=2000)]


class FactOut(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    category: Category
    importance: Importance
    entities: list[Annotated[str, msgspec.Meta(max_length=200)]] = []


class ExtractReply(msgspec.Struct, frozen=True, kw_only=True):
    """1-5 atomic facts, or none with a reason ("nothing worth storing")."""

    facts: Annotated[list[FactOut], msgspec.Meta(max_length=5)]
    warnings: list[Short] = []  # the quality gate: transient, receipt, low value
    reason: Short = ""  # why nothing is worth storing, when facts is empty


class CaptureReply(msgspec.Struct, frozen=True, kw_only=True):
    """The durable memories in a session excerpt (at most 8), or none with a reason."""

    facts: Annotated[list[FactOut], msgspec.Meta(max_length=8)]
    reason: Short = ""


class ReconcileReply(msgspec.Struct, frozen=True, kw_only=True):
    action: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    target: str | None = None  # a candidate alias (c1, c2, ...) for UPDATE / DELETE / NONE
    text: Short | None = None  # for UPDATE: the merged text the model proposes
    reason: Short = ""


class EnrichedOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the alias shown (m1, m2, ...)
    keywords: Annotated[list[Annotated[str, msgspec.Meta(max_length=80)]], msgspec.Meta(max_length=12)] = []
    summary: Short = ""
    entities: list[Annotated[str, msgspec.Meta(max_length=200)]] = []


class EnrichReply(msgspec.Struct, frozen=True, kw_only=True):
    memories: list[EnrichedOut]


class CausalOut(msgspec.Struct, frozen=True, kw_only=True):
    cause: str  # alias
    effect: str  # alias
    confidence: Confidence
    reason: Short = ""


class CausalReply(msgspec.Struct, frozen=True, kw_only=True):
    edges: list[CausalOut] = []


class ExpandReply(msgspec.Struct, frozen=True, kw_only=True):
    synonyms: Annotated[list[Annotated[str, msgspec.Meta(max_length=80)]], msgspec.Meta(max_length=12)] = []
    entities: Annotated[list[Annotated[str, msgspec.Meta(max_length=200)]], msgspec.Meta(max_length=12)] = []
    intent: Short = ""


# ---------------------------------------------------------------- OpenAI wire format


class _Message(msgspec.Struct, frozen=True):
    content: str | None = None


class _Choice(msgspec.Struct, frozen=True):
    message: _Message
    finish_reason: str | None = None


class _Usage(msgspec.Struct, frozen=True):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatResponse(msgspec.Struct, frozen=True):
    choices: list[_Choice]
    model: str | None = None
    usage: _Usage | None = None
