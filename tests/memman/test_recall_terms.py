"""Query word frequencies and which memories say them (memman/recall/terms.py).
A common word's memories are looked up for the candidates only, never read
whole; that must change nothing: coverage, the hop step's "a query word in
another form" check and whole recalls come out as when every word's posting
list is read (EAGER_POSTINGS set to 0 makes every word common here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.recall import recall, terms
from memman.recall.terms import coverage, query_terms
from memman.service import Memman

TEXTS = [
    "Billing service timeout is forty seconds",
    "The billing team owns invoices",
    "Service meshes route every request",
    "Timeouts in the gateway are configurable",
    "Nothing about any of that here",
    "Lunch with the billing team on Friday",
]


@pytest.fixture
def app(data_dir: Path):  # type: ignore[no-untyped-def]
    with Memman(data_dir) as service:
        for text in TEXTS:
            service.remember(text)
        drain_all(data_dir)
        yield service


def _keys(app: Memman) -> list[int]:
    return [r[0] for r in app.fresh().main.conn.execute("SELECT key FROM memories ORDER BY key")]


def test_lazy_postings_give_the_same_coverage(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = app.fresh().main.conn
    eager = query_terms(conn, "billing service timeout")
    monkeypatch.setattr(terms, "EAGER_POSTINGS", 0)
    lazy = query_terms(conn, "billing service timeout")
    assert lazy.df == eager.df == [3, 2, 2] and lazy.idf == eager.idf
    assert all(p is None for p in lazy.postings) and all(p is not None for p in eager.postings)
    keys = _keys(app)
    lazy.learn(keys[:2])  # the rest is looked up one at a time, on demand
    assert [coverage(lazy, k) for k in keys] == [coverage(eager, k) for k in keys]
    assert coverage(lazy, keys[0]) == 1.0 and coverage(lazy, keys[4]) == 0.0


def test_a_query_words_postings_are_recognised_either_way(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = app.fresh().main.conn
    keys = _keys(app)
    billing = frozenset([keys[0], keys[1], keys[5]])
    for eager in (1000, 0):
        monkeypatch.setattr(terms, "EAGER_POSTINGS", eager)
        query = query_terms(conn, "billing service")
        assert query.is_query_word(billing)
        assert not query.is_query_word(frozenset([keys[0], keys[1], keys[4]]))  # as many, not the same
        assert not query.is_query_word(frozenset([keys[0]]))


def test_whole_recalls_do_not_change(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    queries = ["billing service timeout", "who owns invoices", "gateway timeouts", "friday lunch billing"]
    before = [recall(app.fresh(), app.store, q).results for q in queries]
    monkeypatch.setattr(terms, "EAGER_POSTINGS", 0)
    after = [recall(app.fresh(), app.store, q).results for q in queries]
    assert [[(h.id, h.score, h.signals.keyword) for h in r] for r in after] == [
        [(h.id, h.score, h.signals.keyword) for h in r] for r in before
    ]
    assert any(h.signals.keyword > 0 for r in after for h in r)
