"""What the warm client and server share. Standard library only, no pathlib:
the client imports this before anything else on every hot-path call.

Frames: a 4-byte big-endian length, then that many bytes. A request is a
header frame and a stdin frame; a reply is a header frame, a stdout frame and
a stderr frame. Headers are dicts of str, int, list and dict in `marshal`'s
format: marshal is built into the interpreter, so the client pays no import
for it (json costs ~1 ms and pulls in re); both ends are the same install
(the server checks), hence the same interpreter, and only the owner's
processes can connect.
"""

from __future__ import annotations

import marshal
import os
import zlib

TYPE_CHECKING = False  # type checkers read this as typing.TYPE_CHECKING; importing typing costs ~5 ms here
if TYPE_CHECKING:  # socket loads only when a request is made (memman.server.client)
    import socket

PROTOCOL = 2  # 2: marshal headers, remember served with a retry key
MAX_FRAME = 64 * 1024 * 1024
# recall and hook are read-mostly: a re-run after a lost reply is harmless.
# remember carries a key the client chose (`request` in the header), so its
# in-process retry after a lost reply appends nothing twice (memman/intake/retry.py).
SERVED = frozenset({"recall", "hook", "remember"})
_GLOBAL_VALUES = ("--data-dir", "--store")
_GLOBAL_FLAGS = ("-v", "--verbose")


class WireError(Exception):
    """The peer went away or sent something that is not a frame."""


def disabled(environ: dict[str, str] | os._Environ[str]) -> bool:
    return environ.get("MEMMAN_SERVER", "auto").lower() in ("0", "off", "no", "false")


def served_command(argv: list[str]) -> str | None:
    """The command word when argv is one the server answers, else None.
    Global options may come first, as the CLI accepts them."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name, eq, _ = argv[i].partition("=")
        if name in _GLOBAL_VALUES:
            i += 1 if eq else 2
        elif name in _GLOBAL_FLAGS and not eq:
            i += 1
        else:
            return None
    if i >= len(argv) or argv[i] not in SERVED:
        return None
    if "-" in argv[i + 1 :] or "--help" in argv or "-h" in argv:
        return None  # stdin-as-text and help stay in-process
    return argv[i]


def data_dir_of(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> str:
    """The data dir as `memman.stores.resolve_data_dir` resolves it."""
    raw = None
    for i, arg in enumerate(argv):
        name, eq, inline = arg.partition("=")
        if name == "--data-dir":
            raw = inline if eq else (argv[i + 1] if i + 1 < len(argv) else None)
            break
        if not arg.startswith("-"):
            break
    raw = raw or environ.get("MEMMAN_DATA_DIR") or "~/.memman"
    return os.path.realpath(os.path.expanduser(raw))


def run_dir(environ: dict[str, str] | os._Environ[str]) -> str:
    """Owner-only directory for sockets, locks and logs: $XDG_RUNTIME_DIR/memman,
    else /tmp/memman-UID (socket paths must stay under ~100 bytes)."""
    base = environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isdir(base):
        return os.path.join(base, "memman")
    return os.path.join("/tmp", f"memman-{os.getuid()}")


def socket_name(data_dir: str) -> str:
    raw = data_dir.encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}"


def paths(data_dir: str, environ: dict[str, str] | os._Environ[str]) -> tuple[str, str, str]:
    """(socket, lock file, log file) for one data dir."""
    base = os.path.join(run_dir(environ), socket_name(data_dir))
    return base + ".sock", base + ".lock", base + ".log"


def private_dir_ok(path: str) -> bool:
    """True when `path` is a directory we own that nobody else can enter."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def ensure_run_dir(environ: dict[str, str] | os._Environ[str]) -> str | None:
    path = run_dir(environ)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return path if private_dir_ok(path) else None


def encode(header: dict[str, object]) -> bytes:
    """A header frame's bytes; ValueError for what marshal cannot carry."""
    return marshal.dumps(header)


def decode(raw: bytes) -> dict[str, object]:
    """A header frame's dict; WireError for anything else."""
    try:
        value = marshal.loads(raw)
    except (ValueError, EOFError, TypeError) as exc:
        raise WireError(f"not a header: {exc}") from None
    if not isinstance(value, dict):
        raise WireError("not a header: not a dict")
    return value


def send(sock: socket.socket, *frames: bytes) -> None:
    sock.sendall(b"".join(len(f).to_bytes(4, "big") + f for f in frames))


def recv(sock: socket.socket) -> bytes:
    size = int.from_bytes(_exactly(sock, 4), "big")
    if size > MAX_FRAME:
        raise WireError(f"frame of {size} bytes")
    return _exactly(sock, size)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise WireError("connection closed mid-frame")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
