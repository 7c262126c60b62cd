"""The circuit breaker: after `FAILURES` failed attempts in a row against one
provider endpoint, its calls fail at once (CircuitOpen) for `COOL_DOWN_S`
instead of each waiting out its retries and Retry-After.

Shared across processes. A burst of automatic drains and scheduler passes
must not each rediscover that a provider is rate-limiting, so the state of
one endpoint lives in a small file under the data dir:

    <data_dir>/breakers/<name>-<digest of the base URL>.json
        {"endpoint": "<name> at <host/path>", "failures": 3, "open_until": 1764491234.5}

- `open_until` is wall-clock (time.time()): monotonic clocks are not shared
  between processes. A clock stepped backwards can only shorten a cool-down.
- Updates are read-modify-write under an exclusive flock of a sibling
  `.lock` file, and the new state replaces the old with os.replace, so a
  reader (which takes no lock) sees the old or the new state, never half of
  one. A killed writer leaves at worst a stray temp file; the kernel drops
  its lock.
- Owner-only: the directory is 0700 and the files 0600. The state holds no
  key, no header and no query string.
- A state file that is missing, unreadable or not what we wrote counts as a
  closed circuit (a breaker must never be the reason work stops), and an
  unwritable directory (a read-only mount) falls back to this process's own
  count.

Without a directory (`path=None`: tests, one-off clients) the breaker keeps
its state in the process, as before.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from pathlib import Path

FAILURES = 4
COOL_DOWN_S = 60.0
DIRECTORY = "breakers"


class State:
    __slots__ = ("failures", "open_until")

    def __init__(self, failures: int = 0, open_until: float = 0.0) -> None:
        self.failures = failures
        self.open_until = open_until


def state_path(directory: Path, name: str, base_url: str) -> Path:
    digest = hashlib.blake2b(base_url.rstrip("/").encode(), digest_size=6).hexdigest()
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:32]
    return directory / f"{safe}-{digest}.json"


class Breaker:
    """One endpoint's breaker; `directory` shares it with every process of the data dir."""

    def __init__(self, name: str, base_url: str, directory: Path | None = None, endpoint: str = "") -> None:
        self.endpoint = endpoint or name
        self._path = None if directory is None else state_path(directory, name, base_url)
        self._local = State()

    @property
    def path(self) -> Path | None:
        return self._path

    def open_for(self) -> float:
        """Seconds the circuit stays open (0 when closed)."""
        state = self._read()
        return max(0.0, state.open_until - time.time())

    def succeeded(self) -> None:
        state = self._read()  # no lock and no write while the circuit is clean (the common case)
        if state.failures or state.open_until:
            self._update(lambda s: State(0, 0.0) if s.failures or s.open_until else None)

    def failed(self) -> bool:
        """Count a failed attempt; True when that opened the circuit."""
        opened = False

        def step(s: State) -> State | None:
            nonlocal opened
            if s.open_until > time.time():  # another process opened it meanwhile
                opened = True
                return None
            failures = s.failures + 1
            if failures >= FAILURES:
                opened = True
                return State(0, time.time() + COOL_DOWN_S)
            return State(failures, s.open_until)

        self._update(step)
        return opened

    # ------------------------------------------------------------ the file

    def _read(self) -> State:
        if self._path is None:
            return self._local
        try:
            data = json.loads(self._path.read_bytes())
            return State(int(data["failures"]), float(data["open_until"]))
        except FileNotFoundError:
            return State()
        except (OSError, ValueError, KeyError, TypeError):  # damaged or foreign: closed, and rewritten next time
            return State()

    def _update(self, step) -> None:  # type: ignore[no-untyped-def]
        if self._path is not None:
            try:
                self._update_file(self._path, step)
                return
            except OSError:  # a read-only mount, a full disk: count in this process
                self._path = None
        new = step(self._local)
        if new is not None:
            self._local = new

    def _update_file(self, path: Path, step) -> None:  # type: ignore[no-untyped-def]
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            new = step(self._read())
            if new is None:
                return
            body = json.dumps({"endpoint": self.endpoint, "failures": new.failures, "open_until": new.open_until})
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, body.encode())
            finally:
                os.close(fd)
            os.replace(tmp, path)
        finally:
            os.close(lock)
