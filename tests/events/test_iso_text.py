"""`IsoText` is `to_iso` with a one-entry memory: it must answer exactly as
`to_iso` whatever the sequence of times it is asked for (naive, other
offsets, equal instants written differently)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from events.clock import IsoText, to_iso


def test_iso_text_answers_as_to_iso_for_any_sequence() -> None:
    utc = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    same_instant = datetime(2026, 1, 1, 11, tzinfo=timezone(timedelta(hours=1)))
    naive = datetime(2026, 1, 1, 10)  # taken as UTC: same text as `utc`, but not equal to it
    other_naive = datetime(2026, 1, 1, 9)
    sequence = [utc, utc, same_instant, naive, other_naive, utc, naive, naive, same_instant, datetime(1, 1, 1)]
    iso = IsoText()
    assert [iso(m) for m in sequence] == [to_iso(m) for m in sequence]
