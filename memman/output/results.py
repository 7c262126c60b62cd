"""What the application service returns: Structs, never formatted strings.
The CLI renders them as text, or as JSON with `--json`."""

from __future__ import annotations

import msgspec

from memman.lifecycle.policy import GcRun, RetentionPolicy


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
    """Every signal behind a result's score (memman/recall/fusion.py names
    their weights); null where a list did not rank it."""

    keyword: float = 0.0  # share of the query's word weight (store IDF) this memory contains
    keyword_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None  # centred cosine similarity to the query
    vector_z: float | None = None  # standard deviations above the store's mean similarity
    recency_rank: int | None = None
    anchor: float = 0.0  # the score before graph expansion, 0..1
    entity: float = 0.0  # share of the query's entities this memory names
    known: float = 1.0  # share of the query's content words the store has seen (same for every result)
    graph: float = 0.0  # beam-search path score, for memories reached through the graph
    via: str | None = None  # "edge_type:memory id" it was reached from
    neighbour: float = 0.0  # score of the best candidate said within minutes of it (same session)
    hop: float = 0.0  # best candidate's score x the share of its rare words this memory says (another session)
    date: float | None = None  # 1 inside the window the query's dates name, fading outside; null: no dates


class RecallHit(msgspec.Struct, frozen=True, kw_only=True):
    """One recalled memory. Time has two axes (docs/time.md): `occurred_at` is
    when it was true or said (valid time, `remember --at`), `recorded_at` when
    memman learned it (transaction time; `created_at` is the same value, kept
    for older clients). `valid_until` is where its validity ends (an explicit
    end, or its successor's occurred_at), null while it holds. `stale` says why
    it is not the current value: "superseded" (`superseded_by` names the
    successor), "older" (a newer memory on the same subject ranks above it) or
    "expired" (its `valid_until` has passed)."""

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
    occurred_at: str = ""
    recorded_at: str = ""
    valid_until: str | None = None
    superseded_by: str | None = None
    stale: str | None = None
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
    confidence: float = 0.0  # the best candidate's score (a probability of relevance), shown or not
    min_score: float = 0.0  # results scoring below this were left out
    hint: str | None = None
    as_of: str | None = None  # valid time: what was true then
    expansion: list[str] = []  # `--expand`: the LLM's extra keyword terms
    reranked: str | None = None  # the rerank provider:model that ordered the top results
    window: DateWindow | None = None  # the window the query's dates name (memman/recall/dates.py)
    stores: list[str] = []  # the stores searched, project first (memman/scope/)
    known_at: str | None = None  # transaction time: what had been recorded by then (`--known-at`)


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


class ServerReplayReport(msgspec.Struct, frozen=True, kw_only=True):
    """`events replay --server`: the server projections rebuilt from this machine's replica."""

    store: str
    server: str  # the PostgreSQL URL without its password
    seq: int  # the log position they reflect
    rows: dict[str, int]  # rows written per server projection
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


class RetentionStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The retention lifecycle of a store, for `status` (memman/lifecycle/)."""

    policy: RetentionPolicy  # what ranking uses (recorded in the log)
    configured_differs: bool  # [retention] differs: the next drain or gc records it
    gc_every_h: float
    last_gc: GcRun | None
    next_gc: str | None
    candidates: int
    protected: int


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
    retention: RetentionStatus | None = None
    backend: str = "sqlite"  # or the PostgreSQL URL without its password
    replica_lag: int = 0  # events the local projections were behind the log when asked
    server_lag: dict[str, int] | None = None  # per server projection, events behind the head (None: none built)


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
    stores_kept: int | None = None  # stores whose handles it keeps open between requests
    stores_opened: int | None = None  # handles opened (a first request, or the files changed)
    stores_reused: int | None = None  # requests answered on a kept handle
