"""The worker that always exists: a background drain memman starts by itself.

Where no OS timer can run (containers, no systemd user bus) and no `serve`
loop is alive, nothing would ever turn remembered text into memories. So the
write path and the session hooks call `kick()` after a write (or when the
backlog is non-empty), and `kick` decides in a few stat() calls:

    scheduler stopped (recall-only)          -> "stopped"      nothing runs
    MEMMAN_AUTODRAIN=0 / scheduler.auto_drain -> "disabled"
    a `serve` loop is alive                  -> "woke serve"   (trigger file)
    a drain holds the lock                   -> "queued"       (trigger file: the
                                                               running drain takes
                                                               one more pass)
    a drain it spawned is still alive        -> "debounced"    (trigger file: it
                                                               takes one more pass)
    otherwise                                -> "spawned"      detached process

The spawned process (`memman scheduler drain --background`) runs in its own
session (a closed terminal or a finished hook does not kill it), at nice 10,
drains in passes of `BATCH` inputs until nothing is due and no trigger is
waiting, and never runs longer than `MAX_SECONDS`. It appends one line per
pass to `<data_dir>/scheduler/autodrain.log` (rotated at `LOG_MAX` bytes to
`autodrain.log.1`), and writes the heartbeat that `status`, `prime` and
`doctor` read. An OS timer, when installed, keeps running beside it: the
drain lock keeps the two from racing.

Only stdlib at import: this runs on `remember`'s hot path.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

DIR = "scheduler"
STAMP = "autodrain.spawned"
LOG = "autodrain.log"
LOG_MAX = 256 * 1024
MAX_SECONDS = 600.0
BATCH = 200
ENV = "MEMMAN_AUTODRAIN"


def _folder(data_dir: Path) -> Path:
    return data_dir / DIR


def _lock_held(data_dir: Path) -> bool:
    """A drain holds the data dir's lock (probed without blocking, released at once)."""
    import fcntl

    try:
        fd = os.open(data_dir / "drain.lock", os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the probe's lock
    return False


def _serve_alive(folder: Path) -> bool:
    try:
        pid = int((folder / "serve.pid").read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _enabled(data_dir: Path) -> bool:
    flag = os.environ.get(ENV, "").strip().lower()
    if flag in ("0", "off", "false", "no"):
        return False
    if flag in ("1", "on", "true", "yes"):
        return True
    from events.errors import MemmanError
    from memman import config

    try:
        return config.settings_for(data_dir).scheduler.auto_drain
    except MemmanError:  # a broken config.toml must not break a write; doctor reports it
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _spawned_pid(stamp: Path) -> int | None:
    try:
        return int(stamp.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def kick(data_dir: Path) -> str:
    """Make sure a drain will pick up the backlog soon; never raises, never waits.

    The trigger file is touched before looking for a running drain, and the
    drain removes its stamp before its last look at the trigger, so a write
    racing a drain's exit is either seen by that drain or finds no drain and
    starts one: no write is left waiting."""
    folder = _folder(data_dir)
    try:
        if (folder / "stopped").exists():
            return "stopped"
        if _serve_alive(folder):
            _touch(folder / "trigger")
            return "woke serve"
        _touch(folder / "trigger")
        if _lock_held(data_dir):
            return "queued"
        _reap()
        pid = _spawned_pid(folder / STAMP)
        if pid is not None and _alive(pid):
            return "debounced"  # a drain is starting (or between passes): it sees the trigger
        if not _enabled(data_dir):
            return "disabled"
        child = spawn(data_dir)
        (folder / STAMP).write_text(f"{child}\n")
    except OSError as exc:  # a read-only or full data dir: the write itself already succeeded
        return f"failed: {exc.strerror or exc}"
    return "spawned"


def _touch(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch()


def spawn(data_dir: Path) -> int:
    """Start `memman scheduler drain --background` detached; its output goes to the log."""
    _reap()
    log = _folder(data_dir) / LOG
    rotate(log)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        env = {**os.environ, ENV: "0", "OPENBLAS_NUM_THREADS": "1"}
        argv = [sys.executable, "-P", "-m", "memman", "--data-dir", str(data_dir), "scheduler", "drain", "--background"]
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, fd, 1),
            (os.POSIX_SPAWN_DUP2, fd, 2),
        ]
        return os.posix_spawn(sys.executable, argv, env, file_actions=actions, setsid=True)
    finally:
        os.close(fd)


def _reap() -> None:
    """Collect drains this process started earlier that have ended (a long-lived
    caller such as `memman mcp` would otherwise keep them as zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def rotate(log: Path) -> None:
    try:
        if log.stat().st_size > LOG_MAX:
            log.replace(log.with_name(log.name + ".1"))
    except FileNotFoundError:
        log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def run_background(data_dir: Path, *, say=print) -> int:  # type: ignore[no-untyped-def]
    """The spawned drain: passes of BATCH inputs while work is due or a trigger
    waits, for at most MAX_SECONDS; one log line per pass. Exit 0 always
    (a locked data dir means another drain is on it)."""
    from events.clock import to_iso, utc_now
    from memman.scheduler import state
    from memman.scheduler.serve import run_pass

    try:
        os.nice(10)
    except OSError:
        pass  # not allowed to lower priority: drain at the default one
    started = time.monotonic()
    passes = 0
    while time.monotonic() - started < MAX_SECONDS:
        state.take_trigger(data_dir)
        report = run_pass(data_dir, "auto", limit=BATCH)
        passes += 1
        say(f"{to_iso(utc_now())} pid {os.getpid()} pass {passes}: {report.reason}, {report.processed} processed,"
            f" {report.remaining} remaining, {report.failed} failed ({report.seconds:.2f}s)")
        if not report.ran:
            return 0
        more = report.remaining > 0 and report.processed > 0
        if more or state.take_trigger(data_dir):
            continue
        stamp = _folder(data_dir) / STAMP
        stamp.unlink(missing_ok=True)  # from here on a new write starts a new drain ...
        if not state.take_trigger(data_dir):  # ... unless it came just now: then this one takes it
            return 0
        stamp.write_text(f"{os.getpid()}\n")
    say(f"{to_iso(utc_now())} pid {os.getpid()}: stopped after {MAX_SECONDS:.0f}s; the next write or hook starts another")
    return 0
