"""Who drains this data dir, said truthfully: what `status`, `prime` and
`doctor` report instead of assuming a scheduler runs.

    stopped   `scheduler stop`: recall-only, nothing drains
    serve     a `memman scheduler serve` loop is alive (its pid)
    timer     `scheduler install` put a systemd timer / launchd agent in place
              (memman cannot see whether the OS actually runs it: the
              heartbeat's age tells)
    auto      no loop or timer: memman starts a background drain itself after
              writes and at session end (scheduler.auto_drain, the default)
    none      auto_drain is off and nothing else is set up: memories wait
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import msgspec

from memman.scheduler import autodrain, state


class Worker(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # "stopped", "serve", "timer", "auto", "none"
    detail: str  # one human sentence
    last_drain: str | None  # the heartbeat's time (UTC ISO), None = never
    last_drain_mode: str | None = None


def _units(data_dir: Path) -> str | None:
    try:
        return str(json.loads((state.directory(data_dir) / "units.json").read_text())["kind"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def _serve_pid(data_dir: Path) -> int | None:
    try:
        pid = int((state.directory(data_dir) / "serve.pid").read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        return pid
    return pid


def describe(data_dir: Path) -> Worker:
    beat = state.read_heartbeat(data_dir)
    last = beat.at if beat else None
    mode = beat.mode if beat else None
    if state.is_stopped(data_dir):
        return Worker(kind="stopped", detail="stopped (recall-only): nothing drains until 'memman scheduler start'",
                      last_drain=last, last_drain_mode=mode)
    pid = _serve_pid(data_dir)
    if pid is not None:
        return Worker(kind="serve", detail=f"a 'memman scheduler serve' loop (pid {pid})", last_drain=last, last_drain_mode=mode)
    units = _units(data_dir)
    if units:
        return Worker(kind="timer", detail=f"{units} timer installed by 'memman scheduler install'", last_drain=last,
                      last_drain_mode=mode)
    if autodrain._enabled(data_dir):
        return Worker(kind="auto", detail="automatic background drain, started by memman after writes and at session end",
                      last_drain=last, last_drain_mode=mode)
    return Worker(kind="none", detail="none: scheduler.auto_drain is off and no scheduler is installed; memories wait",
                  last_drain=last, last_drain_mode=mode)


def ago(iso: str | None, now: datetime) -> str:
    """'never', '42s ago', '7 min ago', '3 h ago'."""
    if not iso:
        return "never"
    from events.clock import from_iso

    seconds = max(0, int((now - from_iso(iso)).total_seconds()))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"
