"""Query word frequencies and which memories say them (memman/recall/terms.py).
No posting list is read: which query words a candidate says is decided from
its indexed text with the index's own tokenizer. That must change nothing:
coverage, the hop step's "a query word in another form" check and the
memories each word matches come out as FTS5's own posting lists say."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.recall.terms import coverage, query_terms
from memman.service import Memman
from projections.fts import MEMORIES_TOKENIZER, fts_phrase

TEXTS = [
    "Billing service timeout is forty seconds",
    "The billing team owns invoices",
    "Service meshes route every request",
    "Timeouts in the gateway are configurable",
    "Nothing about any of that here",
    "Lunch with the billing team on Friday",
    "We moved the API from Node.js to Go last spring",
    "The node runs js files only; it has no Node.js runtime",
    "Zoë's café serves crème brûlée at the Café Müller",
    "Priya prefers C++ and c# for the billing engine",
    "Dana's e-mail says the cut-over is on the 3rd",
]
QUERIES = [
    "billing service timeout",
    "who owns invoices",
    "gateway timeouts",
    "node.js runtime",
    "js node",
    "cafe creme zoe",
    "Café Müller",
    "c++ c# billing",
    "dana e-mail cut-over",
    "friday lunch billing",
    "zorblax quintessor",
    "priya",
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


def _postings(conn, word: str) -> set[int]:  # type: ignore[no-untyped-def]
    return {r[0] for r in conn.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (fts_phrase(word),))}


def test_coverage_is_what_the_posting_lists_say(app: Memman) -> None:
    conn = app.fresh().main.conn
    keys = _keys(app)
    for text in QUERIES:
        query = query_terms(conn, text)
        postings = [_postings(conn, w) for w in query.words]
        assert query.df == [len(p) for p in postings]
        query.learn(keys[:3])  # the rest is looked up one at a time, on demand
        for key in keys:
            expected = sum(idf for idf, p in zip(query.idf, postings) if key in p) / query.weight
            assert coverage(query, key) == expected, (text, key)
    # the cases above are not all trivial: a phrase of two tokens, diacritics folded, a stem
    said = query_terms(conn, "node.js café timeouts")
    assert said.df == [2, 1, 2]


def test_a_phrase_is_said_only_with_its_tokens_in_order(app: Memman) -> None:
    conn = app.fresh().main.conn
    by_text = dict(zip(TEXTS, _keys(app)))
    query = query_terms(conn, "node.js")
    assert coverage(query, by_text[TEXTS[6]]) == 1.0
    assert coverage(query, by_text[TEXTS[7]]) == 1.0  # "Node.js runtime" at its end
    reversed_ = query_terms(conn, "js.node")  # both tokens in TEXTS[7], never in this order
    assert reversed_.df == [0] and coverage(reversed_, by_text[TEXTS[7]]) == 0.0


def test_a_query_words_memories_are_recognised(app: Memman) -> None:
    conn = app.fresh().main.conn
    query = query_terms(conn, "billing service")
    assert query.df == [4, 2]
    assert query.is_query_word("billing", 4)  # the same word
    assert not query.is_query_word("team", 2) and not query.is_query_word("service", 4)  # as many, not the same
    timeouts = query_terms(conn, "timeout gateway")
    assert timeouts.is_query_word("timeouts", 2)  # another form of a query word
    assert not timeouts.is_query_word("lunch", 1)  # as many as "gateway", other memories


def test_the_tokenizer_is_the_indexs(app: Memman) -> None:
    sql = app.fresh().main.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'memories_fts'").fetchone()[0]
    name, args = MEMORIES_TOKENIZER
    assert f"tokenize='{' '.join([name, *args])}'" in sql


def test_a_words_count_from_the_vocabulary_is_its_match_count(app: Memman) -> None:
    from projections.fts import MemoryTokens, match_count, word_count

    conn = app.fresh().main.conn
    tokens = MemoryTokens(conn)
    words = ["billing", "timeouts", "timeout", "node.js", "café", "CAFE", "c++", "e-mail", "zorblax", "the", "3rd", "priya's"]
    assert [word_count(conn, tokens, w) for w in words] == [match_count(conn, fts_phrase(w)) for w in words]
    assert word_count(conn, tokens, "billing") == 4 and word_count(conn, tokens, "zorblax") == 0


def test_counts_work_on_a_read_only_connection(app: Memman, data_dir: Path) -> None:
    import apsw

    from events.db import connect
    from projections.fts import MemoryTokens, word_count

    app.close()
    path = next(data_dir.rglob("projections.db"))
    conn = connect(path, readonly=True)
    assert isinstance(conn, apsw.Connection)
    assert word_count(conn, MemoryTokens(conn), "billing") == 4
    assert query_terms(conn, "billing service").df == [4, 2]


def test_held_counts_last_while_the_checkpoints_do(app: Memman, data_dir: Path) -> None:
    """The warm server holds each word's count per projection checkpoint
    (memman/recall/hybrid.py `_counts`): counted once, read from the held
    dict after that, and counted afresh once a memory changes the store."""
    from memman.recall.hybrid import _counts

    db = app.fresh()
    first = _counts(db, db.main.checkpoints())
    assert first.exact("billing") == 4 and first.upto("team", 0) == 1  # "team" stopped past a cap of 0
    again = _counts(db, db.main.checkpoints())
    assert again._held is first._held and again.upto("team", 5) == 2  # counted further than the held cap
    assert again._held["billing"] == (4, None)
    app.remember("The billing service pages the on-call team")
    drain_all(data_dir)
    db.catch_up()
    later = _counts(db, db.main.checkpoints())
    assert later._held is not first._held and later.exact("billing") == 5 and later.upto("team", 5) == 3


def test_held_counts_are_bounded(app: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    from projections import fts

    conn = app.fresh().main.conn
    held: dict = {}  # type: ignore[type-arg]
    counts = fts.WordCounts(conn, held=held)
    for word in ("billing", "service", "timeout"):
        counts.exact(word)
    monkeypatch.setattr(fts, "MAX_HELD", 2)
    assert fts.WordCounts(conn, held=held).exact("billing") == 4 and list(held) == ["billing"]  # started again

