"""How rare each query word is in this store, and which of them a memory says.

Both come from the FTS5 index of the memories projection, so they are
store-adaptive and as replay-stable as the index itself: a document
frequency is the number of memories whose text (or entities, or enrichment
keywords) contains the word's stem, and a word's weight is its BM25 inverse
document frequency, ln(1 + (N - df + 0.5) / (df + 0.5)). A name that most
memories mention weighs little; a word the store has never seen weighs most.

`coverage` is the share of the query's weight a memory contains: 1.0 when
it says every query word, 0.0 when it says none. Unlike a bm25 value it
means the same in every store and for every query, which is what the
calibrated score (memman/recall/fusion.py) needs.

Cost in the store's size (issue 16: a warm recall nearly flat in it): a
document frequency is counted inside SQLite, and only a rare word's whole
posting list (at most EAGER_POSTINGS rowids) becomes a Python set. Which
candidates a common word's memories are is looked up for the candidates
only (`learn`): one pass over its posting list inside SQLite, filtered by
the candidates' rowids, instead of 25k rowids of "service" at 100k
memories built into a Python set on every recall.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import apsw

from events.db import translated_errors
from projections.fts import fts_phrase, match_count
from projections.queries import terms

MAX_TERMS = 12
EAGER_POSTINGS = 256  # a word this rare is read whole; a commoner one only for the candidates


class QueryTerms:
    """The query's content words, their store frequencies, and which memories
    (by rowid) say each word: all of them for a rare word, the looked-up
    candidates for a common one."""

    def __init__(
        self, conn: apsw.Connection | None, words: list[str], df: list[int], memories: int,
        postings: list[frozenset[int] | None],
    ) -> None:  # fmt: skip
        self._conn = conn
        self.words = words  # content words of the query, in order
        self.df = df  # memories containing each word (stemmed, as FTS5 matches)
        self.idf = [math.log(1.0 + (memories - d + 0.5) / (d + 0.5)) for d in df]
        self.memories = memories  # N: rows in the index
        self.postings = postings  # the whole posting list of a rare word, None for a common one
        self._looked: set[int] = set()  # rowids whose common words are known
        self._said: list[set[int]] = [set() for _ in words]  # of those, the ones saying each common word

    @property
    def weight(self) -> float:
        return sum(self.idf)

    def known(self) -> float:
        """Share of the query's content words this store has ever seen (1.0
        for a query with no content words: nothing to judge it by)."""
        return sum(1 for d in self.df if d > 0) / len(self.df) if self.df else 1.0

    def weighted(self) -> list[tuple[str, float]]:
        return list(zip(self.words, self.idf, strict=True))

    def learn(self, keys: Iterable[int]) -> None:
        """Look up which of `keys` say each common word (one pass per word
        over its posting list, inside SQLite, kept to `keys`)."""
        new = [k for k in dict.fromkeys(keys) if k not in self._looked]
        if not new:
            return
        self._looked.update(new)
        if self._conn is None:
            return
        wanted = json.dumps(new)
        with translated_errors("projections.db"):
            for i, word in enumerate(self.words):
                if self.postings[i] is None:  # `+rowid`: filter while scanning; a pushed-down IN seeks per key (~50 µs each)
                    sql = "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? AND +rowid IN (SELECT value FROM json_each(?))"
                    self._said[i].update(r[0] for r in self._conn.execute(sql, (fts_phrase(word), wanted)))

    def is_query_word(self, keys: frozenset[int]) -> bool:
        """Whether `keys` is exactly the posting list of one of the query's
        words (a word of a memory that is a query word in another form)."""
        for i, df in enumerate(self.df):
            if df != len(keys):
                continue
            if self.postings[i] is not None:
                if self.postings[i] == keys:
                    return True
                continue
            self.learn(keys)
            if keys <= self._said[i]:  # as many as df and all of them say it: the same list
                return True
        return False


def query_terms(conn: apsw.Connection, query: str) -> QueryTerms:
    """The query's content words with their store frequencies (counted in
    SQLite) and the postings of the rare ones; at most MAX_TERMS words."""
    words = terms(query)[:MAX_TERMS]
    df: list[int] = []
    postings: list[frozenset[int] | None] = []
    with translated_errors("projections.db"):
        n = conn.execute("SELECT count(*) FROM memories").fetchone()[0]
        for word in words:
            count = match_count(conn, fts_phrase(word))
            df.append(count)
            if count <= EAGER_POSTINGS:
                rows = conn.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (fts_phrase(word),))
                postings.append(frozenset(r[0] for r in rows))
            else:
                postings.append(None)
    return QueryTerms(conn, words, df, n, postings)


def coverage(query: QueryTerms, key: int) -> float:
    """Share of the query's word weight that the memory with rowid `key`
    contains (0.0 for a query without content words); `query.learn` the
    candidates first to look them up together."""
    total = query.weight
    if total <= 0:
        return 0.0
    if key not in query._looked:
        query.learn((key,))
    return sum(idf for idf, p, said in zip(query.idf, query.postings, query._said) if key in (said if p is None else p)) / total
