"""Dates in questions: the time window a query names, relative to "today".

    find("what did we discuss on 4 February", today) -> DateQuery(
        start=<4 Feb 00:00 UTC>, end=<5 Feb 00:00 UTC>, phrases=["on 4 February"],
        rest="what did we discuss", keyword_text="what did we discuss February")

Pure: no clock, no store. "Today" is the caller's: recall passes `--as-of`
or the service clock. Windows are half-open [start, end) in UTC, because
memman stores every time in UTC.

What is understood (case-insensitive), each phrase giving one window:

    ISO            2024-02-04, 2024-02-04T10:00Z (that day), 2024-02, 2024/02/04
    day + month    4 February, 4th of Feb 2024, February 4, Feb 4th, 2024
    month + year   March 2023, in mid March 2023, Mar. 2023
    month          in/during/since/early/mid/late/last/this/next March (full names)
    year           in/during/since/throughout 2024, the year 2024 (1900..2199)
    quarter        Q1 2024
    relative day   today, tonight, this morning, yesterday, the day before
                   yesterday, tomorrow, on/last/next Monday, Monday,
                   this Friday (the current week's, past or coming)
    relative span  last/this/next week|month|year|weekend, the past/last N days|weeks|...
    ago            two days ago, a week ago, a couple of months ago, 3 years ago
    season         last/this/in summer, summer 2023 (northern meteorological seasons)

Decisions where the question is ambiguous:
- A month without a day or year counts only after a preposition or a
  qualifier ("in May", "last March"): "May I ask", "march on" and the name
  "April" alone are not dates. Abbreviations (Jan, Mar) need a day or a year.
- A bare month or day names the most recent one that has begun (in March,
  asked in February 2024, is March 2023); "last March" is strictly before the
  current month; "next" looks forward. A day-month without a year is the most
  recent such day up to today; tomorrow's date is taken as this year's.
- Numeric day/month orders (4/2/2024) are not parsed: 4 February and
  2 April are both plausible. Impossible dates (31 February) are not dates.
- "since X" runs from the start of X to the end of today.
- Weeks run Monday to Sunday; "last week" is the previous calendar week.
- "N days ago" is that day; "N weeks/months/years ago" is the calendar
  week, month or year holding today minus N units. "A couple of / a few /
  several days ago" (2, 3, 3) are vague: from 2N days ago up to yesterday.
- Several phrases in one question: the window spans them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

import msgspec

# English names, spelled out: `calendar` would import `locale` on the recall path (~20 ms).
_MONTH_NAMES = "january february march april may june july august september october november december".split()
MONTHS = {name: n for n, name in enumerate(_MONTH_NAMES, start=1)}
ABBREVIATIONS = {name[:3]: n for n, name in enumerate(_MONTH_NAMES, start=1)} | {"sept": 9}
WEEKDAYS = {name: n for n, name in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "couple of": 2,
    "a few": 3, "few": 3, "several": 3,
}  # fmt: skip
VAGUE = frozenset({"a couple of", "couple of", "a few", "few", "several"})
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # first month, northern hemisphere
MIN_YEAR, MAX_YEAR = 1900, 2199

_MONTH = r"(?P<month>" + "|".join(sorted([*MONTHS, *ABBREVIATIONS], key=len, reverse=True)) + r")\.?"
_FULL_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20|21)\d\d)"
_NUMBER = r"(?P<n>\d{1,3}|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"  # not "Mondays": a habit, not a date
_SEASON = r"(?P<season>" + "|".join(SEASONS) + r")"
_NOT_A_YEAR = r"(?!\s*(?:%|ms|s\b|rows?|users?|items?|lines?|records?|requests?|tokens?|bytes?|words?|people|times|x\b))"


class DateQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The window a query names, and the query without its date phrases."""

    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC
    phrases: list[str]  # the date phrases found, as written
    rest: str  # the query without them: what the vector channel embeds
    keyword_text: str  # `rest` plus the literal month names and years: what FTS matches

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def closeness(self, moment: datetime) -> float:
        """1 inside the window, falling linearly to 0 at `margin` outside it."""
        if self.contains(moment):
            return 1.0
        gap = (self.start - moment) if moment < self.start else (moment - self.end)
        return max(0.0, 1.0 - gap / self.margin)

    @property
    def margin(self) -> timedelta:
        """How far outside the window a memory still earns part of the boost:
        a quarter of the window's length, at least a day, at most two weeks."""
        return min(max((self.end - self.start) / 4, timedelta(days=1)), timedelta(days=14))


class _Window(msgspec.Struct, frozen=True):
    start: date
    end: date  # exclusive
    keep: tuple[str, ...] = ()  # literal words worth keeping in the keyword query


Handler = Callable[[dict[str, str], date], "_Window | None"]


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_window(year: int, month: int, keep: tuple[str, ...] = ()) -> _Window:
    start = _month_start(year, month)
    return _Window(start, _add_months(start, 1), keep)


def _day_window(day: date, keep: tuple[str, ...] = ()) -> _Window:
    return _Window(day, day + timedelta(days=1), keep)


def _week_of(day: date) -> _Window:
    monday = day - timedelta(days=day.weekday())
    return _Window(monday, monday + timedelta(days=7))


def _year_ok(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def _month_number(name: str) -> int:
    name = name.lower().rstrip(".")
    return MONTHS.get(name) or ABBREVIATIONS[name]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _number(word: str) -> int:
    word = " ".join(word.lower().split())
    return int(word) if word.isdigit() else NUMBERS[word]


# ------------------------------------------------------------------ handlers


def _iso_day(g: dict[str, str], today: date) -> _Window | None:
    day = _safe_date(int(g["year"]), int(g["m"]), int(g["d"]))
    return None if day is None or not _year_ok(day.year) else _day_window(day, (g["year"],))


def _iso_month(g: dict[str, str], today: date) -> _Window | None:
    year, month = int(g["year"]), int(g["m"])
    return _month_window(year, month, (g["year"],)) if _year_ok(year) and 1 <= month <= 12 else None


def _day_month(g: dict[str, str], today: date) -> _Window | None:
    if g["month"] == "may" and not g.get("year"):
        return None  # "the test 3 may fail": lower-case "may" is a verb unless a year follows
    month = _month_number(g["month"])
    keep = tuple(x for x in (g["month"].rstrip("."), g.get("year")) if x)
    if g.get("year"):
        day = _safe_date(int(g["year"]), month, int(g["day"]))
        return None if day is None or not _year_ok(day.year) else _day_window(day, keep)
    for year in (today.year, today.year - 1, today.year - 2, today.year - 3):  # 29 February needs a leap year
        day = _safe_date(year, month, int(g["day"]))
        if day is not None and (day <= today or (year == today.year and day == today + timedelta(days=1))):
            return _day_window(day, keep)
    return None


def _month_year(g: dict[str, str], today: date) -> _Window | None:
    year = int(g["year"])
    if not _year_ok(year):
        return None
    window = _part_of(_month_window(year, _month_number(g["month"]), (g["month"].rstrip("."), g["year"])), g.get("part"))
    return _since(window, today) if g.get("lead", "").lower() == "since" else window


def _part_of(window: _Window, part: str | None) -> _Window:
    """early / mid / late: the first, middle and last thirds of a month."""
    if not part:
        return window
    days = (window.end - window.start).days
    third = {"early": 0, "mid": 1, "late": 2}[part.lower()]
    start = window.start + timedelta(days=third * days // 3)
    end = window.end if third == 2 else window.start + timedelta(days=(third + 1) * days // 3)
    return _Window(start, end, window.keep)


def _named_month(g: dict[str, str], today: date) -> _Window | None:
    month, lead = MONTHS[g["month"].lower()], g["lead"].lower()
    this = _month_start(today.year, month)
    if lead == "next":
        year = today.year if month > today.month else today.year + 1
    elif lead == "last":
        year = today.year if month < today.month else today.year - 1
    elif lead == "this":
        year = today.year
    else:  # in / during / since / early / mid / late: the most recent that has begun
        year = today.year if this <= today else today.year - 1
    window = _month_window(year, month, (g["month"],))
    if lead in ("early", "mid", "late"):
        window = _part_of(window, lead)
    return _since(window, today) if lead == "since" else window


def _since(window: _Window, today: date) -> _Window:
    return _Window(window.start, max(window.end, today + timedelta(days=1)), window.keep)


def _year(g: dict[str, str], today: date) -> _Window | None:
    year = int(g["year"])
    if not _year_ok(year):
        return None
    window = _Window(date(year, 1, 1), date(year + 1, 1, 1), (g["year"],))
    return _since(window, today) if g.get("lead", "").lower() == "since" else window


def _quarter(g: dict[str, str], today: date) -> _Window | None:
    year, q = int(g["year"]), int(g["q"])
    if not _year_ok(year):
        return None
    start = date(year, 3 * q - 2, 1)
    return _Window(start, _add_months(start, 3), (g["year"],))


def _relative_day(g: dict[str, str], today: date) -> _Window | None:
    word = " ".join(g["word"].lower().split())
    offset = {"the day before yesterday": -2, "day before yesterday": -2, "yesterday": -1, "tomorrow": 1}.get(word, 0)
    return _day_window(today + timedelta(days=offset))


def _weekday(g: dict[str, str], today: date) -> _Window | None:
    wanted, lead = WEEKDAYS[g["weekday"].lower()], (g.get("lead") or "").lower()
    back = (today.weekday() - wanted) % 7
    if lead == "next":
        return _day_window(today + timedelta(days=(wanted - today.weekday()) % 7 or 7))
    if lead == "this":  # this Friday: the one of the current week, past or coming
        return _day_window(today + timedelta(days=wanted - today.weekday()))
    if lead == "last" and back == 0:
        back = 7  # "last Monday", said on a Monday, is a week ago
    return _day_window(today - timedelta(days=back))


def _span(g: dict[str, str], today: date) -> _Window | None:
    lead, unit = g["lead"].lower(), g["unit"].lower()
    if lead == "past":  # the past week: the seven days up to today, not the calendar week
        days = {"weekend": 7, "week": 7, "month": 30, "year": 365}[unit]
        return _Window(today - timedelta(days=days), today + timedelta(days=1))
    shift = {"last": -1, "previous": -1, "this": 0, "next": 1}[lead]
    if unit == "weekend":  # Saturday and Sunday of the week `shift` weeks from this one
        saturday = today + timedelta(days=5 - today.weekday() + 7 * shift)
        return _Window(saturday, saturday + timedelta(days=2))
    if unit == "week":
        return _week_of(today + timedelta(days=7 * shift))
    if unit == "month":
        start = _add_months(_month_start(today.year, today.month), shift)
        return _Window(start, _add_months(start, 1))
    return _Window(date(today.year + shift, 1, 1), date(today.year + shift + 1, 1, 1))


def _last_n(g: dict[str, str], today: date) -> _Window | None:
    n, unit = _number(g["n"]), g["unit"].lower()
    if n < 1:
        return None
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
    return _Window(today - timedelta(days=days), today + timedelta(days=1))


def _ago(g: dict[str, str], today: date) -> _Window | None:
    n, unit = _number(g["n"]), g["unit"].lower()
    if unit == "day" and " ".join(g["n"].lower().split()) in VAGUE:
        return _Window(today - timedelta(days=2 * n), today)  # "a few days ago": vague, so from 2n days ago to yesterday
    if unit == "day":
        return _day_window(today - timedelta(days=n))
    if unit == "week":
        return _week_of(today - timedelta(days=7 * n))
    if unit == "month":
        start = _add_months(_month_start(today.year, today.month), -n)
        return _Window(start, _add_months(start, 1))
    year = today.year - n
    return _Window(date(year, 1, 1), date(year + 1, 1, 1)) if _year_ok(year) else None


def _season(g: dict[str, str], today: date) -> _Window | None:
    first = SEASONS[g["season"].lower()]
    lead = (g.get("lead") or "").lower()
    if g.get("year"):
        year = int(g["year"])
        if not _year_ok(year):
            return None
    else:
        started = today.year if _month_start(today.year, first) <= today else today.year - 1
        year = {"last": started - 1, "next": started + 1}.get(lead, started)
        if lead == "last" and _add_months(_month_start(started, first), 3) <= today:
            year = started  # the most recent one that has ended
    start = _month_start(year, first)
    return _Window(start, _add_months(start, 3), (g["year"],) if g.get("year") else ())


# ------------------------------------------------------------------ patterns, most specific first


def _rx(pattern: str) -> str:
    return r"(?<![\w-])" + pattern + r"(?![\w-])"


_RULES: tuple[tuple[str, Handler], ...] = (  # pattern text: compiled (and cached by `re`) on first use
    (_rx(r"(?:on\s+)?" + _YEAR + r"[-/](?P<m>\d\d)[-/](?P<d>\d\d)(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"), _iso_day),
    (_rx(r"(?:in\s+)?" + _YEAR + r"-(?P<m>\d\d)(?!-)"), _iso_month),
    (_rx(r"(?:on\s+)?(?:the\s+)?" + _DAY + r"(?:\s+of)?\s+" + _MONTH + r"(?:,?\s+" + _YEAR + r")?"), _day_month),
    (_rx(r"(?:on\s+)?" + _MONTH + r"\s+(?:the\s+)?" + _DAY + r"(?:,?\s+" + _YEAR + r")?"), _day_month),
    (_rx(r"(?:(?P<lead>in|during|of|since)\s+)?(?:(?P<part>early|mid|late)[-\s]+)?" + _MONTH + r",?\s+(?:of\s+)?" + _YEAR), _month_year),
    (_rx(r"(?P<lead>in|during|since|early|mid|late|last|this|next)[-\s]+" + _FULL_MONTH), _named_month),
    (_rx(r"(?:(?P<lead>in|during|since|throughout|of)\s+(?:the\s+year\s+)?|the\s+year\s+)" + _YEAR + _NOT_A_YEAR), _year),
    (_rx(r"(?:in\s+)?Q(?P<q>[1-4])\s+" + _YEAR), _quarter),
    (_rx(r"(?P<word>(?:the\s+)?day\s+before\s+yesterday|yesterday|today|tonight|tomorrow|this\s+(?:morning|afternoon|evening))"), _relative_day),
    (_rx(r"(?:(?:in|over|during)\s+)?(?:the\s+)?(?:past|last)\s+" + _NUMBER + r"\s+" + _UNIT), _last_n),
    (_rx(r"(?:(?:in|over|during)\s+)?(?:the\s+)?(?P<lead>last|this|next|past|previous)\s+(?P<unit>week|month|year|weekend)"), _span),
    (_rx(_NUMBER + r"\s+" + _UNIT + r"\s+ago"), _ago),
    (_rx(r"(?:(?P<lead>in|during|last|this|next)\s+(?:the\s+)?)?" + _SEASON + r"(?:\s+(?:of\s+)?" + _YEAR + r")"), _season),
    (_rx(r"(?P<lead>in|during|last|this|next)\s+(?:the\s+)?" + _SEASON), _season),
    (_rx(r"(?:(?P<lead>on|last|this|next)\s+)?" + _WEEKDAY), _weekday),
)


# Every rule needs one of these words or a digit: a query without any skips
# compiling the rules (~5 ms on a cold process), which most queries never need.
_GATE = re.compile(
    r"\d|" + "|".join([*ABBREVIATIONS, *(w[:3] for w in WEEKDAYS), "yesterday", "today", "tonight", "tomorrow",
    "morning", "afternoon", "evening", "ago", "week", "year", *SEASONS]),
    re.IGNORECASE,
)  # fmt: skip


def find(query: str, today: datetime) -> DateQuery | None:
    """The window the date phrases of `query` name, or None when it names none."""
    if not _GATE.search(query):
        return None
    day = today.astimezone(timezone.utc).date() if today.tzinfo else today.date()
    taken: list[tuple[int, int, _Window]] = []
    for pattern, handler in _RULES:
        for match in re.finditer(pattern, query, re.IGNORECASE):
            if any(match.start() < end and start < match.end() for start, end, _ in taken):
                continue
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            window = handler(groups, day)
            if window is not None:
                taken.append((match.start(), match.end(), window))
    if not taken:
        return None
    taken.sort(key=lambda t: t[0])
    rest = _without(query, [(s, e) for s, e, _ in taken])
    keep = [word for _, _, w in taken for word in w.keep]
    return DateQuery(
        start=_utc(min(w.start for _, _, w in taken)),
        end=_utc(max(w.end for _, _, w in taken)),
        phrases=[query[s:e] for s, e, _ in taken],
        rest=rest,
        keyword_text=" ".join([rest, *keep]).strip(),
    )


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    parts, at = [], 0
    for start, end in spans:
        parts.append(text[at:start])
        at = end
    parts.append(text[at:])
    return " ".join(" ".join(parts).split()).strip(" ,;:-")
