"""Running or stopped, and the drain heartbeat.

Stopped means recall-only for the whole data dir: `remember`, `replace`,
`forget`, `restore`, `link` and drains are refused with one clear line, and
recall keeps working. `memman scheduler start` lifts it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import msgspec

from events.clock import Clock, to_iso, utc_now
from events.errors import StoreLocked

DIR = "scheduler"
STOPPED = "stopped"
HEARTBEAT = "heartbeat.json"
TRIGGER = "trigger"


class RecallOnly(StoreLocked):
    """Writes are refused while the scheduler is stopped (exit 4, like a lock)."""


class Heartbeat(msgspec.Struct, kw_only=True):
    at: str  # when the last pass finished (UTC ISO)
    pid: int
    mode: str  # "serve", "once", "trigger" or "drain"
    processed: int = 0
    remaining: int = 0
    failed: int = 0
    seconds: float = 0.0
    error: str | None = None


def directory(data_dir: Path) -> Path:
    return data_dir / DIR


def is_stopped(data_dir: Path) -> bool:
    return os.path.exists(directory(data_dir) / STOPPED)


def refuse_write(data_dir: Path) -> NoReturn:
    raise RecallOnly(
        f"the scheduler is stopped, so {data_dir} is recall-only; 'memman scheduler start' allows writes again"
    )


def set_state(data_dir: Path, state: str) -> None:
    """Record the state in config.toml and mirror it in the marker file."""
    from memman import config

    config.set_value(data_dir, "scheduler.state", state)
    marker = directory(data_dir) / STOPPED
    if state == "stopped":
        marker.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        marker.write_text("recall-only: 'memman scheduler start' lifts it\n")
    else:
        marker.unlink(missing_ok=True)


def configured_state(data_dir: Path) -> str:
    from memman import config

    return config.settings_for(data_dir).scheduler.state


def write_heartbeat(data_dir: Path, beat: Heartbeat) -> None:
    folder = directory(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = folder / f".{HEARTBEAT}.{os.getpid()}.tmp"
    tmp.write_bytes(msgspec.json.encode(beat))
    tmp.replace(folder / HEARTBEAT)


def read_heartbeat(data_dir: Path) -> Heartbeat | None:
    try:
        return msgspec.json.decode((directory(data_dir) / HEARTBEAT).read_bytes(), type=Heartbeat)
    except FileNotFoundError:
        return None
    except msgspec.DecodeError:
        return None  # a torn or foreign file reads as "no heartbeat"; doctor reports it


def record_pass(data_dir: Path, mode: str, reports: list, *, clock: Clock = utc_now, seconds: float = 0.0) -> Heartbeat:  # type: ignore[type-arg]
    beat = Heartbeat(
        at=to_iso(clock()),
        pid=os.getpid(),
        mode=mode,
        processed=sum(r.processed for r in reports),
        remaining=sum(r.remaining for r in reports),
        failed=sum(r.failed for r in reports),
        seconds=round(seconds, 3),
    )
    write_heartbeat(data_dir, beat)
    return beat


def request_trigger(data_dir: Path) -> None:
    folder = directory(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    (folder / TRIGGER).touch()


def take_trigger(data_dir: Path) -> bool:
    try:
        (directory(data_dir) / TRIGGER).unlink()
    except FileNotFoundError:
        return False
    return True
