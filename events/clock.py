"""The one place memman asks what time it is.

Everything that stamps a time takes a `Clock`; the default reads
`datetime.now(timezone.utc)` at call time, so freezegun controls it in tests.
Times are stored as fixed-width ISO-8601 UTC strings (microseconds, `Z`), which
sort lexicographically in the same order as chronologically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_iso(moment: datetime) -> str:
    """Fixed-width UTC ISO string; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime(_FORMAT)


def from_iso(text: str) -> datetime:
    """Parse ISO-8601 (with `Z`, an offset, or naive = UTC)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def at_microseconds(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime, exactly as it reads back from storage."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    if moment.utcoffset():
        return moment.astimezone(timezone.utc)
    return moment if moment.tzinfo is timezone.utc else moment.replace(tzinfo=timezone.utc)
