"""What `memman install` does about the drain worker, and says it did.

Install tries the platform's timer (`scheduler install`: a systemd user timer,
or a launchd agent on macOS). Where that cannot work (a container, no systemd
user bus), nothing is left behind and memman's own automatic background drain
(memman/scheduler/autodrain.py) is the worker; install says so, with the log's
path. A timer install created is recorded in <data_dir>/install/scheduler.json,
and the last `uninstall` removes it again; a timer the user installed
themselves is left alone.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

MARKER = "scheduler.json"


class WorkerSetup(msgspec.Struct, frozen=True, kw_only=True):
    action: str  # "installed", "kept", "automatic", "skipped", "removed", "absent"
    detail: str


def _marker(data_dir: Path) -> Path:
    return data_dir / "install" / MARKER


def setup(data_dir: Path, *, wanted: bool) -> WorkerSetup:
    from memman import config
    from memman.scheduler import autodrain, ops, units

    log = data_dir / "scheduler" / autodrain.LOG
    auto = config.settings_for(data_dir).scheduler.auto_drain
    fallback = (
        f"memman drains in the background by itself after writes and at session end (log: {log})"
        if auto
        else "scheduler.auto_drain is off, so memories wait: run 'memman scheduler serve' or set it to true"
    )
    if not wanted:
        return WorkerSetup(action="skipped", detail=f"no OS timer (--no-scheduler); {fallback}")
    existing = ops.read_manifest(data_dir)
    if existing is not None:
        return WorkerSetup(action="kept", detail=f"{existing.kind} timer already installed")
    try:
        result = ops.install_units(data_dir)
    except units.ControlFailed as exc:
        reason = str(exc).split("; nothing was installed")[0]
        return WorkerSetup(action="automatic", detail=f"no OS timer here ({reason}); {fallback}")
    _marker(data_dir).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _marker(data_dir).write_text(result.platform + "\n")
    interval = config.settings_for(data_dir).scheduler.interval_s
    return WorkerSetup(action="installed", detail=f"{result.platform} timer draining every {interval}s ({', '.join(result.files)})")


def teardown(data_dir: Path) -> WorkerSetup:
    """Remove the timer install created (only that one), once no agent target remains."""
    from memman.scheduler import ops

    if not _marker(data_dir).exists():
        return WorkerSetup(action="absent", detail="no timer installed by 'memman install'")
    result = ops.uninstall_units(data_dir)
    _marker(data_dir).unlink()
    try:
        _marker(data_dir).parent.rmdir()
    except OSError:
        pass  # other install records remain
    return WorkerSetup(action="removed", detail=f"{result.platform} timer removed")
