"""The date parser: each phrase a question may use names one UTC window
relative to "today"; words that only look like dates (the verb "may", a
count of 2000 rows, habits like "on Mondays") name none, nor do impossible
or order-ambiguous dates. Today is Wednesday 13 March 2024, 15:00 UTC, in
every case unless a case says otherwise, so each expected window can be
checked on a calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from memman.recall.dates import DateQuery, find

TODAY = datetime(2024, 3, 13, 15, 0, tzinfo=timezone.utc)  # a Wednesday


@pytest.mark.parametrize(
    ("query", "start", "end", "phrase"),
    [
        # absolute days
        ("what did we discuss on 4 February", date(2024, 2, 4), date(2024, 2, 5), "on 4 February"),
        ("the call on February 4th, 2023", date(2023, 2, 4), date(2023, 2, 5), "on February 4th, 2023"),
        ("notes from the 4th of Feb 2022", date(2022, 2, 4), date(2022, 2, 5), "the 4th of Feb 2022"),
        ("on 20 March", date(2023, 3, 20), date(2023, 3, 21), "on 20 March"),  # not yet this year: last year's
        ("on 14 March", date(2024, 3, 14), date(2024, 3, 15), "on 14 March"),  # tomorrow counts as this year's
        ("Feb 29", date(2024, 2, 29), date(2024, 3, 1), "Feb 29"),
        ("what happened 2023-05-06", date(2023, 5, 6), date(2023, 5, 7), "2023-05-06"),
        ("at 2023-05-06T10:30:00Z", date(2023, 5, 6), date(2023, 5, 7), "2023-05-06T10:30:00Z"),
        ("2023/05/06", date(2023, 5, 6), date(2023, 5, 7), "2023/05/06"),
        # months, years, quarters
        ("in March 2023", date(2023, 3, 1), date(2023, 4, 1), "in March 2023"),
        ("Mar. 2023", date(2023, 3, 1), date(2023, 4, 1), "Mar. 2023"),
        ("in 2023-11", date(2023, 11, 1), date(2023, 12, 1), "in 2023-11"),
        ("early March 2024", date(2024, 3, 1), date(2024, 3, 11), "early March 2024"),
        ("late February 2024", date(2024, 2, 20), date(2024, 3, 1), "late February 2024"),
        ("in March", date(2024, 3, 1), date(2024, 4, 1), "in March"),  # the current month has begun
        ("in May", date(2023, 5, 1), date(2023, 6, 1), "in May"),  # the most recent May that has begun
        ("last March", date(2023, 3, 1), date(2023, 4, 1), "last March"),
        ("next April", date(2024, 4, 1), date(2024, 5, 1), "next April"),
        ("since January", date(2024, 1, 1), date(2024, 3, 14), "since January"),
        ("since March 2023", date(2023, 3, 1), date(2024, 3, 14), "since March 2023"),
        ("in 2024", date(2024, 1, 1), date(2025, 1, 1), "in 2024"),
        ("during the year 2019", date(2019, 1, 1), date(2020, 1, 1), "during the year 2019"),
        ("Q1 2023", date(2023, 1, 1), date(2023, 4, 1), "Q1 2023"),
        # relative days
        ("today", date(2024, 3, 13), date(2024, 3, 14), "today"),
        ("this morning", date(2024, 3, 13), date(2024, 3, 14), "this morning"),
        ("yesterday", date(2024, 3, 12), date(2024, 3, 13), "yesterday"),
        ("the day before yesterday", date(2024, 3, 11), date(2024, 3, 12), "the day before yesterday"),
        ("tomorrow", date(2024, 3, 14), date(2024, 3, 15), "tomorrow"),
        ("two days ago", date(2024, 3, 11), date(2024, 3, 12), "two days ago"),
        ("3 days ago", date(2024, 3, 10), date(2024, 3, 11), "3 days ago"),
        ("a few days ago", date(2024, 3, 7), date(2024, 3, 13), "a few days ago"),
        ("on Monday", date(2024, 3, 11), date(2024, 3, 12), "on Monday"),
        ("Wednesday", date(2024, 3, 13), date(2024, 3, 14), "Wednesday"),
        ("last Wednesday", date(2024, 3, 6), date(2024, 3, 7), "last Wednesday"),
        ("next Monday", date(2024, 3, 18), date(2024, 3, 19), "next Monday"),
        ("can I release this Friday afternoon", date(2024, 3, 15), date(2024, 3, 16), "this Friday"),
        ("this Monday", date(2024, 3, 11), date(2024, 3, 12), "this Monday"),
        # relative spans
        ("last week", date(2024, 3, 4), date(2024, 3, 11), "last week"),
        ("this week", date(2024, 3, 11), date(2024, 3, 18), "this week"),
        ("the past week", date(2024, 3, 6), date(2024, 3, 14), "the past week"),
        ("in the last 3 days", date(2024, 3, 10), date(2024, 3, 14), "in the last 3 days"),
        ("over the past two weeks", date(2024, 2, 28), date(2024, 3, 14), "over the past two weeks"),
        ("last weekend", date(2024, 3, 9), date(2024, 3, 11), "last weekend"),
        ("last month", date(2024, 2, 1), date(2024, 3, 1), "last month"),
        ("this year", date(2024, 1, 1), date(2025, 1, 1), "this year"),
        ("last year", date(2023, 1, 1), date(2024, 1, 1), "last year"),
        ("a week ago", date(2024, 3, 4), date(2024, 3, 11), "a week ago"),
        ("a couple of months ago", date(2024, 1, 1), date(2024, 2, 1), "a couple of months ago"),
        ("3 years ago", date(2021, 1, 1), date(2022, 1, 1), "3 years ago"),
        # seasons (northern, meteorological)
        ("last summer", date(2023, 6, 1), date(2023, 9, 1), "last summer"),
        ("last winter", date(2023, 12, 1), date(2024, 3, 1), "last winter"),
        ("in spring", date(2024, 3, 1), date(2024, 6, 1), "in spring"),
        ("summer 2022", date(2022, 6, 1), date(2022, 9, 1), "summer 2022"),
    ],
)
def test_each_phrase_names_its_window(query: str, start: date, end: date, phrase: str) -> None:
    found = find(query, TODAY)
    assert found is not None
    assert (found.start, found.end) == (_utc(start), _utc(end))
    assert found.phrases == [phrase]


@pytest.mark.parametrize(
    "query",
    [
        "May I ask what we decided",  # the verb
        "the test 3 may fail under load",  # lower-case "may" after a number
        "we will march on",  # the verb, no preposition
        "April said the build is green",  # a name
        "we meet on Mondays",  # a habit, not a day
        "import took 2000 rows in 2000 ms",
        "in 2000 rows",  # a count, not a year
        "31 February",  # impossible
        "2023-13-01",  # no 13th month
        "on 4/2/2024",  # 4 February or 2 April: ambiguous, not guessed
        "in 1850",  # outside 1900..2199
        "port 8080 on host 2024-db",
        "",
        "why did we choose Postgres",
    ],
)
def test_words_that_only_look_like_dates_name_no_window(query: str) -> None:
    assert find(query, TODAY) is None


def test_the_phrase_is_stripped_from_the_vector_text_and_literal_words_kept_for_keywords() -> None:
    found = find("what did we discuss on 4 February about the budget?", TODAY)
    assert found is not None
    assert found.rest == "what did we discuss about the budget?"
    assert found.keyword_text == "what did we discuss about the budget? February"
    relative = find("what did Dana say yesterday", TODAY)
    assert relative is not None and relative.keyword_text == relative.rest == "what did Dana say"


def test_several_phrases_span_one_window() -> None:
    found = find("between 4 February 2024 and 6 February 2024", TODAY)
    assert found is not None
    assert (found.start, found.end) == (_utc(date(2024, 2, 4)), _utc(date(2024, 2, 7)))
    assert found.phrases == ["4 February 2024", "6 February 2024"]


def test_today_is_the_callers_and_its_utc_day_counts() -> None:
    late_in_tokyo = datetime(2024, 3, 14, 1, 0, tzinfo=timezone(timedelta(hours=9)))  # 13 March, 16:00 UTC
    found = find("yesterday", late_in_tokyo)
    assert found is not None and found.start == _utc(date(2024, 3, 12))
    assert find("yesterday", datetime(2020, 1, 1, tzinfo=timezone.utc)).start == _utc(date(2019, 12, 31))  # type: ignore[union-attr]


def test_closeness_is_one_inside_and_fades_over_the_margin() -> None:
    week = find("last week", TODAY)
    assert isinstance(week, DateQuery)
    assert week.margin == timedelta(days=1.75)  # a quarter of seven days
    assert week.closeness(_utc(date(2024, 3, 6))) == 1.0
    assert week.closeness(week.end) == 1.0 - 0.0  # the end is exclusive, at distance 0
    assert 0 < week.closeness(week.end + timedelta(days=1)) < 1
    assert week.closeness(week.start - timedelta(days=2)) == 0.0
    assert find("in 2023", TODAY).margin == timedelta(days=14)  # type: ignore[union-attr]
    assert find("today", TODAY).margin == timedelta(days=1)  # type: ignore[union-attr]


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
