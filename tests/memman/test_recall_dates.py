"""Dates in questions reach recall: a memory that occurred in the window the
question names ranks first even when its words match others as well, a
question with nothing but a date brings in that day's memories, the date
phrase is not embedded or taken for an entity, and every hit reports its
date signal and occurred time. Today is Wednesday 13 March 2024."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.recall import recall
from memman.service import Memman

TODAY = datetime(2024, 3, 13, 15, 0, tzinfo=timezone.utc)
DISCUSSIONS = [  # the same topic on several days: only the date tells them apart
    ("2024-02-01T10:00:00Z", "We discussed the budget for the mobile app with the finance team"),
    ("2024-02-04T10:00:00Z", "We discussed the budget for the website relaunch with the agency"),
    ("2024-02-09T10:00:00Z", "We discussed the budget for the office move with facilities"),
    ("2024-03-12T09:00:00Z", "Kim reported that the nightly backup job failed twice"),
    ("2024-03-12T16:00:00Z", "The design review of the onboarding flow was postponed"),
    ("2023-07-20T12:00:00Z", "The team offsite took place at the lake house"),
]


@pytest.fixture
def store(app: Memman, data_dir: Path) -> Memman:
    for at, text in DISCUSSIONS:
        app.remember(text, at=datetime.fromisoformat(at.replace("Z", "+00:00")))
    for n in range(12):  # unrelated, recent memories the date must outweigh
        app.remember(f"We discussed the budget item number {n} for the platform roadmap again")
    drain_all(data_dir)
    return app


def _recall(app: Memman, query: str, **kwargs):  # type: ignore[no-untyped-def]
    return recall(app.fresh(), app.store, query, today=TODAY, **kwargs)


@pytest.mark.parametrize("basic", [False, True])
def test_the_memory_from_the_named_day_ranks_first(store: Memman, basic: bool) -> None:
    result = _recall(store, "what did we discuss about the budget on 4 February", basic=basic)
    top = result.results[0]
    assert top.content == DISCUSSIONS[1][1]
    assert top.signals.date == 1.0
    assert top.occurred_at.startswith("2024-02-04")
    assert result.meta.window is not None
    assert (result.meta.window.start, result.meta.window.end) == ("2024-02-04T00:00:00.000000Z", "2024-02-05T00:00:00.000000Z")
    assert result.meta.window.phrases == ["on 4 February"]


def test_a_question_with_little_but_a_date_brings_in_that_days_memories(store: Memman) -> None:
    result = _recall(store, "what happened yesterday")
    best = sorted(result.results, key=lambda h: -h.score)[:2]  # "what happened" asks for time order: sort by score
    assert sorted(h.content for h in best) == sorted([DISCUSSIONS[3][1], DISCUSSIONS[4][1]])
    assert all(h.signals.date == 1.0 for h in best)


def test_a_period_finds_the_memory_in_it(store: Memman) -> None:
    assert _recall(store, "where was the offsite last summer").results[0].content == DISCUSSIONS[5][1]
    assert _recall(store, "lake house in July 2023").results[0].content == DISCUSSIONS[5][1]


def test_the_date_phrase_is_neither_embedded_nor_an_entity(store: Memman) -> None:
    result = _recall(store, "Kim backup job on 12 March")
    assert [e.casefold() for e in result.meta.entities] == ["kim"]  # not "March"
    assert result.results[0].content == DISCUSSIONS[3][1]


def test_without_dates_there_is_no_window_and_no_date_signal(store: Memman) -> None:
    result = _recall(store, "backup job failed")
    assert result.meta.window is None
    assert all(h.signals.date is None for h in result.results)
    assert recall(store.fresh(), store.store, "what happened yesterday").meta.window is None  # no today given: no parsing


def test_a_memory_just_outside_the_window_keeps_part_of_the_boost(store: Memman) -> None:
    hits = {h.content: h.signals.date for h in _recall(store, "budget discussed on 5 February").results}
    assert hits[DISCUSSIONS[1][1]] is not None and 0 < hits[DISCUSSIONS[1][1]] < 1  # 4 Feb 10:00: 14 h before
    assert hits.get(DISCUSSIONS[2][1], 0.0) == 0.0  # 9 Feb: far outside


def test_a_window_no_candidate_is_near_changes_no_score(store: Memman) -> None:
    plain = {h.id: h.score for h in _recall(store, "backup job failed").results}
    future = _recall(store, "backup job failed next week")  # nothing occurred there
    assert future.meta.window is not None
    assert {h.id: h.score for h in future.results} == plain
    assert all(h.signals.date is None for h in future.results)


def test_the_date_signal_can_be_switched_off_for_ablations(store: Memman) -> None:
    result = _recall(store, "what did we discuss about the budget on 4 February", disable=["date"])
    assert result.meta.window is None
    assert all(h.signals.date is None for h in result.results)
