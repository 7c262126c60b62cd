"""Input validation at the edge: every check raises a BadInput subclass with a
message that says what is wrong and how to fix it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from events.clock import from_iso
from events.errors import BadInput, EmptyText, InvalidText, TextTooLong
from events.types import CATEGORIES, SOURCES

MAX_TEXT_BYTES = 64 * 1024
# How far ahead of the clock `--at` may be: clock skew between machines, not
# a future event (a memory records what was true or said, so it cannot have
# occurred yet; an end of validity in the future is `--until`).
FUTURE_SLACK = timedelta(minutes=5)
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidText(f"text is not valid UTF-8 (byte {exc.start}); send UTF-8 text") from None
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: undecodable bytes smuggled in via argv
        raise InvalidText(f"text is not valid UTF-8 (at character {exc.start}); send UTF-8 text") from None
    if "\x00" in value:
        raise InvalidText("text contains a NUL character")
    if not value.strip():
        raise EmptyText("text is empty; say what to remember")
    if len(encoded) > MAX_TEXT_BYTES:
        raise TextTooLong(
            f"text is {len(encoded):,} bytes; the limit is {MAX_TEXT_BYTES:,} (remember one fact per call)"
        )
    return value.strip()


def query(value: str) -> str:
    if not value.strip():
        raise EmptyText("query is empty; say what to recall")
    return value.strip()


def category(value: str) -> str:
    if value not in CATEGORIES:
        raise BadInput(f"unknown category {value!r}; choose from {', '.join(CATEGORIES)}")
    return value


def source(value: str) -> str:
    if value not in SOURCES:
        raise BadInput(f"unknown source {value!r}; choose from {', '.join(SOURCES)}")
    return value


def importance(value: int) -> int:
    if not 1 <= value <= 5:
        raise BadInput(f"importance must be 1-5, got {value}")
    return value


MAX_ENTITIES, MAX_ENTITY_CHARS = 100, 200
MAX_META_KEYS, MAX_META_KEY_CHARS, MAX_META_VALUE_CHARS = 50, 100, 4096


def entities(values: list[str] | str | None) -> list[str]:
    if values is None:
        return []
    items = values.split(",") if isinstance(values, str) else values
    seen: dict[str, str] = {}
    for item in items:
        cleaned = str(item).strip()
        if len(cleaned) > MAX_ENTITY_CHARS:
            raise BadInput(f"entity {cleaned[:20]!r}... is {len(cleaned):,} characters; the limit is {MAX_ENTITY_CHARS}")
        if cleaned:
            seen.setdefault(cleaned.casefold(), cleaned)
    if len(seen) > MAX_ENTITIES:
        raise BadInput(f"{len(seen)} entities; the limit is {MAX_ENTITIES}")
    return list(seen.values())


def meta(pairs: list[str] | dict[str, object] | None) -> dict[str, str]:
    if pairs is None:
        return {}
    if isinstance(pairs, dict):
        return _meta_limits({str(k): str(v) for k, v in pairs.items()})
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"bad --meta {pair[:40]!r}; use key=value")
        out[key.strip()] = value
    return _meta_limits(out)


def _meta_limits(out: dict[str, str]) -> dict[str, str]:
    if len(out) > MAX_META_KEYS:
        raise BadInput(f"{len(out)} metadata keys; the limit is {MAX_META_KEYS}")
    for key, value in out.items():
        if len(key) > MAX_META_KEY_CHARS:
            raise BadInput(f"metadata key {key[:20]!r}... is {len(key):,} characters; the limit is {MAX_META_KEY_CHARS}")
        if len(value) > MAX_META_VALUE_CHARS:
            raise BadInput(f"metadata {key[:40]!r} is {len(value):,} characters; the limit is {MAX_META_VALUE_CHARS}")
    return out


# Times memman accepts on the way in. Years outside four digits cannot be
# stored as fixed-width ISO text (which the log's ordering relies on), and
# no memory is about year 1: a time outside this range is a typo.
MIN_YEAR, MAX_YEAR = 1000, 9999
_FOUR_DIGIT_YEAR = re.compile(r"^\s*\d{4}-")


def moment(value: str, what: str = "time", hint: str = "use ISO-8601, e.g. 2026-01-31T09:30:00Z") -> datetime:
    """An ISO-8601 time within years 1000-9999 (UTC), as an aware datetime."""
    if not _FOUR_DIGIT_YEAR.match(value):
        if re.match(r"^\s*[+-]?\d+-\d", value):  # a date with a short or long year
            raise BadInput(f"{what} {value!r} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}")
        raise BadInput(f"bad {what} {value!r}; {hint}")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed.astimezone(timezone.utc)  # raises OverflowError past year 9999 or before year 1
        result = from_iso(value)
    except OverflowError:
        raise BadInput(f"{what} {value!r} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}") from None
    except ValueError:
        raise BadInput(f"bad {what} {value!r}; {hint}") from None
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        raise BadInput(f"{what} {value!r} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}")
    return result


def occurred(at: datetime, now: datetime) -> datetime:
    """An occurred (valid) time: refused more than FUTURE_SLACK ahead of now."""
    if at > now + FUTURE_SLACK:
        raise BadInput(
            f"--at {at.isoformat()} is in the future (now {now.isoformat(timespec='seconds')}); a memory records"
            " what was true or said, so give a past time (an end of validity is --until)"
        )
    return at


def until(end: datetime, occurred: datetime) -> datetime:
    """An explicit end of validity: after the memory occurred."""
    if end <= occurred:
        raise BadInput(f"--until {end.isoformat()} is not after the memory occurred; give a later time")
    return end


def since(value: str, now: datetime) -> datetime:
    """`7d`, `24h`, `30m`, `2w`, or an ISO-8601 time."""
    match = _DURATION.match(value.strip())
    try:
        if match:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except (ValueError, OverflowError):
        raise BadInput(f"bad --since {value!r}; use 7d, 24h, 30m or an ISO-8601 time") from None
    return moment(value, "--since", "use 7d, 24h, 30m or an ISO-8601 time")


MAX_KEY_CHARS = 200


def idempotency_key(value: str, what: str = "--id") -> str:
    """A caller's idempotency key: 1-200 printable characters."""
    cleaned = value.strip()
    if not cleaned:
        raise BadInput(f"{what} is empty; pass a stable key, e.g. the hook's event id")
    if len(cleaned) > MAX_KEY_CHARS:
        raise BadInput(f"{what} is {len(cleaned)} characters; the limit is {MAX_KEY_CHARS}")
    if not cleaned.isprintable():
        raise BadInput(f"{what} contains control characters; use printable text")
    return cleaned


def positive(value: int, what: str) -> int:
    if value < 1:
        raise BadInput(f"{what} must be at least 1, got {value}")
    return value


def min_score(value: float) -> float:
    """A recall score floor: a probability, 0..1."""
    import math

    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise BadInput(f"--min-score must be between 0 and 1 (a calibrated probability), got {value}")
    return float(value)


def order(value: str) -> str:
    if value not in ("score", "time"):
        raise BadInput(f"unknown order {value!r}; choose from score, time")
    return value
