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
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from events.errors import StoreLocked

LOCK_FILE = "drain.lock"


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


@contextmanager
def store_lock(data_dir: Path, store_dir: Path) -> Iterator[None]:
    """One store, exclusively; the data dir shared (see the module doc)."""
    outer = _open(data_dir)
    try:
        try:
            fcntl.flock(outer, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreLocked(f"another drain is running in {data_dir} (pid {_holder(outer)}); try again later") from None
        inner = _open(store_dir)
        try:
            try:
                fcntl.flock(inner, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreLocked(
                    f"another drain is running on store {store_dir.name!r} (pid {_holder(inner)}); try again later"
                ) from None
            os.ftruncate(inner, 0)
            os.pwrite(inner, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(inner)
    finally:
        os.close(outer)
