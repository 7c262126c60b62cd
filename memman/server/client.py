"""Forward one hot-path invocation to the warm server, or say why not.

Standard library only, and nothing that is not needed: this runs at the start
of every `memman` process, before the decision to import anything heavy.
`forward` never raises for a server problem: a missing, stale, foreign, busy
or crashing server is an `Attempt` without a reply, and the caller runs the
command in-process exactly as it would without a server.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from memman.server import wire

DEFAULT_TIMEOUT_S = 10.0


class Attempt:
    """What forwarding gave: a reply (code, stdout, stderr), or none; the
    stdin bytes already consumed (to hand to the in-process path); and
    whether a server should be started for the next call."""

    __slots__ = ("reply", "stdin", "spawn", "data_dir")

    def __init__(
        self,
        reply: tuple[int, bytes, bytes] | None = None,
        stdin: bytes | None = None,
        spawn: bool = False,
        data_dir: str = "",
    ) -> None:
        self.reply = reply
        self.stdin = stdin
        self.spawn = spawn
        self.data_dir = data_dir


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
    attempt = Attempt(stdin=stdin if command == "hook" else None, data_dir=data_dir)
    if not wire.private_dir_ok(os.path.dirname(sock_path)):
        attempt.spawn = True
        return attempt
    version, package = identity()
    try:
        cwd = os.getcwd()
    except OSError:
        return attempt
    header = {
        "protocol": wire.PROTOCOL,
        "version": version,
        "package": package,
        "data_dir": data_dir,
        "argv": argv,
        "cwd": cwd,
        "env": dict(os.environ),
    }
    try:
        raw = json.dumps(header).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        return attempt
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_timeout())
    try:
        try:
            sock.connect(sock_path)
        except (FileNotFoundError, ConnectionRefusedError):
            attempt.spawn = True  # no server, or a stale socket file left by a dead one
            return attempt
        wire.send(sock, raw, stdin)
        answer = json.loads(wire.recv(sock))
        if answer.get("status") != "ok":
            attempt.spawn = answer.get("status") == "mismatch"  # the old one exits; start the right one
            return attempt
        out, err = wire.recv(sock), wire.recv(sock)
        attempt.reply = (int(answer["code"]), out, err)
        return attempt
    except (OSError, ValueError, KeyError, TypeError, wire.WireError):
        return attempt  # busy (timeout), killed mid-request, or garbage: answer in-process
    finally:
        sock.close()


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
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_timeout())
    try:
        sock.connect(sock_path)
        wire.send(sock, json.dumps({"op": op}).encode(), b"")
        answer = json.loads(wire.recv(sock))
    except (OSError, ValueError, wire.WireError):
        return None
    finally:
        sock.close()
    return answer if isinstance(answer, dict) else None
