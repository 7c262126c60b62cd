"""The scheduler's operations as plain functions returning Structs; the click
commands in memman/cli/scheduler.py only parse and render them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import msgspec

from events.errors import BadInput
from memman.scheduler import state, units

MANIFEST = "units.json"
MIN_INTERVAL, MAX_INTERVAL = 10, 7 * 24 * 3600


class UnitsManifest(msgspec.Struct, kw_only=True):
    kind: str
    files: list[str]
    created_dirs: list[str] = []


class UnitsResult(msgspec.Struct, frozen=True, kw_only=True):
    action: str  # "installed", "uninstalled", "rendered", "absent"
    platform: str
    files: list[str]
    calls: list[list[str]]
    units: list[units.UnitFile] = []


class SchedulerStatus(msgspec.Struct, frozen=True, kw_only=True):
    state: str  # "running" or "stopped"
    interval_s: int
    units: str | None  # "systemd" / "launchd" when installed
    heartbeat: state.Heartbeat | None
    backlog: dict[str, int]  # store -> pending + failed
    dead: dict[str, int]
    oldest_pending: str | None
    worker: str = "auto"  # who drains: stopped / serve / timer / auto / none (memman/scheduler/worker.py)
    worker_detail: str = ""


class StateChange(msgspec.Struct, frozen=True, kw_only=True):
    state: str
    changed: bool


def home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def _manifest_path(data_dir: Path) -> Path:
    return state.directory(data_dir) / MANIFEST


def read_manifest(data_dir: Path) -> UnitsManifest | None:
    try:
        return msgspec.json.decode(_manifest_path(data_dir).read_bytes(), type=UnitsManifest)
    except (FileNotFoundError, msgspec.DecodeError):
        return None


def install_units(
    data_dir: Path, *, platform: str | None = None, control: units.Control | None = None, dry_run: bool = False
) -> UnitsResult:
    from memman import config

    kind = units.platform_kind(platform)
    interval = config.settings_for(data_dir).scheduler.interval_s
    rendered = units.render(kind, data_dir, interval, sys.executable, home())
    if dry_run:
        return UnitsResult(action="rendered", platform=kind, files=[u.path for u in rendered], calls=[], units=rendered)
    control = control or units.Control()
    previous = read_manifest(data_dir)
    created = units.install(kind, rendered, control)
    manifest = UnitsManifest(
        kind=kind,
        files=[u.path for u in rendered],
        created_dirs=(previous.created_dirs if previous and previous.kind == kind else []) + created,
    )
    _manifest_path(data_dir).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _manifest_path(data_dir).write_bytes(msgspec.json.encode(manifest))
    return UnitsResult(action="installed", platform=kind, files=manifest.files, calls=control.calls)


def uninstall_units(data_dir: Path, *, platform: str | None = None, control: units.Control | None = None) -> UnitsResult:
    manifest = read_manifest(data_dir)
    kind = units.platform_kind(platform or (manifest.kind if manifest else None))
    control = control or units.Control()
    removed = units.uninstall(kind, home(), control, manifest.created_dirs if manifest else ())
    _manifest_path(data_dir).unlink(missing_ok=True)
    _remove_empty_dir(state.directory(data_dir))
    return UnitsResult(action="uninstalled" if removed else "absent", platform=kind, files=removed, calls=control.calls)


def _remove_empty_dir(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # holds a heartbeat or the stopped marker: keep it


def set_running(data_dir: Path, running: bool) -> StateChange:
    wanted = "running" if running else "stopped"
    before = "stopped" if state.is_stopped(data_dir) else state.configured_state(data_dir)
    state.set_state(data_dir, wanted)
    return StateChange(state=wanted, changed=before != wanted)


def set_interval(data_dir: Path, seconds: int, *, control: units.Control | None = None) -> UnitsResult | None:
    """Store the interval; re-render and reload the units when installed."""
    from memman import config

    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise BadInput(f"interval must be between {MIN_INTERVAL} and {MAX_INTERVAL} seconds, got {seconds}")
    config.set_value(data_dir, "scheduler.interval_s", str(seconds))
    manifest = read_manifest(data_dir)
    if manifest is None:
        return None
    return install_units(data_dir, platform=manifest.kind, control=control)


def status(data_dir: Path) -> SchedulerStatus:
    from memman import config
    from memman.stores import Registry
    from projections.store import StoreDB

    settings = config.settings_for(data_dir)
    backlog: dict[str, int] = {}
    dead: dict[str, int] = {}
    oldest: str | None = None
    registry = Registry(data_dir)
    for name in registry.names():
        db = StoreDB(registry.path(name))
        try:
            db.main.catch_up()
            counts = dict(db.main.conn.execute("SELECT state, count(*) FROM work GROUP BY state").fetchall())
            first = db.main.conn.execute(
                "SELECT min(queued_at) FROM work WHERE state IN ('pending','failed')"
            ).fetchone()[0]
        finally:
            db.close()
        backlog[name] = counts.get("pending", 0) + counts.get("failed", 0)
        dead[name] = counts.get("dead", 0)
        if first and (oldest is None or first < oldest):
            oldest = first
    manifest = read_manifest(data_dir)
    from memman.scheduler.worker import describe

    worker = describe(data_dir)
    return SchedulerStatus(
        state="stopped" if state.is_stopped(data_dir) else settings.scheduler.state,
        interval_s=settings.scheduler.interval_s,
        units=manifest.kind if manifest else None,
        heartbeat=state.read_heartbeat(data_dir),
        backlog=backlog,
        dead=dead,
        oldest_pending=oldest,
        worker=worker.kind,
        worker_detail=worker.detail,
    )


class TriggerResult(msgspec.Struct, frozen=True, kw_only=True):
    how: str  # "woke serve" or "drained here" or "stopped"
    processed: int = 0
    remaining: int = 0


def trigger(data_dir: Path) -> TriggerResult:
    """Wake a running `serve` loop, or drain once here when none is running."""
    from memman.scheduler.serve import run_pass

    if state.is_stopped(data_dir):
        state.refuse_write(data_dir)
    if serve_alive(data_dir):
        state.request_trigger(data_dir)
        return TriggerResult(how="woke serve")
    report = run_pass(data_dir, "trigger")
    if not report.ran:
        return TriggerResult(how=report.reason)
    return TriggerResult(how="drained here", processed=report.processed, remaining=report.remaining)


SERVE_PID = "serve.pid"


def serve_alive(data_dir: Path) -> bool:
    """A `serve` loop is running for this data dir (its pid file names a live process)."""
    try:
        pid = int((state.directory(data_dir) / SERVE_PID).read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
