"""Time-ordered identifiers: ULIDs (48-bit millisecond time + 80 random bits,
Crockford base32, 26 characters). Sorting ids sorts by creation time.

A `UlidFactory` is monotonic within one millisecond (it increments the random
part), so ids minted in one burst still sort in mint order.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_MAX = (1 << 80) - 1


_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)  # 10 bits -> two characters


def _encode(value: int, length: int) -> str:
    """`value`'s low 5*length bits as `length` Crockford characters, ten
    bits (a table lookup) at a time; `length` is even (10 or 16)."""
    pairs = [_PAIRS[(value >> shift) & 1023] for shift in range(5 * length - 10, -1, -10)]
    return "".join(pairs)


def is_ulid(text: str) -> bool:
    return len(text) == 26 and all(ch in _ALPHABET for ch in text.upper())


def ulid_ms(text: str) -> int | None:
    """The millisecond a ULID was minted at (its first 10 characters); None if it is not a ULID."""
    if not is_ulid(text):
        return None
    ms = 0
    for ch in text[:10].upper():
        ms = ms * 32 + _ALPHABET.index(ch)
    return ms


def ulid_time(text: str) -> datetime:
    """The moment a ULID was minted (its first 10 characters, to the millisecond)."""
    ms = 0
    for ch in text[:10].upper():
        ms = ms * 32 + _ALPHABET.index(ch)
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


class UlidFactory:
    """Mints monotonic ULIDs for one writer."""

    def __init__(self) -> None:
        self._last_ms = -1
        self._last_random = 0

    def mint(self, moment: datetime) -> str:
        ms = int(moment.timestamp() * 1000)
        if ms <= self._last_ms:
            ms = self._last_ms
            random_part = self._last_random + 1
            if random_part > _RANDOM_MAX:  # vanishingly rare: borrow the next millisecond
                ms += 1
                random_part = int.from_bytes(os.urandom(10), "big") >> 1
        else:
            random_part = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        self._last_ms, self._last_random = ms, random_part
        return _encode(ms, 10) + _encode(random_part, 16)
