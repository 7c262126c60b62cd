"""The flat vector cache file: the stored vectors as rows a reader
memory-maps (float32, or float16 in a large store: below), the memory ids
they belong to and each row's index key, and the rows' column sums,
stamped with the vector set they copy.

    [header: magic line + JSON line, space-padded to a multiple of 4,096 bytes]
    [rows: count x dim little-endian float32, or float16 (the header's "dtype")]
    [keys: count x little-endian uint64, each row's HNSW key (projections/vectorkeys.py)]
    [ids: ASCII, newline-separated]

Rows come before keys and ids so that new rows are appended in place: a
drain that added 10 memories to a 100k store writes 10 rows (and the key
and id lists), not the whole 100 MB file. The keys are there so that a
reader of the drain's index (memman/recall/ann.py) does not hash every id
(~1 s at 1M memories) each time it loads; like the ids, they are read with
`pread`, not mapped, and their checksum is checked on every read. The header carries the sum of every row (float64,
base64, updated as rows are appended), from which readers take the store's
common component without reading the rows (projections/vectors.py
`mean_of`). The header is rewritten last, so a file caught half appended (a
crash, or a reader racing the writer) fails its stamp or its checksums and
is rebuilt; rows a reader has already mapped never move.
Checksums: CRC-32 of the id bytes (checked on every read, cheap), of the
key bytes (checked when they are read), of the sum, and of the row bytes
(chained as rows are appended; checked when `verify` is asked). A full
rewrite goes through a temporary file and a rename. Older files are an old
format, rebuilt from the table on first read: version 5 (float32 rows
only), version 4 (no keys), version 3 (no sums, a 4,096-byte header; and
the separate centred copy `.c32` beside them).

Float16 rows from HALF_ROWS rows on (issue 16, compact storage, seventh
pass). There recall does not scan every row: it asks the drain's HNSW index
and reads only the candidates' rows (`rows_at`, memman/recall/ann.py), and
a few exact float16 -> float32 conversions per query cost nothing. Stored
vectors are float16 already (projections/vectors.py `encode`), so their
float16 copy holds exactly the same numbers as a float32 one, widened
exactly on reading: the same scores, half the bytes (512 instead of 1,024 a
memory at 256-d: the whole store at 100k 5.7 -> 5.2 KB a memory). Below
HALF_ROWS the rows stay float32, which the cold path's numpy-free scan
(memman/recall/scan.py) maps and reads as they are; a store that crosses
HALF_ROWS has its file rewritten once as float16 (an append never changes
the rows' type), and a set with any vector float16 cannot hold exactly
(written before vectors were stored as float16) keeps float32 rows. A
large store without its index (replayed, not drained since) scans exactly
over the rows widened in memory (`widen`, ~0.1 s of CPU at 100k). The file
keeps its `.f32` name, which globs and tools know it by.
"""

from __future__ import annotations

import base64
import json
import mmap
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from projections.vectorkeys import keys_of

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"MEMMANVEC6\n"  # 6: float16 rows in a large set; 5: each row's index key; 4: column sums in the header; 3: rows before ids
PAGE = 4096
HALF_ROWS = 50_000  # from this many rows on, the rows are float16 (= memman/recall/ann.py ANN_ROWS)
FLOAT32, FLOAT16 = "<f4", "<f2"
WIDTH = {FLOAT32: 4, FLOAT16: 2}  # bytes a value
MAX_HEAD = 1 << 20  # a header never needs more (dim 100k)

Stamp = tuple[int, ...]  # (dim, count, last_seq, rewritten_seq) of the vector set copied

Header = dict  # the parsed JSON header


def head_size(dim: int) -> int:
    """Header bytes for `dim`: room for the base64 float64 sums and the rest."""
    need = len(MAGIC) + 1024 + 4 * ((dim * 8 + 2) // 3)
    return -(-need // PAGE) * PAGE


def read_header(path: Path, fingerprint: str) -> Header | None:
    try:
        with path.open("rb") as f:
            head = f.read(PAGE)
            if head.startswith(MAGIC) and b"\n" not in head[len(MAGIC) :]:  # a wide vector's sums: a longer header
                head += f.read(MAX_HEAD - PAGE)
    except OSError:
        return None
    return _parse_header(head, fingerprint)


def _parse_header(head: bytes, fingerprint: str) -> Header | None:
    line = head[len(MAGIC) :].split(b"\n", 1)
    if len(head) < PAGE or not head.startswith(MAGIC) or len(line) < 2:
        return None
    try:
        header = json.loads(line[0])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("fingerprint") != fingerprint:
        return None
    if not isinstance(header.get("dim"), int) or header.get("head") != head_size(header["dim"]):
        return None
    if header.get("dtype") not in WIDTH:
        return None
    return header


def width(header: Header) -> int:
    """Bytes a stored value takes: 4 (float32 rows) or 2 (float16)."""
    return WIDTH[header["dtype"]]


def sums(header: Header) -> list[float] | None:
    """The column sums the header carries (float64), or None if damaged."""
    from array import array

    try:
        raw = base64.b64decode(header["sums"], validate=True)
    except (KeyError, TypeError, ValueError):
        return None
    if len(raw) != 8 * header["dim"] or zlib.crc32(raw) != header.get("sums_crc32"):
        return None
    values = array("d")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def read(path: Path, fingerprint: str, current: Stamp, *, verify: bool = False) -> tuple[list[str], np.ndarray, Header] | None:
    """(ids, rows as stored: a float32 or float16 memory map, header) if the
    file copies exactly `current` (and, with `verify`, its rows' checksum
    holds), else None."""
    header = read_header(path, fingerprint)
    if header is None or tuple(header.get("stamp", ())) != tuple(current):
        return None
    loaded = _load(path, header, verify=verify)
    return None if loaded is None else (*loaded, header)


def _load(path: Path, header: Header, *, verify: bool) -> tuple[list[str], np.ndarray] | None:
    import numpy as np

    try:
        dim, count = header["dim"], header["count"]
        ids = _ids(path, header)
        if ids is None or len(ids) != count or sums(header) is None:
            return None
        if count == 0:
            return ids, np.zeros((0, dim), dtype=np.float32)
        rows = np.memmap(path, dtype=header["dtype"], mode="r", offset=header["head"], shape=(count, dim))
        if verify and zlib.crc32(rows) != header["rows_crc32"]:
            return None
        return ids, rows
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, partial, damaged or foreign: rebuild it


def view(
    path: Path, fingerprint: str, current: Stamp, *, verify: bool = False
) -> tuple[list[str], memoryview, list[float]] | None:
    """What `read` returns, without numpy: (ids, the rows as a read-only
    memory-mapped 2-D memoryview of count x dim, the column sums), or
    None exactly when `read` would give None (or there are no rows: a
    memoryview cannot have zero rows). A cold recall scans these rows with a
    small C kernel (memman/recall/scan.py) instead of importing numpy (~50 ms
    of a ~140 ms process at 10k memories). Float32 rows come as format "f";
    float16 rows (HALF_ROWS rows on) as their bits, format "H", which
    `widen` turns into float32 values."""
    header = read_header(path, fingerprint)
    if header is None or tuple(header.get("stamp", ())) != tuple(current) or sys.byteorder != "little":
        return None  # the rows are little-endian; elsewhere `read` (numpy) converts them
    try:
        dim, count, head = header["dim"], header["count"], header["head"]
        if dim <= 0 or count <= 0:
            return None
        ids, total = _ids(path, header), sums(header)
        if ids is None or len(ids) != count or total is None:
            return None
        size = count * dim * width(header)
        with path.open("rb") as f:
            mapped = mmap.mmap(f.fileno(), head + size, access=mmap.ACCESS_READ)
        rows = memoryview(mapped)[head : head + size]
        if verify and zlib.crc32(rows) != header["rows_crc32"]:
            return None
        return ids, rows.cast("f" if header["dtype"] == FLOAT32 else "H", (count, dim)), total
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, partial, damaged or foreign: `read` decides what to rebuild


def widen(rows: memoryview) -> memoryview:
    """`view`'s rows as float32 ("f", count x dim): float16 bits widened
    exactly, in memory (numpy); float32 rows as they are, still mapped."""
    if rows.format == "f":
        return rows
    import numpy as np

    wide = np.frombuffer(rows.cast("B"), dtype=FLOAT16).astype(np.float32).reshape(rows.shape)
    return memoryview(wide)


def _id_bytes(path: Path, header: Header) -> bytes | None:
    """The id list as stored, if its checksum holds."""
    try:
        with path.open("rb") as f:
            return _id_bytes_at(f.fileno(), header)
    except OSError:
        return None


def _id_bytes_at(fd: int, header: Header) -> bytes | None:
    """`_id_bytes` from an open file descriptor (pread)."""
    try:
        raw = os.pread(fd, header["ids_bytes"], header["ids_offset"])
    except (OSError, KeyError, TypeError):
        return None
    if len(raw) != header["ids_bytes"] or zlib.crc32(raw) != header.get("ids_crc32"):
        return None
    return raw


def key_bytes(path: Path, header: Header) -> bytes | None:
    """Every row's index key as stored (count x little-endian uint64), if
    their checksum holds."""
    try:
        with path.open("rb") as f:
            return keys_at(f.fileno(), header)
    except OSError:
        return None


def keys_at(fd: int, header: Header) -> bytes | None:
    """`key_bytes` from an open file descriptor (pread: nothing is mapped)."""
    try:
        size = 8 * header["count"]
        raw = os.pread(fd, size, header["keys_offset"]) if size else b""
    except (OSError, KeyError, TypeError):
        return None
    if len(raw) != size or zlib.crc32(raw) != header.get("keys_crc32"):
        return None
    return raw


def ids_at(fd: int, header: Header) -> list[str] | None:
    """The id list from an open file descriptor (pread), if its checksum holds."""
    return _decoded_ids(_id_bytes_at(fd, header), header)


def header_at(fd: int, fingerprint: str) -> Header | None:
    """`read_header` from an open file descriptor."""
    try:
        head = os.pread(fd, PAGE, 0)
        if head.startswith(MAGIC) and b"\n" not in head[len(MAGIC) :]:
            head += os.pread(fd, MAX_HEAD - PAGE, PAGE)
    except OSError:
        return None
    return _parse_header(head, fingerprint)


def rows_at(fd: int, header: Header, positions: list[int]) -> bytes | None:
    """The rows at `positions`, in that order, concatenated (little-endian,
    as stored: the header's "dtype"), read with `pread`: the pages go through the page cache but
    are never mapped into the reader, so they do not count in its resident
    memory (a mapped read faults in its neighbours too: 8,192 rows spread
    over a 1 GB file made ~600 MB resident; docs/scale.md)."""
    size, head = width(header) * header["dim"], header["head"]
    try:
        raw = b"".join([os.pread(fd, size, head + size * p) for p in positions])
    except OSError:
        return None
    return raw if len(raw) == size * len(positions) else None


def as_keys(raw: bytes) -> np.ndarray:
    """Stored key bytes (`keys_at`, `key_bytes`) as an array of uint64 keys."""
    import numpy as np

    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def as_rows(raw: bytes, header: Header) -> np.ndarray:
    """Stored row bytes (`rows_at`) as float32 rows (n x dim): float16 rows
    widened exactly, float32 rows read in place (read-only)."""
    import numpy as np

    stored = np.frombuffer(raw, dtype=header["dtype"]).reshape(-1, header["dim"])
    return stored.astype(np.float32, copy=False)


def _ids(path: Path, header: Header) -> list[str] | None:
    return _decoded_ids(_id_bytes(path, header), header)


def _decoded_ids(raw: bytes | None, header: Header) -> list[str] | None:
    """The stored id bytes as the list of ids (None: missing or not ASCII)."""
    if raw is None:
        return None
    try:
        return raw.decode("ascii").split("\n") if header["count"] else []
    except UnicodeDecodeError:
        return None


def _encode_header(header: dict, total: np.ndarray) -> bytes:  # type: ignore[type-arg]
    raw = total.astype("<f8").tobytes()
    header.update(sums=base64.b64encode(raw).decode("ascii"), sums_crc32=zlib.crc32(raw))
    head = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    if len(head) > header["head"]:
        raise ValueError("flat cache header too long")
    return head.ljust(header["head"], b" ")


def write(path: Path, fingerprint: str, current: Stamp, ids: list[str], rows: np.ndarray, *, max_id: int = 0) -> None:
    """Write the whole file (temporary file, then rename). Best effort: a
    read-only store still answers, just without the cache."""
    import numpy as np

    dim = int(current[0])
    id_bytes = "\n".join(ids).encode("ascii")
    exact = _half_exact(rows) if len(ids) >= HALF_ROWS else None
    dtype = FLOAT16 if exact else FLOAT32
    data = rows.astype(dtype, copy=False).tobytes()
    keys = keys_of(ids).astype("<u8").tobytes()
    head = head_size(dim)
    header = {
        "fingerprint": fingerprint, "stamp": list(current), "dim": dim, "count": len(ids), "head": head,
        "dtype": dtype, "half_exact": exact, "max_id": max_id, "keys_offset": head + len(data), "keys_crc32": zlib.crc32(keys),
        "ids_offset": head + len(data) + len(keys),
        "ids_bytes": len(id_bytes), "ids_crc32": zlib.crc32(id_bytes), "rows_crc32": zlib.crc32(data),
    }
    total = rows.sum(axis=0, dtype=np.float64) if len(ids) else np.zeros(dim, dtype=np.float64)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(_encode_header(header, total))
            f.write(data)
            f.write(keys)
            f.write(id_bytes)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _half_exact(rows: np.ndarray) -> bool:
    """Whether float16 holds every value of `rows` exactly (a vector stored
    as float16 always; one stored as float32, before issue 16, seldom)."""
    import numpy as np

    return bool(np.array_equal(rows.astype(FLOAT16).astype(np.float32), rows))


def _appendable(header: Header, count: int, new_rows: np.ndarray) -> bool:
    """Whether `new_rows` may be appended to the file `header` describes,
    for `count` rows in all; not when the file must be rewritten whole: a
    float16 file and a row float16 cannot hold exactly, or a float32 file
    reaching HALF_ROWS whose rows were never checked (`write` checks them
    once and records what it found as `half_exact`: False keeps float32)."""
    if header["dtype"] == FLOAT16:
        return len(new_rows) == 0 or _half_exact(new_rows)
    return count < HALF_ROWS or header.get("half_exact") is False


def append(
    path: Path, fingerprint: str, current: Stamp, new_ids: list[str], new_rows: np.ndarray, *, max_id: int,
    verify: bool = False,
) -> bool:
    """Append rows to a file that copies an earlier state of the same set
    (same dim and rewritten_seq, ids and sums intact); False when it cannot
    be appended to (the caller rewrites it whole). Only the new rows, the id
    list (moved past them) and the header are written; the rows already
    there are neither read nor rewritten."""
    import numpy as np

    header = read_header(path, fingerprint)
    if header is None:
        return False
    old = header.get("stamp", [])
    if len(old) != 4 or old[0] != current[0] or old[3] != current[3]:
        return False
    if header["count"] + len(new_ids) != current[1]:
        return False
    raw, keys, total = _id_bytes(path, header), key_bytes(path, header), sums(header)
    if raw is None or keys is None or total is None or (verify and _load(path, header, verify=True) is None):
        return False
    if not _appendable(header, int(current[1]), new_rows):
        return False
    data = new_rows.astype(header["dtype"], copy=False).tobytes()
    new_keys = keys_of(new_ids).astype("<u8").tobytes()
    added = "\n".join(new_ids).encode("ascii")
    if raw and added:
        added = b"\n" + added
    offset = header["keys_offset"]
    header.update(
        stamp=list(current), count=header["count"] + len(new_ids), max_id=max_id, keys_offset=offset + len(data),
        keys_crc32=zlib.crc32(new_keys, header["keys_crc32"]), ids_offset=offset + len(data) + len(keys) + len(new_keys),
        ids_bytes=len(raw) + len(added), ids_crc32=zlib.crc32(added, header["ids_crc32"]),
        rows_crc32=zlib.crc32(data, header["rows_crc32"]),
    )
    new_total = np.asarray(total, dtype=np.float64) + (new_rows.sum(axis=0, dtype=np.float64) if len(new_ids) else 0.0)
    try:
        with path.open("r+b") as f:
            f.seek(offset)
            f.write(data)
            f.write(keys)
            f.write(new_keys)
            f.write(raw)
            f.write(added)
            f.truncate()
            f.seek(0)
            f.write(_encode_header(header, new_total))
    except OSError:
        return False
    return True
