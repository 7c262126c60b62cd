"""The bounded keyword query (projections/queries.py, issue 16: a warm recall
nearly flat in the store's size). Where a query's words match more memories
than KEYWORD_CAP, bm25 ranks only the memories saying its rarest words, and
each of them gets exactly the bm25 the whole query gives it. The caps are set
small here, so a store of a few dozen memories takes the capped paths that a
store of 100k takes with the shipped cap. Every search runs both ways: with
each statement counting its words, and from held word counts
(projections/fts.py `WordCounts`, scored by projections/bm25.py), the way
recall runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.service import Memman
from projections import queries
from projections.fts import WordCounts
from projections.queries import keyword_search

COMMON = [f"The service handled request batch {n} without trouble" for n in range(24)]
MIDDLE = [f"The service timeout for worker pool {n} is thirty seconds" for n in range(6)]
RARE = [
    "Billing service timeout is forty seconds since the outage",
    "The billing export runs nightly",
]


@pytest.fixture
def app(data_dir: Path):  # type: ignore[no-untyped-def]
    with Memman(data_dir) as service:
        for text in [*COMMON, *MIDDLE, *RARE]:
            service.remember(text)
        yield service


def _search(  # type: ignore[no-untyped-def]
    app: Memman, text: str, cap: int, monkeypatch: pytest.MonkeyPatch, capped_from: int | None = None, **kwargs
) -> list[tuple[str, float]]:
    """The search, run both ways: counting in each statement, and from held
    word counts (projections/bm25.py), which must give the same list."""
    monkeypatch.setattr(queries, "KEYWORD_CAP", cap)
    monkeypatch.setattr(queries, "CAPPED_FROM", cap if capped_from is None else capped_from)
    conn = app.fresh().main.conn
    plain = keyword_search(conn, text, **{"limit": 50, **kwargs})
    held: dict = {}  # type: ignore[type-arg]
    for dearer in (0, queries.POSTINGS_PER_ROW, 0):  # scored from the counts (counted, then held), and as it chooses
        monkeypatch.setattr(queries, "POSTINGS_PER_ROW", dearer)
        counted = keyword_search(conn, text, counts=WordCounts(conn, held=held), **{"limit": 50, **kwargs})
        assert [i for i, _ in counted] == [i for i, _ in plain]
        assert [s for _, s in counted] == pytest.approx([s for _, s in plain], abs=1e-9)
    assert held
    return plain


def _content(app: Memman, memory_id: str) -> str:
    return app.memory(memory_id).content


def test_under_the_cap_the_query_is_the_exact_one(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = _search(app, "billing service timeout", 10**6, monkeypatch)
    assert len(exact) == len(COMMON) + len(MIDDLE) + len(RARE)
    assert _search(app, "billing service timeout", len(exact) * 3, monkeypatch) == exact
    # over the cap but not over CAPPED_FROM: the exact query still costs less than the capped one's two
    assert _search(app, "billing service timeout", 4, monkeypatch, capped_from=len(exact)) == exact
    assert _search(app, "billing service timeout", 4, monkeypatch, capped_from=len(exact) - 1) != exact


def test_capped_ranks_the_rare_words_memories_with_the_whole_querys_bm25(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = dict(_search(app, "billing service timeout", 10**6, monkeypatch))
    capped = _search(app, "billing service timeout", 4, monkeypatch)  # "billing" (2) fits, "timeout" (7) does not
    assert {_content(app, i) for i, _ in capped} == set(RARE)
    for memory_id, score in capped:
        assert score == pytest.approx(exact[memory_id], abs=1e-9)  # the whole query's bm25, not the rare word's
    assert [i for i, _ in capped] == sorted(exact, key=lambda i: exact[i])[:1] + [capped[1][0]]
    assert _content(app, capped[0][0]) == RARE[0]  # it says all three words


def test_capped_keeps_the_rarest_words_that_fit_together(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = _search(app, "billing service timeout", 10**6, monkeypatch)
    capped = _search(app, "billing service timeout", 10, monkeypatch)  # billing (2) + timeout (7) fit, service (31) not
    wanted = [(i, s) for i, s in exact if "timeout" in _content(app, i) or "billing" in _content(app, i).lower()]
    assert [i for i, _ in capped] == [i for i, _ in wanted]
    assert [s for _, s in capped] == pytest.approx([s for _, s in wanted], abs=1e-9)


def test_when_every_word_is_common_the_memories_saying_all_of_them_are_ranked(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    capped = _search(app, "service timeout", 3, monkeypatch)  # both words say more than 3
    assert capped and all("timeout" in _content(app, i).lower() and "service" in _content(app, i).lower() for i, _ in capped)
    assert len(capped) == 3  # the cap's newest of them


def test_when_no_memory_says_every_word_the_rarest_words_newest_are_ranked(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    capped = _search(app, "request thirty", 3, monkeypatch)  # "request" 24, "thirty" 6: no memory says both
    assert {_content(app, i) for i, _ in capped} == set(MIDDLE[-3:])  # equal bm25: in rowid order


def test_capped_search_applies_the_filters(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _search(app, "billing service timeout", 4, monkeypatch)[0][0]
    app.forget(first)
    capped = _search(app, "billing service timeout", 4, monkeypatch)
    assert first not in [i for i, _ in capped] and len(capped) == 1
    assert _search(app, "billing service timeout", 4, monkeypatch, category="nothing-here") == []
    assert len(_search(app, "billing service timeout", 4, monkeypatch, limit=1)) == 1


def test_a_word_no_memory_says_does_not_empty_the_capped_search(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    # it matches nothing, so it neither is "the rarest word" nor makes "every word" impossible
    for text, cap in (("service timeout", 3), ("request thirty", 3), ("billing service timeout", 4)):
        without = _search(app, text, cap, monkeypatch)
        with_unknown = _search(app, f"zorblax {text}", cap, monkeypatch)
        assert without and [i for i, _ in with_unknown] == [i for i, _ in without]
        assert [s for _, s in with_unknown] == pytest.approx([s for _, s in without], abs=1e-9)


def test_the_memories_saying_every_word_get_the_whole_querys_bm25(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = dict(_search(app, "zorblax service timeout", 10**6, monkeypatch))
    capped = _search(app, "zorblax service timeout", 3, monkeypatch)  # ranked by the AND of the words alone
    assert len(capped) == 3
    for memory_id, score in capped:
        assert score == pytest.approx(exact[memory_id], abs=1e-9)
