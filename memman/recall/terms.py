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

Cost in the store's size (issue 16: a warm recall bounded by caps, not by
the store): a document frequency is counted inside SQLite (a word of one
token read from the index's vocabulary, `projections/fts.py: word_count`,
about half the cost of counting its matches: 3.5 ms for "service" at 1M),
and no posting list is read. Which query words a candidate says is decided from the
candidate's own indexed text (`learn`): its three indexed columns, read by
key, go through the index's own tokenizer (projections/fts.py
`MemoryTokens`), and a word is said where its tokens follow each other in
one column, which is what an FTS5 phrase matches. The cost is the
candidates' (~150 rows), whatever the store's size: at 1M memories a
pass over "service"'s 237k postings per recall cost ~20 ms. Every count is
taken through `projections/fts.py: WordCounts`, which the warm server holds
per projection checkpoint (memman/recall/hybrid.py `_counts`): a word is
counted once per version of the store, and the keyword ranking scores with
the same counts (projections/bm25.py) instead of counting again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import apsw

from events.db import translated_errors
from projections.fts import WordCounts, fts_phrase, match_count
from projections.queries import terms

MAX_TERMS = 12


class QueryTerms:
    """The query's content words, their store frequencies, and which of them
    the memories looked at (by rowid) say."""

    def __init__(
        self, conn: apsw.Connection | None, words: list[str], df: list[int], memories: int,
        counts: WordCounts | None = None,
    ) -> None:  # fmt: skip
        self._conn = conn
        self.words = words  # content words of the query, in order
        self.df = df  # memories containing each word (stemmed, as FTS5 matches)
        self.idf = [math.log(1.0 + (memories - d + 0.5) / (d + 0.5)) for d in df]
        self.memories = memories  # N: rows in the index
        self.counts = counts or (WordCounts(conn) if conn is not None else None)
        self._tokens = self.counts.tokens if self.counts is not None and words else None
        self._phrases = [self._tokens.phrase(w) for w in words] if self._tokens else []
        self._said: dict[int, tuple[int, ...]] = {}  # rowid -> indexes of the words it says, ascending

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
        """Find out which query words each of `keys` says, from their indexed
        text (one read by key for all of them)."""
        new = [k for k in dict.fromkeys(keys) if k not in self._said]
        if not new:
            return
        said: dict[int, tuple[int, ...]] = dict.fromkeys(new, ())
        if self._tokens is not None:
            sought = [(i, p) for i, p in enumerate(self._phrases) if self.df[i] > 0]
            with translated_errors("projections.db"):
                rows = self._conn.execute(_TEXTS, (json.dumps(new),)) if sought else ()  # type: ignore[union-attr]
                for key, *columns in rows:
                    said[key] = self._tokens.said(columns, sought)
        self._said.update(said)

    def says(self, key: int) -> tuple[int, ...]:
        """Indexes (ascending) of the query words the memory with rowid `key` says."""
        if key not in self._said:
            self.learn((key,))
        return self._said[key]

    def count(self, word: str, cap: int) -> int:
        """Memories saying `word`, counted inside SQLite up to `cap` (cap + 1:
        more than that). Held with the query's counts (projections/fts.py
        `WordCounts`): the hop step's anchors share most of their words, and
        a word counted to a cap is not counted again for a lower one."""
        if word in self.words:
            return min(self.df[self.words.index(word)], cap + 1)
        if self.counts is None:
            return 0
        with translated_errors("projections.db"):
            return self.counts.upto(word, cap)

    def is_query_word(self, word: str, df: int) -> bool:
        """Whether the memories saying `word` (`df` of them) are exactly those
        saying one of the query's words: a query word in another form. Two
        lists of df rowids are the same when df memories say both words
        (counted inside SQLite, stopping past df)."""
        with translated_errors("projections.db"):
            for i, d in enumerate(self.df):
                if d == df and self._conn is not None:
                    if match_count(self._conn, f"{fts_phrase(word)} AND {fts_phrase(self.words[i])}", df + 1) == df:
                        return True
        return False


# CROSS JOIN: by key, in the order asked (SQLite may otherwise walk an index of `memories`)
_TEXTS = "SELECT m.key, m.content, m.entities, m.keywords FROM json_each(?) j CROSS JOIN memories m ON m.key = j.value"


def query_terms(
    conn: apsw.Connection, query: str, memories: int | None = None, counts: WordCounts | None = None
) -> QueryTerms:
    """The query's content words with their store frequencies (counted in
    SQLite); at most MAX_TERMS words. `memories`: the number of rows in the
    index, and `counts` the words' counts held so far, when the caller
    keeps them (the warm server per version of the store)."""
    words = terms(query)[:MAX_TERMS]
    with translated_errors("projections.db"):
        n = memory_count(conn) if memories is None else memories
        counts = counts or WordCounts(conn)
        df = [counts.exact(word) for word in words]
    return QueryTerms(conn, words, df, n, counts)


def memory_count(conn: apsw.Connection) -> int:
    """Rows of the memories projection (a walk of its smallest index: ~9 ms at 1M)."""
    return int(conn.execute("SELECT count(*) FROM memories").fetchone()[0])


def coverage(query: QueryTerms, key: int) -> float:
    """Share of the query's word weight that the memory with rowid `key`
    contains (0.0 for a query without content words); `query.learn` the
    candidates first to look them up together."""
    total = query.weight
    if total <= 0:
        return 0.0
    return sum(query.idf[i] for i in query.says(key)) / total
