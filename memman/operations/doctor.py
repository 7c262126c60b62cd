"""`memman doctor`: pass / warn / fail checks over a data dir, each with a
hint that fixes it. Read-only, except that projections are caught up before
being compared with a scratch rebuild (what any reader would do).

    config        config.toml parses and validates
    permissions   data dir 0700 (which keeps the stores private), config.toml 0600
    log           append-only triggers present, seq contiguous (per store)
    projections   caught up with the log and identical to a rebuild from it
    vectors       every active memory has a vector under the bound fingerprint;
                  the flat vector cache matches it
    backlog       work no drain has touched and the age of the oldest (fails
                  past scheduler.max_wait_s, 15 min by default); failing and
                  dead-lettered inputs (warn)
    heartbeat     a drain ran recently enough for the backlog
    worker        who drains (serve loop, OS timer, automatic background
                  drain); fails when work waits and nothing will drain it
    scheduler     config state and the recall-only marker agree
    hooks         installed agent integrations point at this installation
    providers     remote LLM / embedding endpoints answer (only with --online)
"""

from __future__ import annotations

import stat
import sys
from datetime import timedelta
from pathlib import Path
from typing import Literal

import msgspec

from events.clock import Clock, from_iso, utc_now
from events.errors import MemmanError, StoreCorrupt
from events.log import CORRUPT_LOG_FIX

Status = Literal["pass", "warn", "fail"]


class Check(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    status: Status
    detail: str
    fix: str = ""
    store: str | None = None


class DoctorReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool  # no check failed
    checks: list[Check]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_config(data_dir: Path) -> list[Check]:
    from memman import config

    try:
        config.settings_for(data_dir)
    except MemmanError as exc:
        return [Check(name="config", status="fail", detail=str(exc), fix=f"fix or remove {config.config_path(data_dir)}")]
    where = config.config_path(data_dir)
    return [Check(name="config", status="pass", detail=f"{where} is valid" if where.exists() else "defaults (no config.toml)")]


def check_permissions(data_dir: Path) -> list[Check]:
    from memman import config

    found: list[Check] = []
    if data_dir.exists() and _mode(data_dir) & 0o077:
        found.append(Check(name="permissions", status="fail", detail=f"{data_dir} is mode {_mode(data_dir):04o}, not 0700",
                           fix=f"chmod 700 {data_dir}"))
    path = config.config_path(data_dir)
    if path.exists() and _mode(path) & 0o077:
        found.append(Check(name="permissions", status="fail", detail=f"{path} is mode {_mode(path):04o}, not 0600 (it may hold keys)",
                           fix=f"chmod 600 {path}"))
    return found or [Check(name="permissions", status="pass", detail="data dir 0700, config 0600")]


def check_store(data_dir: Path, name: str, clock: Clock) -> list[Check]:
    from memman.operations.maintenance import verify
    from memman.service import Memman

    found: list[Check] = []
    with Memman(data_dir, name) as app:
        db = app.db
        problems = db.log.verify()
        if problems:
            found.append(Check(name="log", status="fail", store=name, detail="; ".join(problems[:5]), fix=CORRUPT_LOG_FIX))
            return found  # projections rebuilt from a damaged log prove nothing
        else:
            found.append(Check(name="log", status="pass", store=name, detail=f"{db.log.count()} events, append-only, contiguous"))
        damaged = db.damaged()
        if damaged:
            found.append(Check(name="projections", status="fail", store=name,
                               detail="; ".join(f"{f} is damaged ({why})" for f, why in damaged.items()),
                               fix=f"memman --store {name} events replay (moves it aside and rebuilds it from the log)"))
            return found
        head = db.log.head()
        marks = db.checkpoints()  # raises LogMissing if the log is older than them
        behind = {k: head - v for k, v in marks.items() if v < head}
        report = verify(app)
        differences = [f"{d.table}: {d.detail}" for d in report.differences]
        if differences:
            found.append(Check(name="projections", status="fail", store=name,
                               detail="differ from a rebuild from the log: " + "; ".join(differences[:3]),
                               fix=f"memman --store {name} events replay"))
        else:
            lag = f" (were {max(behind.values())} events behind; caught up)" if behind else ""
            found.append(Check(name="projections", status="pass", store=name, detail=f"consistent with the log{lag}"))
        found += _vectors(app, name)
        found += _backlog(app, name, clock)
    return found


def _vectors(app, name: str) -> list[Check]:  # type: ignore[no-untyped-def]
    from projections.vectors import _cache_path, cache_problem, stamp

    db = app.db
    fingerprint = db.setting("embedder")
    active = db.main.conn.execute("SELECT count(*) FROM memories WHERE status='active'").fetchone()[0]
    if fingerprint is None:
        status: Status = "warn" if active else "pass"
        return [Check(name="vectors", status=status, store=name, detail="no embedder bound yet (nothing drained)",
                      fix="memman scheduler drain" if active else "")]
    with_vectors = {r[0] for r in db.vectors.conn.execute("SELECT memory_id FROM vectors WHERE fingerprint=?", (fingerprint,))}
    missing = sum(1 for (mid,) in db.main.conn.execute("SELECT id FROM memories WHERE status='active'") if mid not in with_vectors)
    if missing:
        return [Check(name="vectors", status="warn", store=name,
                      detail=f"{missing} of {active} active memories have no vector under {fingerprint}",
                      fix="memman scheduler drain (embeds what is missing)")]
    cache = _cache_path(db.directory, fingerprint)
    note = "no flat cache yet (built at the next recall)"
    if cache.exists() and stamp(db.vectors.conn, fingerprint) is not None:
        problem = cache_problem(db.vectors.conn, db.directory, fingerprint)
        if problem:
            return [Check(name="vectors", status="warn", store=name, detail=problem,
                          fix=f"memman --store {name} events replay --projection vectors")]
        note = "flat cache current"
    return [Check(name="vectors", status="pass", store=name, detail=f"{len(with_vectors)} vectors under {fingerprint}; {note}")]


def _backlog(app, name: str, clock: Clock) -> list[Check]:  # type: ignore[no-untyped-def]
    """Work no drain has touched yet fails past scheduler.max_wait_s (nothing
    is draining); work a drain tried and will retry is a warning (a failing
    derivation, which `queue failed` shows), as are dead-lettered inputs."""
    from memman import config

    conn = app.db.main.conn
    counts = dict(conn.execute("SELECT state, count(*) FROM work GROUP BY state").fetchall())
    pending = counts.get("pending", 0)
    oldest = conn.execute("SELECT min(queued_at) FROM work WHERE state = 'pending'").fetchone()[0]
    limit = timedelta(seconds=config.settings_for(app.registry.data_dir).scheduler.max_wait_s)
    found: list[Check] = []
    if pending and oldest and clock() - from_iso(oldest) > limit:
        found.append(Check(name="backlog", status="fail", store=name,
                           detail=f"{pending} pending, oldest waiting since {oldest} (over scheduler.max_wait_s={int(limit.total_seconds())}s)",
                           fix="memman scheduler status (who drains?); run 'memman scheduler drain' now"))
    else:
        found.append(Check(name="backlog", status="pass", store=name, detail=f"{pending} pending" + (f", oldest since {oldest}" if oldest else "")))
    if counts.get("failed"):
        found.append(Check(name="backlog", status="warn", store=name, detail=f"{counts['failed']} failing, retried by the drain",
                           fix=f"memman --store {name} scheduler queue failed"))
    if counts.get("dead"):
        found.append(Check(name="backlog", status="warn", store=name, detail=f"{counts['dead']} dead-lettered inputs",
                           fix=f"memman --store {name} scheduler queue failed; then queue retry or purge"))
    return found


def _fix_of(exc: StoreCorrupt) -> str:
    """The fix an error carries (LogMissing), else the damaged-log fix."""
    return getattr(exc, "fix", None) or CORRUPT_LOG_FIX


def check_heartbeat(data_dir: Path, backlog: int, clock: Clock) -> list[Check]:
    from memman import config
    from memman.scheduler import state

    beat = state.read_heartbeat(data_dir)
    interval = config.settings_for(data_dir).scheduler.interval_s
    if beat is None:
        status: Status = "warn" if backlog else "pass"
        return [Check(name="heartbeat", status=status, detail="no drain has run yet",
                      fix="memman scheduler install" if backlog else "")]
    age = clock() - from_iso(beat.at)
    if backlog and age > timedelta(seconds=3 * interval):
        return [Check(name="heartbeat", status="warn", detail=f"last drain {beat.at} ({int(age.total_seconds())}s ago) with work pending",
                      fix="memman scheduler status; memman scheduler install")]
    return [Check(name="heartbeat", status="pass", detail=f"last drain {beat.at} ({beat.mode})")]


def check_worker(data_dir: Path, backlog: int) -> list[Check]:
    """Who drains: fails when work waits and nothing will ever drain it."""
    from memman.scheduler.worker import describe

    worker = describe(data_dir)
    if worker.kind == "none" and backlog:
        return [Check(name="worker", status="fail", detail=worker.detail,
                      fix="memman config set scheduler.auto_drain true, or memman scheduler install")]
    if worker.kind == "stopped" and backlog:
        return [Check(name="worker", status="warn", detail=worker.detail, fix="memman scheduler start")]
    return [Check(name="worker", status="pass", detail=worker.detail)]


def check_scheduler(data_dir: Path) -> list[Check]:
    from memman.scheduler import state

    marker, configured = state.is_stopped(data_dir), state.configured_state(data_dir)
    if marker != (configured == "stopped"):
        return [Check(name="scheduler", status="warn", detail=f"config says {configured} but the recall-only marker says "
                      f"{'stopped' if marker else 'running'}", fix=f"memman scheduler {'start' if configured == 'running' else 'stop'}")]
    return [Check(name="scheduler", status="pass", detail=configured + (" (recall-only)" if marker else ""))]


def check_hooks(data_dir: Path) -> list[Check]:
    from memman.install import targets
    from memman.install.prime import hooks_dir

    installed = targets.installed_targets(data_dir)
    if not installed:
        return [Check(name="hooks", status="pass", detail="no agent integration installed (memman install adds one)")]
    found: list[Check] = []
    assets = str(hooks_dir())
    for target in installed:
        manifest = targets.read_manifest(data_dir, target)
        assert manifest is not None
        broken = [l.path for l in manifest.links if not targets._link_ok(l) or not l.source.startswith(assets)]
        if broken:
            found.append(Check(name="hooks", status="fail", detail=f"{target}: {', '.join(broken)} missing or not this installation's",
                               fix=f"memman install --target {target}"))
        elif manifest.python != sys.executable or not Path(manifest.python).exists():
            found.append(Check(name="hooks", status="fail", detail=f"{target}: hooks run {manifest.python}, not this memman ({sys.executable})",
                               fix=f"memman install --target {target}"))
        elif target == "claude-code" and not _claude_hooks_current(data_dir):
            found.append(Check(name="hooks", status="fail", detail="claude-code: settings.json lacks memman's hooks or points elsewhere",
                               fix="memman install --target claude-code"))
        else:
            found.append(Check(name="hooks", status="pass", detail=f"{target}: installed, pointing at {assets}"))
    return found


def _claude_hooks_current(data_dir: Path) -> bool:
    from memman.install import jsonc, targets

    path = targets.claude_dir() / "settings.json"
    try:
        settings = jsonc.parse(path.read_text(encoding="utf-8"), str(path)).plain()
    except (OSError, MemmanError):
        return False
    hooks = settings.get("hooks", {}) if isinstance(settings, dict) else {}
    commands = {h.get("command") for entries in hooks.values() if isinstance(entries, list) for e in entries
                if isinstance(e, dict) for h in e.get("hooks", []) if isinstance(h, dict)}
    return all(targets.hook_command(data_dir, name) in commands for _, _, name, _ in targets.CLAUDE_HOOKS)


def check_providers(data_dir: Path) -> list[Check]:
    """GET <base_url>/models for each configured remote provider; keys are sent, never shown."""
    import httpx

    from memman import config

    s = config.settings_for(data_dir)
    targets = []
    if s.llm.provider != "none":
        targets.append(("llm", s.llm.base_url, s.llm.api_key))
    if s.embeddings.provider in ("openai", "voyage", "ollama"):
        targets.append(("embeddings", s.embeddings.base_url, s.embeddings.api_key))
    if not targets:
        return [Check(name="providers", status="pass", detail="offline providers only; nothing to reach")]
    found: list[Check] = []
    for role, url, key in targets:
        if not url:
            found.append(Check(name="providers", status="fail", detail=f"{role}: no base_url set", fix=f"memman config set {role}.base_url URL"))
            continue
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            response = httpx.get(url.rstrip("/") + "/models", headers=headers, timeout=5.0)
        except httpx.HTTPError as exc:
            found.append(Check(name="providers", status="fail", detail=f"{role}: {url} unreachable ({type(exc).__name__})",
                               fix=f"check {role}.base_url and the network"))
            continue
        if response.status_code in (401, 403):
            found.append(Check(name="providers", status="fail", detail=f"{role}: {url} refused the key ({response.status_code})",
                               fix=f"printf %s KEY | memman config set {role}.api_key -"))
        elif response.status_code >= 500:
            found.append(Check(name="providers", status="fail", detail=f"{role}: {url} answered {response.status_code}", fix="try again later"))
        else:
            found.append(Check(name="providers", status="pass", detail=f"{role}: {url} reachable ({response.status_code})"))
    return found


def run(data_dir: Path, *, online: bool = False, clock: Clock = utc_now) -> DoctorReport:
    from memman.stores import Registry

    checks = check_config(data_dir) + check_permissions(data_dir)
    config_ok = checks[0].status != "fail"
    backlog = 0
    for name in Registry(data_dir).names():
        try:
            store_checks = check_store(data_dir, name, clock)
        except StoreCorrupt as exc:  # the message carries its own fix, which never destroys data
            detail = getattr(exc, "problem", str(exc))
            store_checks = [Check(name="log", status="fail", store=name, detail=detail, fix=_fix_of(exc))]
        except MemmanError as exc:
            store_checks = [Check(name="log", status="fail", store=name, detail=str(exc), fix="see 'memman events verify'")]
        checks += store_checks
        backlog += sum(1 for c in store_checks if c.name == "backlog" and " pending" in c.detail and not c.detail.startswith("0 "))
    if config_ok:
        checks += check_heartbeat(data_dir, backlog, clock) + check_worker(data_dir, backlog) + check_scheduler(data_dir)
        if online:
            checks += check_providers(data_dir)
    checks += check_hooks(data_dir)
    return DoctorReport(ok=all(c.status != "fail" for c in checks), checks=checks)


