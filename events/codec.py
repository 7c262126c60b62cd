"""How an event's payload is stored: its msgpack bytes, compressed when large.

On SQLite (PostgreSQL compresses large values itself, TOAST). Edge and
reconciliation events repeat memory ids, field names and edge
types; zlib stores them in about a third of the bytes. Small payloads (most
commands) and ones that do not shrink by a tenth (vectors: float bytes look
random) are stored as they are, so reading them costs nothing extra.

A compressed payload starts with 0xC1, the one byte msgpack never uses, so
a stored payload says what it is and logs written before compression read
unchanged. Checksums (events/integrity.py) cover the bytes as stored, so
`events verify` checks exactly what is on disk, and a purge's rewrite goes
through `EventLog.encode`, which packs the same way.
"""

from __future__ import annotations

MARK = b"\xc1"  # never used by msgpack
MIN_SIZE = 256  # payloads below this are stored as they are
MIN_SAVING = 0.9  # kept compressed only if at most 90% of the original size
LEVEL = 6


class CodecError(ValueError):
    """A payload marked compressed that does not decompress (damaged on disk)."""


def pack(raw: bytes) -> bytes:
    if len(raw) < MIN_SIZE:
        return raw
    import zlib  # here, not at module level: `remember` of a short text never needs it

    packed = MARK + zlib.compress(raw, LEVEL)
    return packed if len(packed) <= len(raw) * MIN_SAVING else raw


def unpack(stored: bytes) -> bytes:
    if stored[:1] != MARK:
        return stored
    import zlib

    try:
        return zlib.decompress(stored[1:])
    except zlib.error as exc:
        raise CodecError(f"compressed payload does not decompress: {exc}") from exc


def is_packed(stored: bytes) -> bool:
    return stored[:1] == MARK
