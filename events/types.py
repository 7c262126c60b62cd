"""Every event memman records, as immutable msgspec Structs in one tagged union.

The tag (`memory.remembered`, ...) is the `type` column of the log row and is
stored forever: a class may be renamed, a tag never renamed or repurposed.
A payload shape change bumps the class's `SCHEMA` and adds an upcaster in
`events/upcast.py`.

Envelope fields (seq, id, recorded_at, occurred_at, actor, causation, stage,
schema_version) live on the log row, not in these payloads: see `Recorded`.

Commands are written by the CLI, instantly, with no network:
    memory.remembered  memory.replaced  memory.forgotten  memory.restored
    memory.protected   memory.unprotected  edge.linked    edge.unlinked
    store.configured   memory.purged (erasure: a content-free tombstone)
Derived events are written by workers, each naming its `causation` (the seq of
the command it derives from) and carrying a `Provenance`:
    facts.extracted  memory.reconciled  memory.enriched  memory.embedded
    edges.inferred   derivation.failed
Usage, folded by the worker from the side file recall appends to (see
memman/lifecycle/access.py), so recall never writes the log:
    memory.accessed
Operator decisions about the drain queue (`memman scheduler queue`), naming
the input's seq as their `causation`:
    work.retried  work.purged
Session capture (memman/integration/capture.py, workers/capture.py): a hook
records the new part of an agent's transcript as an input (a command, no
network); the drain extracts durable memories from it, recorded as
`session.extracted` plus one `memory.remembered` per memory, each naming the
capture's seq as `causation`:
    session.captured  session.extracted
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal, NewType

import msgspec

MemoryId = NewType("MemoryId", str)

Category = Literal["preference", "decision", "fact", "insight", "context", "general"]
CATEGORIES: tuple[str, ...] = ("preference", "decision", "fact", "insight", "context", "general")
Source = Literal["user", "agent", "external"]
SOURCES: tuple[str, ...] = ("user", "agent", "external")
Action = Literal["ADD", "UPDATE", "DELETE", "NONE"]


class _Event(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="type"):
    SCHEMA: ClassVar[int] = 1

    def memory_ids(self) -> tuple[str, ...]:
        """Every memory this event concerns (indexed, for `events list --memory`)."""
        return ()


class Provenance(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Who derived an event and how: enough to audit and to know when it is stale."""

    implementation: str  # "rules", "llm", "static", "openai", ...
    version: str = "1"  # rule-set or prompt version
    model: str | None = None
    prompt_hash: str | None = None
    fingerprint: str | None = None  # embedder fingerprint key, for embeddings
    latency_ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0


# ---------------------------------------------------------------- commands


class MemoryRemembered(_Event, frozen=True, kw_only=True, tag="memory.remembered"):
    """A new memory. `replaces` is the agent's explicit "this replaces that"
    (`remember --replaces ID`): the drain supersedes that memory with this one.
    `valid_until` (ISO-8601 UTC) ends its validity explicitly ("the freeze lasts
    until 12 Dec"). Both were added with defaults, so payloads stored before
    them decode unchanged (schema 1; tests/events/test_schema_golden.py)."""

    memory_id: MemoryId
    text: str
    category: Category = "general"
    importance: int = 3
    entities: list[str] = []
    source: Source = "agent"
    meta: dict[str, str] = {}
    replaces: MemoryId | None = None
    valid_until: str | None = None
    # Idempotency key: a second remember or import with the same key appends
    # nothing (the log's event_keys table is unique on it). "id:<caller id>"
    # from `remember --id` or an import line's "id"; "line:<hash>:<n>" for an
    # import line without one. Added with a default, so payloads written
    # before it decode unchanged (no schema bump needed for an optional field).
    key: str | None = None

    def memory_ids(self) -> tuple[str, ...]:
        return (self.memory_id,) if self.replaces is None else (self.memory_id, self.replaces)


class MemoryReplaced(_Event, frozen=True, kw_only=True, tag="memory.replaced"):
    """The memory keeps its id; its text (and any given metadata) are new.

    Unspecified metadata is resolved from the memory at command time, so the
    event states what the memory became, not a patch against unknown state.
    """

    memory_id: MemoryId
    text: str
    category: Category
    importance: int
    entities: list[str]
    source: Source
    meta: dict[str, str]

    def memory_ids(self) -> tuple[str, ...]:
        return (self.memory_id,)


class MemoryForgotten(_Event, frozen=True, kw_only=True, tag="memory.forgotten"):
    memory_id: MemoryId
    reason: str = ""

    def memory_ids(self) -> tuple[str, ...]:
        return (self.memory_id,)


class MemoryRestored(_Event, frozen=True, kw_only=True, tag="memory.restored"):
    memory_id: MemoryId

    def memory_ids(self) -> tuple[str, ...]:
        return (self.memory_id,)


class MemoryProtected(_Event, frozen=True, kw_only=True, tag="memory.protected"):
    """Protected memories are never retired by a reconciler."""

    memory_id: MemoryId
    protected: bool = True

    def memory_ids(self) -> tuple[str, ...]:
        return (self.memory_id,)


class MemoryUnprotected(_Event, frozen=True, kw_only=True, tag="memory.unprotected"):
    """Undoes `memory.protected`: the memory is subject to gc and reconcilers again."""

    memory_id: MemoryId

    def memory_ids(self) -> tuple[str, ...]:
        return (self.memory_id,)


class EdgeLinked(_Event, frozen=True, kw_only=True, tag="edge.linked"):
    src: MemoryId
    dst: MemoryId
    edge_type: str
    weight: float = 1.0
    meta: dict[str, str] = {}

    def memory_ids(self) -> tuple[str, ...]:
        return (self.src, self.dst)


class EdgeUnlinked(_Event, frozen=True, kw_only=True, tag="edge.unlinked"):
    src: MemoryId
    dst: MemoryId
    edge_type: str

    def memory_ids(self) -> tuple[str, ...]:
        return (self.src, self.dst)


class StoreConfigured(_Event, frozen=True, kw_only=True, tag="store.configured"):
    """A store-level setting that projections or workers must agree on,
    e.g. `embedder` = the fingerprint key the store is bound to."""

    setting: str
    value: str


# ---------------------------------------------------------------- derived


class Fact(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    memory_id: MemoryId  # the first fact inherits the input's id
    text: str
    category: Category
    importance: int
    entities: list[str] = []


class FactsExtracted(_Event, frozen=True, kw_only=True, tag="facts.extracted"):
    input_id: MemoryId
    facts: list[Fact]
    warnings: list[str] = []
    provenance: Provenance

    def memory_ids(self) -> tuple[str, ...]:
        return (self.input_id, *(f.memory_id for f in self.facts))


class Candidate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    memory_id: MemoryId
    similarity: float


class Decision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One fact's fate. `target` is the existing memory an UPDATE supersedes,
    a DELETE retires, or a NONE duplicates."""

    memory_id: MemoryId
    action: Action
    target: MemoryId | None = None
    reason: str = ""
    candidates: list[Candidate] = []
    text: str | None = None  # UPDATE: the merged text the memory now carries (None: the fact as extracted)


class MemoryReconciled(_Event, frozen=True, kw_only=True, tag="memory.reconciled"):
    input_id: MemoryId
    decisions: list[Decision]
    provenance: Provenance

    def memory_ids(self) -> tuple[str, ...]:
        ids: list[str] = [self.input_id]
        for d in self.decisions:
            ids.append(d.memory_id)
            if d.target:
                ids.append(d.target)
        return tuple(dict.fromkeys(ids))


class MemoryEnriched(_Event, frozen=True, kw_only=True, tag="memory.enriched"):
    memory_id: MemoryId
    keywords: list[str] = []
    summary: str = ""
    entities: list[str] = []
    provenance: Provenance

    def memory_ids(self) -> tuple[str, ...]:
        return (self.memory_id,)


class Vector(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    memory_id: MemoryId
    # L2-normalised, little-endian: float16 (dim x 2 bytes) since compact
    # storage, float32 (dim x 4) in events written before; projections/vectors.py
    data: bytes


class MemoryEmbedded(_Event, frozen=True, kw_only=True, tag="memory.embedded"):
    fingerprint: str
    dim: int
    vectors: list[Vector]
    provenance: Provenance

    def memory_ids(self) -> tuple[str, ...]:
        return tuple(v.memory_id for v in self.vectors)


class Edge(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    src: MemoryId
    dst: MemoryId
    edge_type: str  # temporal / entity / semantic / causal
    weight: float = 1.0
    meta: dict[str, str] = {}


class EdgesInferred(_Event, frozen=True, kw_only=True, tag="edges.inferred"):
    edges: list[Edge]
    provenance: Provenance
    input_id: MemoryId | None = None  # the drained input, so its history shows this stage even with no edges

    def memory_ids(self) -> tuple[str, ...]:
        ids = [self.input_id] if self.input_id else []
        return tuple(dict.fromkeys([*ids, *(x for e in self.edges for x in (e.src, e.dst))]))


class DerivationFailed(_Event, frozen=True, kw_only=True, tag="derivation.failed"):
    """A stage failed on an input. Retried with backoff until `dead`."""

    input_id: MemoryId
    stage: str
    error: str
    attempt: int
    dead: bool = False
    retry_after: str | None = None  # ISO-8601 UTC, as events.clock.to_iso writes it

    def memory_ids(self) -> tuple[str, ...]:
        return (self.input_id,)


class Rewrite(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One event that erasure rewrote, with its row checksum (events/integrity.py)
    before and after (so an audit can tell a documented rewrite from tampering)."""

    seq: int
    before: str
    after: str


class MemoryPurged(_Event, frozen=True, kw_only=True, tag="memory.purged"):
    """Erasure (`memman purge`): the content of `purged` was removed from every
    event that carried it, listed in `rewritten`; their projections rows,
    vectors, edges and caches are gone. This tombstone carries no content:
    who (`by`), when (the envelope), why (`reason`) and which ids."""

    purged: list[MemoryId]
    reason: str = ""
    by: str = ""
    rewritten: list[Rewrite] = []

    def memory_ids(self) -> tuple[str, ...]:
        return tuple(self.purged)


# ---------------------------------------------------------------- usage


class Access(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    memory_id: MemoryId
    count: int  # recalls that returned it in this batch
    last_at: datetime  # the latest of them


class MemoryAccessed(_Event, frozen=True, kw_only=True, tag="memory.accessed"):
    """Recalls that returned (or injected) these memories, batched: what the
    retention policy counts as use. `batch` names the side file folded, so a
    fold interrupted after its append is not counted twice."""

    batch: str
    accesses: list[Access]

    def memory_ids(self) -> tuple[str, ...]:
        return tuple(a.memory_id for a in self.accesses)


# ---------------------------------------------------------------- session capture


class SessionCaptured(_Event, frozen=True, kw_only=True, tag="session.captured"):
    """The new part of an agent session's transcript, handed to the drain as
    an input (PreCompact / SessionEnd hooks). `text` is the conversation's
    user and assistant turns (no tool calls or results), `<private>`
    sections removed and likely secrets masked before it was recorded.
    `start`/`end` are the byte range of the transcript it came from; `key`
    makes the same excerpt recorded once however often a hook retries."""

    capture_id: MemoryId  # the input's id (`memman log ID`); never a memory itself
    text: str
    agent: str = ""  # "claude-code", "codex"
    session_id: str = ""
    transcript: str = ""  # the transcript's path, as the agent sent it
    start: int = 0
    end: int = 0
    trigger: str = ""  # the hook that captured it: "pre-compact", "session-end"
    key: str | None = None

    def memory_ids(self) -> tuple[str, ...]:
        return (self.capture_id,)


class CapturedMemory(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    memory_id: MemoryId
    text: str
    category: Category


class SessionExtracted(_Event, frozen=True, kw_only=True, tag="session.extracted"):
    """What the drain took from a capture: the memories it remembered (each
    also a `memory.remembered` with the same causation, drained like any
    other), or none, with the reasons in `warnings`."""

    capture_id: MemoryId
    memories: list[CapturedMemory] = []
    warnings: list[str] = []
    provenance: Provenance

    def memory_ids(self) -> tuple[str, ...]:
        return (self.capture_id, *(m.memory_id for m in self.memories))


# ---------------------------------------------------------------- operator


class WorkRetried(_Event, frozen=True, kw_only=True, tag="work.retried"):
    """An operator asked for one more attempt at a failed or dead-lettered
    input now (`memman scheduler queue retry`). Attempts keep counting."""

    input_id: MemoryId
    reason: str = ""

    def memory_ids(self) -> tuple[str, ...]:
        return (self.input_id,)


class WorkPurged(_Event, frozen=True, kw_only=True, tag="work.purged"):
    """An operator gave up on a failed or dead-lettered input
    (`memman scheduler queue purge`): the drain no longer tries it. Its text
    stays in the log and keyword-recallable as pending."""

    input_id: MemoryId
    reason: str = ""

    def memory_ids(self) -> tuple[str, ...]:
        return (self.input_id,)


Event = (
    MemoryRemembered
    | MemoryReplaced
    | MemoryForgotten
    | MemoryRestored
    | MemoryProtected
    | EdgeLinked
    | EdgeUnlinked
    | StoreConfigured
    | FactsExtracted
    | MemoryReconciled
    | MemoryEnriched
    | MemoryEmbedded
    | EdgesInferred
    | DerivationFailed
    | WorkRetried
    | WorkPurged
    | MemoryUnprotected
    | MemoryAccessed
    | MemoryPurged
    | SessionCaptured
    | SessionExtracted
)

EVENT_CLASSES: dict[str, type[_Event]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (
        MemoryRemembered,
        MemoryReplaced,
        MemoryForgotten,
        MemoryRestored,
        MemoryProtected,
        EdgeLinked,
        EdgeUnlinked,
        StoreConfigured,
        FactsExtracted,
        MemoryReconciled,
        MemoryEnriched,
        MemoryEmbedded,
        EdgesInferred,
        DerivationFailed,
        WorkRetried,
        WorkPurged,
        MemoryUnprotected,
        MemoryAccessed,
        MemoryPurged,
        SessionCaptured,
        SessionExtracted,
    )
}

COMMAND_TYPES = frozenset(
    {
        "memory.remembered",
        "memory.replaced",
        "memory.forgotten",
        "memory.restored",
        "memory.protected",
        "memory.unprotected",
        "memory.purged",
        "session.captured",
        "edge.linked",
        "edge.unlinked",
        "store.configured",
    }
)


def type_of(event: _Event) -> str:
    return event.__struct_config__.tag  # type: ignore[return-value]


class Recorded(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One row of the log: the envelope plus the decoded event."""

    seq: int
    id: str
    type: str
    schema_version: int
    recorded_at: datetime
    occurred_at: datetime
    actor: str
    causation: int | None
    stage: str | None
    event: Event
