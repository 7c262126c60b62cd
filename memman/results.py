"""What the application service returns: Structs, never formatted strings.
The CLI renders them as text, or as JSON with `--json`."""

from __future__ import annotations

import msgspec


class Remembered(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    seq: int
    status: str
    store: str
    already: bool = False  # `--id KEY` was remembered before: nothing was appended


class Changed(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of replace / forget / restore / link / unlink."""

    id: str
    seq: int
    action: str
    status: str
    store: str


class Signals(msgspec.Struct, frozen=True, kw_only=True):
    """Every signal behind a result's score; null where a list did not rank it."""

    keyword_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None
    recency_rank: int | None = None
    anchor: float = 0.0  # the fused keyword + vector + recency score, 0..1
    entity: float = 0.0  # share of the query's entities this memory names
    graph: float = 0.0  # beam-search path score, for memories reached through the graph
    via: str | None = None  # "edge_type:memory id" it was reached from
    date: float | None = None  # 1 inside the window the query's dates name, fading outside; null: no dates


class RecallHit(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    content: str
    score: float
    category: str
    importance: int
    entities: list[str]
    source: str
    created_at: str
    status: str
    signals: Signals
    occurred_at: str = ""  # when it was true or said (valid time): what text output shows
    store: str = ""  # the store it came from (a project store or the personal one)


class DateWindow(msgspec.Struct, frozen=True, kw_only=True):
    """The time window the query's dates name: [start, end) in UTC."""

    start: str
    end: str
    phrases: list[str]


class RecallMeta(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    store: str
    mode: str  # "hybrid" or "basic"
    took_ms: float
    keyword_hits: int
    vector_hits: int
    pending: int
    fingerprint: str | None = None
    degraded: str | None = None  # why vector recall was skipped, when it was
    intent: str = "general"
    entities: list[str] = []
    anchors: int = 0
    traversed: int = 0
    graph: bool = False
    ordering: str = "score"  # score | chronological | causes-first
    sparse: bool = False
    hint: str | None = None
    as_of: str | None = None
    expansion: list[str] = []  # `--expand`: the LLM's extra keyword terms
    reranked: str | None = None  # the rerank provider:model that ordered the top results
    window: DateWindow | None = None  # the window the query's dates name (memman/recall/dates.py)
    stores: list[str] = []  # the stores searched, project first (memman/scope/)


class RecallResult(msgspec.Struct, frozen=True, kw_only=True):
    results: list[RecallHit]
    meta: RecallMeta


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    imported: int  # new memories appended by this run
    first_seq: int | None
    last_seq: int | None
    seconds: float
    already: int = 0  # lines an earlier (perhaps interrupted) import already appended


class ReplayReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    projections: list[str]
    events_applied: int
    seconds: float


class Difference(msgspec.Struct, frozen=True, kw_only=True):
    table: str
    detail: str


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    ok: bool
    log_problems: list[str]
    differences: list[Difference]
    seconds: float
    fix: str | None = None  # what to do about a problem; never destroys the log


class StoreStatus(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    path: str
    events: int
    log_head: int
    checkpoints: dict[str, int]
    by_status: dict[str, int]
    by_category: dict[str, int]
    backlog: int
    failed: int
    dead: int
    oldest_pending: str | None
    embedder: str | None
    vectors: int
    edges: int
    bytes: dict[str, int]
    backend: str = "sqlite"  # or the PostgreSQL URL without its password
    replica_lag: int = 0  # events the local projections were behind the log when asked


class StoreInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    active: bool
    memories: int | None
    path: str


class MigrateReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    source: str  # "sqlite" or the PostgreSQL URL without its password
    target: str
    events: int  # in the log after the copy (or, in a dry run, in the source)
    copied: int  # appended to the target by this run (0 on a re-run); a dry run: would be
    content_hash: str  # sha256 over every event row, equal on both sides ("" in a dry run)
    switched: bool
    seconds: float


class ServerState(msgspec.Struct, kw_only=True):
    """`memman server status`: the warm server of one data dir, if running."""

    running: bool
    socket: str
    pid: int | None = None
    version: str | None = None
    uptime_s: float | None = None
    served: int | None = None
    idle_timeout_s: float | None = None
    rss_mb: float | None = None
