"""The flat vector cache file: float32 rows a reader memory-maps, and the
memory ids they belong to, stamped with the vector set they copy.

    [fixed 4,096-byte header: magic line + JSON line, space-padded]
    [rows: (count + extra) x dim little-endian float32]
    [ids: ASCII, newline-separated]

Rows come before ids so that new rows are appended in place: a drain that
added 10 memories to a 100k store writes 10 rows (and the id list), not the
whole 100 MB file. The header is rewritten last, so a file caught half
appended (a crash, or a reader racing the writer) fails its stamp or its
checksums and is rebuilt; rows a reader has already mapped never move.
Checksums: CRC-32 of the id bytes (checked on every read, cheap) and of the
row bytes (chained as rows are appended; checked when `verify` is asked).
A full rewrite goes through a temporary file and a rename, as before.
"""

from __future__ import annotations

import json
import mmap
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"MEMMANVEC3\n"  # 3: rows before ids, appendable
HEAD = 4096

Stamp = tuple[int, ...]  # (dim, count, last_seq, rewritten_seq) of the vector set copied


Header = dict  # the parsed JSON header


def read_header(path: Path, fingerprint: str) -> Header | None:
    try:
        with path.open("rb") as f:
            head = f.read(HEAD)
    except OSError:
        return None
    if len(head) < HEAD or not head.startswith(MAGIC):
        return None
    try:
        header = json.loads(head[len(MAGIC) :].split(b"\n", 1)[0])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("fingerprint") != fingerprint:
        return None
    return header


def read(
    path: Path, fingerprint: str, current: Stamp, extra: int = 0, *, verify: bool = False
) -> tuple[list[str], np.ndarray] | None:
    """(ids, rows) if the file copies exactly `current` (and, with `verify`,
    its rows' checksum holds), else None."""
    header = read_header(path, fingerprint)
    if header is None or tuple(header.get("stamp", ())) != tuple(current):
        return None
    return _load(path, header, extra, verify=verify)


def _load(path: Path, header: Header, extra: int, *, verify: bool) -> tuple[list[str], np.ndarray] | None:
    import numpy as np

    try:
        dim, count = header["dim"], header["count"]
        if header["rows"] != count + extra:
            return None
        ids = _ids(path, header)
        if ids is None or len(ids) != count:
            return None
        if count + extra == 0:
            return ids, np.zeros((0, dim), dtype=np.float32)
        rows = np.memmap(path, dtype="<f4", mode="r", offset=HEAD, shape=(count + extra, dim))
        if verify and zlib.crc32(rows) != header["rows_crc32"]:
            return None
        return ids, rows
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, partial, damaged or foreign: rebuild it


def view(
    path: Path, fingerprint: str, current: Stamp, extra: int = 0, *, verify: bool = False
) -> tuple[list[str], memoryview] | None:
    """What `read` returns, without numpy: (ids, the rows as a read-only
    memory-mapped 2-D float32 memoryview of (count + extra) x dim), or None
    exactly when `read` would give None. A cold recall scans these rows with
    a small C kernel (memman/recall/scan.py) instead of importing numpy
    (~50 ms of a ~140 ms process at 10k memories)."""
    header = read_header(path, fingerprint)
    if header is None or tuple(header.get("stamp", ())) != tuple(current) or sys.byteorder != "little":
        return None  # the rows are little-endian; elsewhere `read` (numpy) converts them
    try:
        dim, count = header["dim"], header["count"]
        if header["rows"] != count + extra or not isinstance(dim, int) or dim <= 0:
            return None
        ids = _ids(path, header)
        if ids is None or len(ids) != count or count + extra == 0:
            return None
        size = (count + extra) * dim * 4
        with path.open("rb") as f:
            mapped = mmap.mmap(f.fileno(), HEAD + size, access=mmap.ACCESS_READ)
        rows = memoryview(mapped)[HEAD : HEAD + size]
        if verify and zlib.crc32(rows) != header["rows_crc32"]:
            return None
        return ids, rows.cast("f", (count + extra, dim))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, partial, damaged or foreign: `read` decides what to rebuild


def _ids(path: Path, header: Header) -> list[str] | None:
    with path.open("rb") as f:
        f.seek(header["ids_offset"])
        raw = f.read(header["ids_bytes"])
    if len(raw) != header["ids_bytes"] or zlib.crc32(raw) != header["ids_crc32"]:
        return None
    try:
        return raw.decode("ascii").split("\n") if header["count"] else []
    except UnicodeDecodeError:
        return None


def _encode_header(header: dict) -> bytes:  # type: ignore[type-arg]
    head = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    if len(head) > HEAD:
        raise ValueError("flat cache header too long")
    return head.ljust(HEAD, b" ")


def write(path: Path, fingerprint: str, current: Stamp, ids: list[str], rows: np.ndarray, *, max_id: int = 0) -> None:
    """Write the whole file (temporary file, then rename). Best effort: a
    read-only store still answers, just without the cache."""
    id_bytes = "\n".join(ids).encode("ascii")
    data = rows.astype("<f4", copy=False).tobytes()
    header = {
        "fingerprint": fingerprint, "stamp": list(current), "dim": int(current[0]), "count": len(ids),
        "rows": int(rows.shape[0]) if rows.ndim == 2 else 0, "max_id": max_id, "ids_offset": HEAD + len(data),
        "ids_bytes": len(id_bytes), "ids_crc32": zlib.crc32(id_bytes), "rows_crc32": zlib.crc32(data),
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(_encode_header(header))
            f.write(data)
            f.write(id_bytes)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


def append(
    path: Path, fingerprint: str, current: Stamp, new_ids: list[str], new_rows: np.ndarray, *, max_id: int,
    verify: bool = False,
) -> tuple[list[str], np.ndarray] | None:
    """Append rows to a file that copies an earlier state of the same set
    (same dim and rewritten_seq, no extra rows, ids intact): the new
    (ids, rows), or None when the file cannot be appended to (the caller
    rewrites it whole)."""
    header = read_header(path, fingerprint)
    if header is None:
        return None
    old = header.get("stamp", [])
    if len(old) != 4 or old[0] != current[0] or old[3] != current[3] or header.get("rows") != header.get("count"):
        return None
    if header["count"] + len(new_ids) != current[1]:
        return None
    ids = _ids(path, header)
    if ids is None:
        return None
    data = new_rows.astype("<f4", copy=False).tobytes()
    if verify and _load(path, header, 0, verify=True) is None:
        return None
    ids += new_ids
    id_bytes = "\n".join(ids).encode("ascii")
    offset = header["ids_offset"]
    header.update(
        stamp=list(current), count=len(ids), rows=len(ids), max_id=max_id, ids_offset=offset + len(data),
        ids_bytes=len(id_bytes), ids_crc32=zlib.crc32(id_bytes), rows_crc32=zlib.crc32(data, header["rows_crc32"]),
    )
    try:
        with path.open("r+b") as f:
            f.seek(offset)
            f.write(data)
            f.write(id_bytes)
            f.truncate()
            f.seek(0)
            f.write(_encode_header(header))
    except OSError:
        return None
    return _load(path, header, 0, verify=False)
