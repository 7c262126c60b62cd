"""The warm server: answers hot-path invocations for one data dir.

One connection at a time, in order: each request swaps in the client's argv,
stdin, environment and working directory, runs `memman.entry.run` (the very
code a cold process runs), captures stdout, stderr and the exit code, and puts
everything back. Serial execution is what makes the swap safe; a request costs
milliseconds, and a client that waits too long answers in-process instead.

It exits when idle for `idle_s`, when its socket file is replaced or removed,
when asked (`memman server stop`), and after telling a client of another
release or install (or once its own source files changed) to run in-process.
"""

from __future__ import annotations

import fcntl
import io
import os
import socket
import struct
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from memman.server import wire
from memman.server.client import identity
from projections.pool import StorePool

DEFAULT_IDLE_S = 900.0
_PACKAGES = ("memman", "events", "projections", "workers")
_PRELOAD = ("memman.cli", "memman.service", "memman.recall", "memman.install.hookrun", "numpy")


class Server:
    def __init__(self, data_dir: str, idle_s: float) -> None:
        self.data_dir = data_dir
        self.idle_s = idle_s
        self.sock_path, self.lock_path, self.log_path = wire.paths(data_dir, os.environ)
        self.identity = identity()
        self.stamp: dict[str, tuple[int, int]] = {}
        self.modules = 0  # len(sys.modules) when `stamp` was taken
        self.started = time.time()
        self.served = 0
        self.stopping = False
        self.pool = StorePool()  # store handles and derived state kept across requests

    def run(self) -> int:
        if not wire.ensure_run_dir(os.environ):
            _log("run dir is missing or not owner-only; not serving")
            return 1
        lock = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another server for this data dir won the race
        listener = self._listen()
        _preload()
        self.stamp, self.modules = _source_stamp({}), len(sys.modules)
        _log(f"serving {self.data_dir} on {self.sock_path} (pid {os.getpid()})")
        try:
            self._loop(listener)
        finally:
            self.pool.close()
            self._unlink_if_ours(listener)
            listener.close()
            os.close(lock)
        _log(f"stopped after {self.served} requests")
        return 0

    def _listen(self) -> socket.socket:
        try:
            os.unlink(self.sock_path)  # stale: we hold the lock, so no live server owns it
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.sock_path)
        finally:
            os.umask(old)
        os.chmod(self.sock_path, 0o600)
        listener.listen(64)
        listener.settimeout(1.0)
        self.inode = os.stat(self.sock_path).st_ino
        return listener

    def _loop(self, listener: socket.socket) -> None:
        last = time.monotonic()
        while not self.stopping:
            if time.monotonic() - last > self.idle_s or not self._socket_is_ours():
                return
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                if self._handle(conn):  # `server status` does not keep an idle server alive
                    last = time.monotonic()

    def _handle(self, conn: socket.socket) -> bool:
        """Answer one connection; True when it ran a command."""
        conn.settimeout(30.0)
        try:
            if _peer_uid(conn) != os.getuid():
                return False
            header = wire.decode(wire.recv(conn))
            stdin = wire.recv(conn)
            if "op" in header:
                wire.send(conn, wire.encode(self._control(str(header["op"]))))
                return False
            status = self._admit(header)
            if status != "ok":
                wire.send(conn, wire.encode({"status": status}))
                self.stopping = self.stopping or status == "mismatch"
                return False
            request = header.get("request")
            code, out, err = execute(
                header["argv"], stdin, header["env"], header["cwd"], self.pool,  # type: ignore[arg-type]
                request=request if isinstance(request, str) else None,
            )  # fmt: skip
            self.served += 1
            if len(sys.modules) != self.modules:  # modules the request loaded lazily join the watch
                self.stamp, self.modules = _source_stamp(self.stamp), len(sys.modules)
            wire.send(conn, wire.encode({"status": "ok", "code": code}), out, err)
            return True
        except (OSError, ValueError, KeyError, TypeError, wire.WireError) as exc:
            _log(f"dropped a request: {type(exc).__name__}: {exc}")
            return False

    def _admit(self, header: dict[str, object]) -> str:
        if header.get("protocol") != wire.PROTOCOL or (header.get("version"), header.get("package")) != self.identity:
            return "mismatch"
        if _changed(self.stamp):
            return "mismatch"  # upgraded or edited under us: the next server loads the new code
        if header.get("data_dir") != self.data_dir or not os.path.isdir(str(header.get("cwd"))):
            return "refused"
        return "ok"

    def _control(self, op: str) -> dict[str, object]:
        if op == "stop":
            self.stopping = True
        return {
            "status": "ok",
            "pid": os.getpid(),
            "data_dir": self.data_dir,
            "socket": self.sock_path,
            "version": self.identity[0],
            "uptime_s": round(time.time() - self.started, 1),
            "served": self.served,
            "idle_timeout_s": self.idle_s,
            "rss_mb": _rss_mb(),
            "stopping": self.stopping,
            "stores_kept": self.pool.kept,
            "stores_opened": self.pool.opened,
            "stores_reused": self.pool.reused,
        }

    def _socket_is_ours(self) -> bool:
        try:
            return os.stat(self.sock_path).st_ino == self.inode and os.path.isdir(self.data_dir)
        except OSError:
            return False

    def _unlink_if_ours(self, listener: socket.socket) -> None:
        if self._socket_is_ours():
            try:
                os.unlink(self.sock_path)
            except OSError:
                pass


def execute(
    argv: list[str], stdin: bytes, env: dict[str, str], cwd: str, pool: StorePool | None = None,
    *, request: str | None = None,
) -> tuple[int, bytes, bytes]:
    """Run one invocation as a cold process would, in this process; with
    `pool`, on store handles kept from earlier invocations (projections/pool.py);
    `request` is the client's retry key for a write (memman/intake/retry.py)."""
    from memman.entry import run
    from memman.intake.retry import keyed

    out, err = io.BytesIO(), io.BytesIO()
    lending = (StorePool() if pool is None else pool).lending()
    with _swapped(argv, stdin, env, cwd, out, err), lending, keyed(request):
        try:
            code = run(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                sys.stderr.write(exc.code + "\n")
        except Exception:  # MEMMAN_DEBUG=1 re-raises; a cold process would print the traceback
            traceback.print_exc()
            code = 1
    return code, out.getvalue(), err.getvalue()


@contextmanager
def _swapped(argv: list[str], stdin: bytes, env: dict[str, str], cwd: str, out: io.BytesIO, err: io.BytesIO) -> Iterator[None]:
    saved = (sys.argv, sys.stdin, sys.stdout, sys.stderr, dict(os.environ), os.getcwd())
    sys.argv = ["memman", *argv]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    _set_environ(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        for stream in (sys.stdin, sys.stdout, sys.stderr):
            try:
                stream.flush()
                stream.detach()  # leave the BytesIO open for getvalue()
            except ValueError:  # closed by the command (a broken pipe path)
                pass
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved[:4]
        _set_environ(saved[4])
        os.chdir(saved[5])


def _set_environ(wanted: dict[str, str]) -> None:
    """Make os.environ equal `wanted`, touching only what differs (a client's
    environment is usually the server's: clearing and refilling ~80 variables
    twice per request cost more than the rest of the swap)."""
    for name in [n for n in os.environ if n not in wanted]:
        del os.environ[name]
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _source_stamp(known: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """(mtime, size) by path of every memman source file this process has
    loaded; files already known keep the stamp they were loaded with."""
    stamp = dict(known)
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path or path in stamp or module.__name__.split(".", 1)[0] not in _PACKAGES:
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        stamp[path] = (st.st_mtime_ns, st.st_size)
    return stamp


def _changed(stamp: dict[str, tuple[int, int]]) -> bool:
    for path, (mtime, size) in stamp.items():
        try:
            st = os.stat(path)
        except OSError:
            return True
        if (st.st_mtime_ns, st.st_size) != (mtime, size):
            return True
    return False


def _preload() -> None:
    """Import what requests need, then move everything alive into the
    collector's permanent generation: the modules, numpy and the vocabulary
    are never garbage, and a full collection walking them mid-request costs
    milliseconds (gc.freeze, as long-lived CPython servers do)."""
    import gc
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()


def _rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} memman server: {message}\n")
    sys.stderr.flush()
