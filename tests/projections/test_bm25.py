"""`memman_bm25` (projections/bm25.py) returns exactly what FTS5's own
`bm25()` returns, row by row, when given the phrases' document counts: the
capped keyword ranking (projections/queries.py) relies on the same scores,
not close ones. Compared on a drained store (entities and keywords indexed
too, so every column's weight counts) for single words, phrases, words no
memory says, repeats and the `(full) AND (rare)` form."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.service import Memman
from projections import bm25
from projections.fts import WordCounts, fts_any, fts_phrase
from projections.queries import _BM25, terms

TEXTS = [
    "Billing service timeout is forty seconds",
    "The billing team owns invoices; Priya leads the billing team",
    "Service meshes route every request through the service proxy",
    "Timeouts in the gateway are configurable per service",
    "Priya moved the API from Node.js to Go last spring",
    "Zoë's café serves crème brûlée at the Café Müller",
    "Priya prefers C++ and c# for the billing engine at Acme",
    "Postgres runs the billing database; Postgres replicas in Frankfurt",
    "Nothing about any of that here",
    *(f"The service handled request batch {n} for Acme without a timeout" for n in range(12)),
]
QUERIES = [
    "billing service timeout",
    "service",
    "priya billing team postgres",
    "node.js api",
    "café müller crème",
    "zorblax service billing",
    "c++ c# billing engine",
    "service service timeout",  # one word twice: terms() keeps it once
]


@pytest.fixture
def conn(data_dir: Path):  # type: ignore[no-untyped-def]
    with Memman(data_dir) as service:
        for text in TEXTS:
            service.remember(text)
        drain_all(data_dir)
        yield service.fresh().main.conn


def _both(conn, expression: str, words: list[str]) -> list[tuple[int, float, float]]:  # type: ignore[no-untyped-def]
    counts = WordCounts(conn)
    dfs = [counts.exact(w) for w in words]
    sql = f"SELECT rowid, {_BM25}, {bm25.call(len(dfs), 2)} FROM memories_fts WHERE memories_fts MATCH ?1"
    return conn.execute(sql, (expression, *dfs)).fetchall()


def test_the_store_indexes_every_column(conn) -> None:  # type: ignore[no-untyped-def]
    sizes = conn.execute("SELECT count(*) FROM memories WHERE entities != '[]'").fetchone()[0]
    assert sizes > 0  # the entities column is scored with its own weight


@pytest.mark.parametrize("query", QUERIES)
def test_the_same_score_as_fts5s_bm25_for_every_row(conn, query: str) -> None:  # type: ignore[no-untyped-def]
    words = terms(query)
    rows = _both(conn, fts_any(words), words)
    assert rows
    for _, own, given in rows:
        assert given == own  # the same double, not an approximation


def test_only_the_first_phrases_are_scored(conn) -> None:  # type: ignore[no-untyped-def]
    words = terms("billing service timeout")
    whole = {key: own for key, own, _ in _both(conn, fts_any(words), words)}
    rows = _both(conn, f"({fts_any(words)}) AND ({fts_phrase('timeout')})", words)
    assert rows and all(given == whole[key] for key, _, given in rows)


def test_a_phrase_of_several_tokens_and_a_word_no_memory_says(conn) -> None:  # type: ignore[no-untyped-def]
    words = ["node.js", "zorblax", "api"]
    counts = WordCounts(conn)
    assert counts.exact("zorblax") == 0 and counts.exact("node.js") == 1
    rows = _both(conn, fts_any(words), words)
    assert rows and all(given == own for _, own, given in rows)
