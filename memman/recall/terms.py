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
"""

from __future__ import annotations

import math
import apsw
import msgspec

from events.db import translated_errors
from projections.queries import terms

MAX_TERMS = 12


class QueryTerms(msgspec.Struct, frozen=True, kw_only=True):
    words: list[str]  # content words of the query, in order
    df: list[int]  # memories containing each word (stemmed, as FTS5 matches)
    idf: list[float]
    memories: int  # N: rows in the index
    postings: list[frozenset[int]]  # rowids of the memories containing each word

    @property
    def weight(self) -> float:
        return sum(self.idf)

    def known(self) -> float:
        """Share of the query's content words this store has ever seen (1.0
        for a query with no content words: nothing to judge it by)."""
        return sum(1 for d in self.df if d > 0) / len(self.df) if self.df else 1.0

    def weighted(self) -> list[tuple[str, float]]:
        return list(zip(self.words, self.idf, strict=True))


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def query_terms(conn: apsw.Connection, query: str) -> QueryTerms:
    """The query's content words with their store frequencies and postings
    (one FTS5 lookup per word; at most MAX_TERMS words)."""
    words = terms(query)[:MAX_TERMS]
    with translated_errors("projections.db"):
        n = conn.execute("SELECT count(*) FROM memories").fetchone()[0]
        postings = [
            frozenset(r[0] for r in conn.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (_phrase(w),)))
            for w in words
        ]
    df = [len(p) for p in postings]
    idf = [math.log(1.0 + (n - d + 0.5) / (d + 0.5)) for d in df]
    return QueryTerms(words=words, df=df, idf=idf, memories=n, postings=postings)


def coverage(query: QueryTerms, key: int) -> float:
    """Share of the query's word weight that the memory with rowid `key`
    contains (0.0 for a query without content words)."""
    total = query.weight
    if total <= 0:
        return 0.0
    return sum(i for i, p in zip(query.idf, query.postings, strict=True) if key in p) / total
