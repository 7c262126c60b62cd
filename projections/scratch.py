"""The scratch copy a read-only store is read through, reused while the
store does not change.

A store memman cannot write (a read-only bind mount, NanoClaw's shared
global store) is read by copying its files somewhere writable and catching
the projections up there. Copying every time made every recall pay for the
whole store (tools/bench_readonly.py; docs/reliability.md). So the copy is
kept and reused:

    $TMPDIR/memman-readonly-<uid>/            0700, ours, else no reuse
        <store digest>-<state digest>/        one copy per state of the store
            .ready    written last: the copy is complete
            .inuse    readers hold a shared flock on it while they read

- The state digest covers the size and mtime of the log (log.db and its
  WAL), the only files whose change matters: projections are a function of
  the log, so a host that only catches its projections up (any read there)
  changes nothing here. Until the log changes every reader reuses the copy,
  already caught up by the first.
- When the log has changed, the new copy takes a fresh copy of the log only,
  and moves the previous copy's projections, vectors and flat caches into
  it (a rename, no bytes copied) when that copy is idle and the new log
  continues the old one (the event at the old head has the same id); they
  catch up from there, purge tombstones included. Otherwise (a reader still
  holds it, the log was replaced or rewound) every file is copied from the store.
- Older copies of the same store are removed by the reader that makes a new
  one, unless a reader still holds them (it takes the `.inuse` lock
  exclusively, without waiting, before renaming the copy away).
- The copy holds memory texts, like the store: owner-only, under the
  caller's temp dir. A purge on the host cannot reach it; the next read
  after the purge (the store changed) replaces it.
- Where the shared directory is not ours and private, the copy is a fresh
  temporary directory per process, removed at close (the old behaviour).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

READY = ".ready"
IN_USE = ".inuse"


LOG_FILES = ("log.db", "log.db-wal")


def copied_files(directory: Path) -> list[Path]:
    """What a scratch copy holds; `backend.dsn` too, so a store whose log is in
    PostgreSQL is read there as a replica that catches up from the server
    (its state digest then never changes: the log is not a file here)."""
    return sorted(
        p for p in directory.iterdir()
        if p.is_file() and (p.suffix in (".db", ".f32") or p.name.endswith("-wal") or p.name == "backend.dsn")
    )


def _state(directory: Path) -> str:
    h = hashlib.blake2b(str(directory.resolve()).encode(), digest_size=10)
    for name in LOG_FILES:
        try:
            st = (directory / name).stat()
        except FileNotFoundError:
            continue
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _store_key(directory: Path) -> str:
    return hashlib.blake2b(str(directory.resolve()).encode(), digest_size=6).hexdigest()


def _private_base() -> Path | None:
    base = Path(tempfile.gettempdir()) / f"memman-readonly-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(base)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return base


class Scratch:
    """A held scratch copy: `directory` to read, `close()` when done."""

    def __init__(self, directory: Path, lock_fd: int | None, owned: bool) -> None:
        self.directory = directory
        self._fd = lock_fd
        self._owned = owned  # a private one-off copy: removed at close

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._owned:
            shutil.rmtree(self.directory, ignore_errors=True)


def _copy(source: Path, target: Path) -> None:
    for path in copied_files(source):
        shutil.copy2(path, target / path.name)


def open_scratch(source: Path) -> Scratch:
    """A scratch copy of the store in `source`, reused when one of its
    current state exists (see the module doc)."""
    base = _private_base()
    if base is None:
        one_off = Path(tempfile.mkdtemp(prefix="memman-readonly-"))
        _copy(source, one_off)
        return Scratch(one_off, None, owned=True)
    prefix = _store_key(source)
    for _ in range(3):  # a copy pruned between finding and locking it: look again
        final = base / f"{prefix}-{_state(source)}"
        if not (final / READY).exists():
            _build(source, base, final, prefix)
        held = _hold(final)
        if held is not None:
            _prune(base, prefix, keep=final)
            return Scratch(final, held, owned=False)
    one_off = Path(tempfile.mkdtemp(prefix="memman-readonly-"))
    _copy(source, one_off)
    return Scratch(one_off, None, owned=True)


def _build(source: Path, base: Path, final: Path, prefix: str) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=base))
    try:
        for name in LOG_FILES:
            if (source / name).exists():
                shutil.copy2(source / name, staging / name)
        if not _carry_over(base, prefix, staging):
            for path in copied_files(source):
                if path.name not in LOG_FILES:
                    shutil.copy2(path, staging / path.name)
        (staging / IN_USE).touch(mode=0o600)
        (staging / READY).touch(mode=0o600)
        os.rename(staging, final)
    except OSError:  # another reader made it first (rename onto a non-empty dir), or a full temp dir
        shutil.rmtree(staging, ignore_errors=True)
        if not (final / READY).exists():
            raise


def _carry_over(base: Path, prefix: str, staging: Path) -> bool:
    """Move the derived files of the newest idle older copy into `staging`
    when the log in `staging` continues that copy's log; True when done."""
    older = sorted((p for p in base.glob(f"{prefix}-*") if (p / READY).exists()), key=lambda p: p.stat().st_mtime)
    for old in reversed(older):
        fd = _exclusive(old)
        if fd is None:
            continue  # a reader holds it: its files may be mid-write
        try:
            if not _log_continues(old / "log.db", staging / "log.db"):
                return False
            for path in copied_files(old):
                if path.name not in LOG_FILES:
                    os.replace(path, staging / path.name)
            return True
        finally:
            os.close(fd)
    return False


def _log_continues(old: Path, new: Path) -> bool:
    """Whether `new` holds every event `old` holds (same id at old's head)."""
    import apsw

    try:
        a = apsw.Connection(str(old), flags=apsw.SQLITE_OPEN_READONLY)
        b = apsw.Connection(str(new), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            head = a.execute("SELECT seq, id FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            if head is None:
                return True
            row = b.execute("SELECT id FROM events WHERE seq = ?", (head[0],)).fetchone()
            return row is not None and row[0] == head[1]
        finally:
            a.close()
            b.close()
    except apsw.Error:
        return False


def _exclusive(old: Path) -> int | None:
    try:
        fd = os.open(old / IN_USE, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _hold(final: Path) -> int | None:
    try:
        fd = os.open(final / IN_USE, os.O_RDONLY)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    if not (final / READY).exists():  # pruned while we waited for the lock
        os.close(fd)
        return None
    return fd


def _prune(base: Path, prefix: str, keep: Path) -> None:
    for old in base.glob(f"{prefix}-*"):
        if old == keep:
            continue
        try:
            fd = os.open(old / IN_USE, os.O_RDONLY)
        except OSError:
            shutil.rmtree(old, ignore_errors=True)  # half-made or foreign: nobody can hold it
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a reader still uses it; the next new copy prunes it
        try:
            (old / READY).unlink(missing_ok=True)  # readers that locked after us see it gone
            trash = old.with_name(f".trash-{old.name}")
            os.rename(old, trash)
            shutil.rmtree(trash, ignore_errors=True)
        except OSError:
            pass
        finally:
            os.close(fd)
