"""The one place memman asks what time it is.

Everything that stamps a time takes a `Clock`; the default reads
`datetime.now(timezone.utc)` at call time, so freezegun controls it in tests.
Times are stored as fixed-width ISO-8601 UTC strings (microseconds, `Z`), which
sort lexicographically in the same order as chronologically.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_iso(moment: datetime) -> str:
    """Fixed-width UTC ISO string; naive datetimes are taken as UTC.

    The year is always four digits: `strftime("%Y")` writes year 1 as "1" on
    glibc, a string `fromisoformat` refuses, which once locked a store."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:  # an offset that crosses year 1 or 9999: keep the wall time (only old data)
        moment = moment.replace(tzinfo=timezone.utc)
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:" \
        f"{moment.second:02d}.{moment.microsecond:06d}Z"


class IsoText:
    """`to_iso` that remembers its last answer: a replay formats the same
    `recorded_at` for every event of a drain's chunk (one clock reading per
    append), and formatting was ~6% of a replay. One per projector (state of
    its own); equal instants give equal text, so a hit is exact."""

    __slots__ = ("_moment", "_text")

    def __init__(self) -> None:
        self._moment: datetime | None = None
        self._text = ""

    def __call__(self, moment: datetime) -> str:
        if moment is not self._moment and not (
            moment.tzinfo is not None and self._moment is not None and moment == self._moment
        ):
            self._text = to_iso(moment)
            self._moment = moment
        return self._text


# A stored time whose year a buggy older writer left unpadded ("1-01-01T...").
_UNPADDED_YEAR = re.compile(r"^\s*(\d{1,3})-")


def from_iso(text: str) -> datetime:
    """Parse ISO-8601 (with `Z`, an offset, or naive = UTC). Tolerant of an
    unpadded year (older memman wrote year 1 as "1-01-01T..."), so a store
    holding one still reads, exports and replays."""
    if len(text) == 27 and text[-1] == "Z" and text[4] == "-":  # what to_iso writes: every stored time
        return datetime.fromisoformat(text)  # 3.11 reads "Z" as UTC (this path is most of a replay's parsing)
    cleaned = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    short = _UNPADDED_YEAR.match(cleaned)
    if short:
        cleaned = f"{int(short.group(1)):04d}-" + cleaned[short.end():]
    value = datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # year 1 with a positive offset, or 9999 with a negative one
        return value.replace(tzinfo=timezone.utc)


def at_microseconds(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime, exactly as it reads back from storage."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    if moment.utcoffset():
        return moment.astimezone(timezone.utc)
    return moment if moment.tzinfo is timezone.utc else moment.replace(tzinfo=timezone.utc)
