"""How an event's payload is stored: its msgpack bytes, compressed.

On SQLite (PostgreSQL compresses large values itself, TOAST). Every payload
repeats field names, type tags, memory ids and provenance; deflate with a
preset dictionary of those (events/zdict.py) stores a typical event in
40-60% of its bytes, a small one too. Payloads below MIN_SIZE, and ones that
do not shrink by a tenth (a lone float vector looks random), are stored as
they are, so reading them costs nothing extra.

A stored payload says what it is by its first bytes:

    0x85 ...             msgpack, as it is (a map; msgpack never writes 0xC1)
    0xC1 0x78 ...        zlib, no dictionary (written before dictionaries)
    0xC1 0x01 ...        raw deflate with preset dictionary 1

so logs written by any earlier memman read unchanged, and a log holding all
three replays exactly. Checksums (events/integrity.py) cover the bytes as
stored, so `events verify` checks exactly what is on disk, and a purge's
rewrite goes through `EventLog.encode`, which packs the same way.
"""

from __future__ import annotations

MARK = b"\xc1"  # never used by msgpack
MIN_SIZE = 64  # payloads below this are stored as they are
MIN_SAVING = 0.9  # kept compressed only if at most 90% of the original size
DICTIONARY = 1  # the preset dictionary new payloads are written with (events/zdict.py)
_ZLIB_MARK = b"\x78"  # the first byte of every zlib stream this module wrote (32 KiB window)
# Deflate parameters: level 9 and a small state (8 KiB window, memory level 6),
# since payloads are short; the default state (32 KiB, level 9 memory) cost
# ~120 us an event to allocate, this ~50.
_LEVEL, _WBITS, _MEMLEVEL = 9, 13, 6


class CodecError(ValueError):
    """A payload marked compressed that does not decompress (damaged on disk)."""


def pack(raw: bytes) -> bytes:
    if len(raw) < MIN_SIZE:
        return raw
    import zlib  # here, not at module level: nothing that only reads plain payloads needs it

    from events.zdict import dictionary

    deflate = zlib.compressobj(_LEVEL, zlib.DEFLATED, -_WBITS, _MEMLEVEL, zlib.Z_DEFAULT_STRATEGY, dictionary(DICTIONARY))
    packed = MARK + bytes((DICTIONARY,)) + deflate.compress(raw) + deflate.flush()
    return packed if len(packed) <= len(raw) * MIN_SAVING else raw


def unpack(stored: bytes) -> bytes:
    """The msgpack bytes of a stored payload (see `Unpacker` for many)."""
    return stored if stored[:1] != MARK else Unpacker()(stored)


class Unpacker:
    """`unpack` with zlib and the dictionaries looked up once: a reader that
    unpacks every event of a replay keeps one (EventLog._unpack)."""

    def __init__(self) -> None:
        import zlib  # here, not at module level: nothing that only appends short payloads needs it

        from events.zdict import dictionary

        self._zlib, self._dictionary = zlib, dictionary

    def __call__(self, stored: bytes) -> bytes:
        if stored[:1] != MARK:
            return stored
        zlib = self._zlib
        try:
            if stored[1:2] == _ZLIB_MARK:
                return zlib.decompress(stored[1:])
            preset = self._dictionary(stored[1]) if len(stored) > 1 else None
            if preset is None:
                raise CodecError(
                    f"compressed payload names an unknown dictionary ({stored[1:2].hex() or 'none'}): written by a newer memman?"
                )
            inflate = zlib.decompressobj(-15, preset)
            raw = inflate.decompress(stored[2:])
        except zlib.error as exc:
            raise CodecError(f"compressed payload does not decompress: {exc}") from exc
        if not inflate.eof or inflate.unused_data:
            raise CodecError("compressed payload is truncated or has bytes after its end")
        return raw


def is_packed(stored: bytes) -> bool:
    return stored[:1] == MARK
