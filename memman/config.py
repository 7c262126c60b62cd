"""`<data_dir>/config.toml`: the one source of truth for installable settings.

    [llm]         provider = "none" | "openai"   (openai = any OpenAI-compatible endpoint)
    [embeddings]  provider = "static" | "hashing" | "onnx" | "openai" | "voyage" | "ollama"
    [rerank]      provider = "none" | "voyage" | "compatible"
    [recall]      prompt injection from hooks
    [scheduler]   drain interval, running or stopped
    [graph]       the edge policy: thresholds and caps of the four graphs
    [retention]   decay, boost and gc policy (memman/lifecycle/, docs/lifecycle.md)
    [scope]       a store per project beside the personal one (memman/scope/)
    [capture]     session capture from the PreCompact / SessionEnd hooks
    [stores.NAME.<section>]   per-store overrides of any of the above

The file is written with mode 0600 (it may hold API keys) inside a 0700 data
dir. Values are validated against the typed sections below on every load and
every `set`; secrets (`api_key`) are redacted in everything memman prints.
Environment variables only steer the process (MEMMAN_DATA_DIR, MEMMAN_STORE);
settings live here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from events.errors import ConfigError
from memman.lifecycle.policy import RetentionPolicy

CONFIG_FILE = "config.toml"
SECRET_FIELDS = frozenset({"api_key"})
REDACTED = "********"


class LLMSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider: Literal["none", "openai"] = "none"
    base_url: str = ""
    api_key: str = ""
    model_fast: str = ""  # extraction, reconciliation, query expansion
    model_slow: str = ""  # enrichment, causal inference
    timeout_s: float = 30.0
    max_retries: int = 3
    retry_backoff_s: float = 1.0  # first retry wait, doubled each time (a Retry-After header wins)
    json_mode: Literal["json_object", "json_schema", "off"] = "json_object"  # response_format sent


class EmbeddingSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider: Literal["static", "hashing", "onnx", "openai", "voyage", "ollama"] = "static"
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    dimensions: int = 0  # 0 = the model's own
    batch_size: int = 64
    timeout_s: float = 30.0
    query_timeout_ms: int = 1500  # recall's budget for a remote query embedding
    max_retries: int = 3  # on 429 / 5xx / connection failures, with backoff (Retry-After wins)
    model_path: str = ""  # onnx: the model directory [<data_dir>/models/minilm-onnx]


class RerankSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider: Literal["none", "voyage", "compatible"] = "none"
    base_url: str = ""
    api_key: str = ""
    model: str = ""
    top_n: int = 20
    timeout_ms: int = 1500


class RecallSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    inject: bool = True  # UserPromptSubmit injects relevant memories (memman/integration/inject.py); off: a reminder
    inject_limit: int = 5
    inject_budget_ms: int = 400  # recall must answer within this (from the hook's start), else the plain reminder
    inject_max_chars: int = 3000  # the fenced block's size cap
    remind_every: int = 8  # Stop hook: ask "anything to remember?" after this many turns without a write (0 = never)


class SchedulerSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    interval_s: int = 300
    state: Literal["running", "stopped"] = "running"
    auto_drain: bool = True  # start a detached background drain after writes (memman/scheduler/autodrain.py)
    max_wait_s: int = 900  # doctor fails when a memory has waited longer than this for the drain


class GraphSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The edge policy `graph rebuild` applies (see workers/stages/edges.py)."""

    semantic: Literal["on", "skip"] = "on"
    semantic_threshold: float = 0.0  # 0 = calibrated for the store's embedder
    semantic_k: int = 5
    proximity_window_s: int = 1800
    proximity_cap: int = 3
    entity_cap_per_entity: int = 5
    entity_cap_per_memory: int = 10
    causal_cap: int = 3
    causal_min_confidence: float = 0.6
    story_cap: int = 3  # story edges per new memory (workers/stories/links.py); 0 = none
    story_days: int = 180  # how far back a later memory may continue a story


Positive = Annotated[float, msgspec.Meta(gt=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Share = Annotated[float, msgspec.Meta(ge=0, le=1)]


_RETENTION = RetentionPolicy()


class RetentionSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The retention policy (memman/lifecycle/retention.py): effective
    importance = importance x decay + boost, where decay halves the part above
    `floor` every `half_life_days` without use and boost grows with the log of
    uses. Ranking multiplies a result's score by 1 + rank_weight x
    (effective - 3); gc retires what falls below `gc_below`, except the
    immune (protected, importance 5, younger than `min_age_days`, decisions
    with a recorded rationale). Recorded in the log when a drain or gc runs."""

    # The defaults are the policy's own (memman/lifecycle/policy.py), which is
    # also what a log with no recorded policy replays under: one source.
    half_life_days: Positive = _RETENTION.half_life_days
    floor: Share = _RETENTION.floor
    boost_per_use: NonNegative = _RETENTION.boost_per_use  # per doubling of uses
    max_boost: NonNegative = _RETENTION.max_boost
    rank_weight: Annotated[float, msgspec.Meta(ge=0, le=0.2)] = _RETENTION.rank_weight
    gc_below: NonNegative = _RETENTION.gc_below  # importance 3 never falls below (0.3 x 3 = 0.9); 1 and 2 can
    min_age_days: NonNegative = _RETENTION.min_age_days
    gc_every_h: NonNegative = 24.0  # the scheduler's gc cadence; 0 = only 'memman gc'
class CaptureSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Session capture (memman/integration/capture.py): PreCompact and
    SessionEnd hand the new part of the transcript to the drain. "auto" is on
    when an LLM is configured (llm.provider != "none"), off otherwise."""

    sessions: Literal["auto", "on", "off"] = "auto"


class ScopeSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    projects: bool = True  # a store per project (git root or .memman marker) beside the personal one (memman/scope/)


class PostgresSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A PostgreSQL store's reads (docs/postgres.md): "replica" answers recall
    from this machine's local SQLite replica of the shared log; "server" from
    the server projections in PostgreSQL, with no local replica at all."""

    reads: Literal["replica", "server"] = "replica"


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    llm: LLMSettings = msgspec.field(default_factory=LLMSettings)
    embeddings: EmbeddingSettings = msgspec.field(default_factory=EmbeddingSettings)
    rerank: RerankSettings = msgspec.field(default_factory=RerankSettings)
    recall: RecallSettings = msgspec.field(default_factory=RecallSettings)
    scheduler: SchedulerSettings = msgspec.field(default_factory=SchedulerSettings)
    graph: GraphSettings = msgspec.field(default_factory=GraphSettings)
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    scope: ScopeSettings = msgspec.field(default_factory=ScopeSettings)
    capture: CaptureSettings = msgspec.field(default_factory=CaptureSettings)
    postgres: PostgresSettings = msgspec.field(default_factory=PostgresSettings)


def capture_enabled(settings: Settings) -> bool:
    """Whether session capture is on: explicitly, or by default with an LLM."""
    mode = settings.capture.sessions
    return mode == "on" or (mode == "auto" and settings.llm.provider != "none")


SECTIONS: dict[str, type[msgspec.Struct]] = {
    "llm": LLMSettings,
    "embeddings": EmbeddingSettings,
    "rerank": RerankSettings,
    "recall": RecallSettings,
    "scheduler": SchedulerSettings,
    "graph": GraphSettings,
    "retention": RetentionSettings,
    "scope": ScopeSettings,
    "capture": CaptureSettings,
    "postgres": PostgresSettings,
}
_STORE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

Raw = dict[str, Any]


def config_path(data_dir: Path) -> Path:
    return data_dir / CONFIG_FILE


def read_raw(data_dir: Path) -> Raw:
    path = config_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    import tomllib  # only when a config file exists: ~2 ms a cold process need not pay

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None
    _validate(raw, path)
    return raw


def _validate(raw: Raw, where: Path | str) -> None:
    for key, value in raw.items():
        if key == "stores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [stores] must be a table of store names")
            for store, sections in value.items():
                if not _STORE.match(store) or not isinstance(sections, dict):
                    raise ConfigError(f"{where}: bad per-store table [stores.{store}]")
                _section_values(sections, f"{where}: [stores.{store}]")
        elif key not in SECTIONS:
            raise ConfigError(f"{where}: unknown section [{key}]; known: {', '.join(SECTIONS)}")
    _section_values({k: v for k, v in raw.items() if k != "stores"}, str(where))


def _section_values(sections: Raw, where: str) -> None:
    for name, values in sections.items():
        if name not in SECTIONS:
            raise ConfigError(f"{where}: unknown section [{name}]; known: {', '.join(SECTIONS)}")
        try:
            msgspec.convert(values, SECTIONS[name], strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{where}: [{name}] {exc}") from None


def settings_for(data_dir: Path, store: str | None = None) -> Settings:
    """The effective settings: defaults, then the file, then the store's overrides."""
    raw = read_raw(data_dir)
    merged: Raw = {name: dict(raw.get(name, {})) for name in SECTIONS}
    if store:
        for name, values in raw.get("stores", {}).get(store, {}).items():
            merged[name].update(values)
    return msgspec.convert(merged, Settings, strict=False)


def _split_key(key: str) -> tuple[str, str]:
    section, _, field = key.partition(".")
    cls = SECTIONS.get(section)
    if cls is None or not field:
        raise ConfigError(f"unknown setting {key!r}; settings look like llm.provider (see 'memman config show')")
    if field not in cls.__struct_fields__:
        raise ConfigError(f"unknown setting {key!r}; [{section}] has {', '.join(cls.__struct_fields__)}")
    return section, field


def get(data_dir: Path, key: str, store: str | None = None, *, reveal: bool = False) -> object:
    section, field = _split_key(key)
    value = getattr(getattr(settings_for(data_dir, store), section), field)
    return REDACTED if field in SECRET_FIELDS and value and not reveal else value


def set_value(data_dir: Path, key: str, value: str, store: str | None = None) -> object:
    """Validate and write one setting (globally, or for one store); returns the typed value."""
    from memman.intake.settings_bounds import check

    section, field = _split_key(key)
    typed = _coerce(SECTIONS[section], field, value, key)
    check(f"{section}.{field}", typed)
    raw = read_raw(data_dir)
    target = raw.setdefault("stores", {}).setdefault(store, {}) if store else raw
    target.setdefault(section, {})[field] = typed
    _validate(raw, config_path(data_dir))
    write_raw(data_dir, raw)
    return typed


def unset(data_dir: Path, key: str, store: str | None = None) -> None:
    section, field = _split_key(key)
    raw = read_raw(data_dir)
    target = raw.get("stores", {}).get(store, {}) if store else raw
    target.get(section, {}).pop(field, None)
    write_raw(data_dir, raw)


def _coerce(cls: type[msgspec.Struct], field: str, value: str, key: str) -> object:
    probe: Raw = {field: value}
    if value.lower() in ("true", "false"):
        probe = {field: value.lower() == "true"}
    try:
        converted = msgspec.convert(probe, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"bad value for {key}: {exc}") from None
    return getattr(converted, field)


def redacted(settings: Settings) -> Raw:
    out = msgspec.to_builtins(settings)
    for values in out.values():
        for field in SECRET_FIELDS & values.keys():
            if values[field]:
                values[field] = REDACTED
    return out


def write_raw(data_dir: Path, raw: Raw) -> None:
    """Write atomically, mode 0600, inside a 0700 data dir."""
    if not data_dir.is_dir():  # an existing data dir keeps its mode (see Registry.ensure_data_dir)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
    path = config_path(data_dir)
    tmp = path.with_name(f".{CONFIG_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(to_toml(raw))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def to_toml(raw: Raw) -> str:
    """TOML for memman's shape: tables of scalars, and [stores.NAME.section]."""
    lines: list[str] = []

    def table(name: str, values: Raw) -> None:
        scalars = {k: v for k, v in values.items() if not isinstance(v, dict)}
        if scalars:
            lines.append(f"[{name}]")
            lines.extend(f"{k} = {_scalar(v)}" for k, v in scalars.items())
            lines.append("")

    for name in SECTIONS:
        if raw.get(name):
            table(name, raw[name])
    for store, sections in sorted(raw.get("stores", {}).items()):
        for name, values in sections.items():
            if values:
                table(f"stores.{store}.{name}", values)
    return "\n".join(lines)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'
