"""Drain locks: advisory lock files, released by the kernel if the process
dies, so a killed drain never leaves a stale lock.

Two levels, so a slow store (a provider rate-limiting its embeddings) never
holds up the drains of the others:

- `store_lock(data_dir, store_dir)`: one drain per *store*. It takes the data
  dir's lock shared and the store's own `drain.lock` exclusive, so drains of
  different stores run side by side.
- `drain_lock(data_dir)`: the whole data dir, exclusive, for work that moves
  stores around (re-derivation cut-over, shadow stores): it waits for no one
  and excludes every store drain.

`store_lock(..., wait_s=N)` waits up to N seconds for a running drain (the
automatic one, a timer's) to let go, polling every `POLL_S`: flock has no
timeout, and a blocking flock could not be bounded. `on_wait` is told once
who holds the lock, so a person waiting sees why.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from events.errors import StoreLocked

LOCK_FILE = "drain.lock"
POLL_S = 0.05


def _open(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    return os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)


def _holder(fd: int) -> str:
    return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"


@contextmanager
def drain_lock(data_dir: Path) -> Iterator[None]:
    """The whole data dir, exclusively."""
    fd = _open(data_dir)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreLocked(f"another drain is running in {data_dir} (pid {_holder(fd)}); try again later") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _take(fd: int, mode: int, deadline: float, on_wait: Callable[[str], None] | None) -> bool:
    """flock `fd` in `mode`, polling until `deadline` (time.monotonic); False if still held then."""
    told = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            if on_wait is not None and not told:
                on_wait(_holder(fd))
                told = True
            time.sleep(POLL_S)


def _refusal(where: str, fd: int, wait_s: float) -> StoreLocked:
    if wait_s <= 0:
        return StoreLocked(f"another drain is running {where} (pid {_holder(fd)}); try again later")
    return StoreLocked(
        f"another drain is still running {where} (pid {_holder(fd)}) after waiting {wait_s:g} s;"
        " try again later or wait longer (--wait SECONDS)"
    )


@contextmanager
def store_lock(
    data_dir: Path,
    store_dir: Path,
    *,
    wait_s: float = 0.0,
    until: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """One store, exclusively; the data dir shared (see the module doc).
    Waits up to `wait_s` seconds for another drain to finish (0: never), or
    until the time.monotonic() `until` when several stores share one wait."""
    deadline = time.monotonic() + wait_s if until is None else until
    outer = _open(data_dir)
    try:
        if not _take(outer, fcntl.LOCK_SH, deadline, on_wait):
            raise _refusal(f"in {data_dir}", outer, wait_s)
        inner = _open(store_dir)
        try:
            if not _take(inner, fcntl.LOCK_EX, deadline, on_wait):
                raise _refusal(f"on store {store_dir.name!r}", inner, wait_s)
            os.ftruncate(inner, 0)
            os.pwrite(inner, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(inner)
    finally:
        os.close(outer)
