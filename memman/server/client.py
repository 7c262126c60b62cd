"""Forward one hot-path invocation to the warm server, or say why not.

Standard library only, and nothing that is not needed: this runs at the start
of every `memman` process, before the decision to import anything heavy. It
speaks through `_socket` (the C module: `socket` adds ~3 ms of imports, enum
and selectors among them) and marshal (built in; json would add ~1 ms and re).
`forward` never raises for a server problem: a missing, stale, foreign, busy
or crashing server is an `Attempt` without a reply, and the caller runs the
command in-process exactly as it would without a server.

A `remember` carries a retry key the client chose (`Attempt.request`): the
server's append records it in the log, and the in-process retry after a lost
reply passes the same key, so the memory is appended once whichever of the
two got to the log first (memman/intake/retry.py).
"""

from __future__ import annotations

import _socket
import os
import sys

from memman.server import wire

DEFAULT_TIMEOUT_S = 10.0


class Attempt:
    """What forwarding gave: a reply (code, stdout, stderr), or none; the
    stdin bytes already consumed (to hand to the in-process path); and
    whether a server should be started for the next call."""

    __slots__ = ("reply", "stdin", "spawn", "data_dir", "request")

    def __init__(
        self,
        reply: tuple[int, bytes, bytes] | None = None,
        stdin: bytes | None = None,
        spawn: bool = False,
        data_dir: str = "",
        request: str | None = None,
    ) -> None:
        self.reply = reply
        self.stdin = stdin
        self.spawn = spawn
        self.data_dir = data_dir
        self.request = request  # a write's retry key: the in-process run must pass it on


def identity() -> tuple[str, str]:
    """(version, package dir): a server of another install or release must not answer."""
    from memman import __version__

    return __version__, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def forward(argv: list[str]) -> Attempt:
    if wire.disabled(os.environ):
        return Attempt()
    command = wire.served_command(argv)
    if command is None:
        return Attempt()
    data_dir = wire.data_dir_of(argv, os.environ)
    sock_path = wire.paths(data_dir, os.environ)[0]
    stdin = sys.stdin.buffer.read() if command == "hook" else b""
    attempt = Attempt(stdin=stdin if command == "hook" else None, data_dir=data_dir,
                      request=os.urandom(16).hex() if command == "remember" else None)  # fmt: skip
    if not wire.private_dir_ok(os.path.dirname(sock_path)):
        attempt.spawn = True
        return attempt
    try:
        cwd = os.getcwd()
        raw = wire.encode(_header(argv, data_dir, cwd, attempt.request))
    except (OSError, ValueError):
        return attempt
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(_timeout())
    try:
        try:
            sock.connect(sock_path)
        except (FileNotFoundError, ConnectionRefusedError):
            attempt.spawn = True  # no server, or a stale socket file left by a dead one
            return attempt
        wire.send(sock, raw, stdin)
        answer = wire.decode(wire.recv(sock))
        if answer.get("status") != "ok":
            attempt.spawn = answer.get("status") == "mismatch"  # the old one exits; start the right one
            return attempt
        out, err = wire.recv(sock), wire.recv(sock)
        attempt.reply = (int(answer["code"]), out, err)  # type: ignore[call-overload]
        return attempt
    except (OSError, ValueError, KeyError, TypeError, wire.WireError):
        return attempt  # busy (timeout), killed mid-request, or garbage: answer in-process
    finally:
        sock.close()


def _header(argv: list[str], data_dir: str, cwd: str, request: str | None) -> dict[str, object]:
    version, package = identity()
    header: dict[str, object] = {
        "protocol": wire.PROTOCOL,
        "version": version,
        "package": package,
        "data_dir": data_dir,
        "argv": argv,
        "cwd": cwd,
        "env": dict(os.environ),
    }
    if request is not None:
        header["request"] = request
    return header


def _timeout() -> float:
    try:
        value = float(os.environ.get("MEMMAN_SERVER_TIMEOUT_S", DEFAULT_TIMEOUT_S))
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if 0 < value < 3600 else DEFAULT_TIMEOUT_S


def control(data_dir: str, op: str) -> dict[str, object] | None:
    """Ask the server of `data_dir` for its state ("status") or to exit
    ("stop"); None when no server answers."""
    sock_path = wire.paths(data_dir, os.environ)[0]
    if not wire.private_dir_ok(os.path.dirname(sock_path)):
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(_timeout())
    try:
        sock.connect(sock_path)
        wire.send(sock, wire.encode({"op": op}), b"")
        return wire.decode(wire.recv(sock))
    except (OSError, ValueError, wire.WireError):
        return None
    finally:
        sock.close()
