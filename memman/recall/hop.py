"""Multi-hop across sessions: memories that share a rare word with a strong match.

Evidence about one thing is often told sessions apart, and the later telling
names it by a word the question does not use: "What does Sofia's sister do
for a living?" finds "Said goodbye to Caleb at the airport today, my sister
lives in Melbourne now.", and the answer is "Big week for Caleb: first shifts
as an architect." weeks later. The bridge is "Caleb": a word of the strong
match that the question does not say and that few memories of this store
contain. Session-neighbour expansion (memman/recall/expand.py) cannot reach
it (another day), the graph only where the drain linked the two.

For each of the TOP_ANCHORS best candidates, its bridge words are its
MAX_BRIDGES rarest content words that are not query words, that at least one
other memory says and that at most MAX_DF_SHARE of the store says (a
speaker's name or "today" is no bridge). The memories saying a bridge join
the candidates with a `hop` signal: the anchor's score relative to the best
one, times the share of that anchor's bridge weight (store IDF) they say.

A hop does not change any score. Ranked into the fused order it lifted
multi-hop all@10 but cost single facts and MRR on the benchmark's tuning
half: a hop from a wrong best match lands above the right one. So recall
(memman/recall/hybrid.py `_hop_slots`) gives hops the last places of the
shown list instead, the weakest results' (2 of 10), to the best reached
memories not already above: the evidence a question needs besides its best
match, at the price of the 9th and 10th results.
"""

from __future__ import annotations

import math

import apsw

from events.db import translated_errors
from memman.recall.terms import QueryTerms
from projections.fts import fts_phrase, match_count
from projections.queries import MEMORY_COLUMNS, MemoryRow, row_to_memory, terms

TOP_ANCHORS = 3
MAX_DF_SHARE = 0.005  # a bridge is said by at most 0.5% of the store's memories ...
MIN_MAX_DF = 4  # ... or by this many in a small store
MAX_BRIDGES = 3  # the rarest words of each anchor
MAX_PER_ANCHOR = 12  # memories brought in per anchor
MAX_WORDS = 12  # content words of an anchor looked at


def _bridges(conn: apsw.Connection, anchor: MemoryRow, query: QueryTerms) -> list[tuple[frozenset[int], float]]:
    """(keys of the other memories saying it, idf) of `anchor`'s bridge words,
    rarest first. Each word's memories are counted inside SQLite, cut at the
    cap (a common word costs no more than a rare one, whatever the store's
    size); only the rarest words' rowids are read, until MAX_BRIDGES of them
    proved not to be a query word in another form."""
    asked = set(query.words)
    cap = max(MIN_MAX_DF, int(query.memories * MAX_DF_SHARE))
    counted: list[tuple[int, int, str]] = []
    with translated_errors("projections.db"):
        for n, word in enumerate([w for w in terms(anchor.content) if w not in asked][:MAX_WORDS]):
            df = match_count(conn, fts_phrase(word), cap + 1)
            if 2 <= df <= cap:
                counted.append((df, n, word))
        found: list[tuple[frozenset[int], float]] = []
        for df, _, word in sorted(counted):  # rarest first; equal counts keep the anchor's word order
            keys = frozenset(r[0] for r in conn.execute(_ROWIDS, (fts_phrase(word),)))
            if query.is_query_word(keys):
                continue
            idf = math.log(1.0 + (query.memories - len(keys) + 0.5) / (len(keys) + 0.5))
            found.append((keys - {anchor.key}, idf))
            if len(found) == MAX_BRIDGES:
                break
    return found


_ROWIDS = "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?"


def shared_rare_words(
    conn: apsw.Connection, anchors: list[tuple[MemoryRow, float]], query: QueryTerms
) -> tuple[dict[str, float], dict[str, MemoryRow]]:
    """(memory id -> hop value, active memories found this way) for the
    TOP_ANCHORS best `anchors`."""
    best: dict[str, float] = {}
    found: dict[str, MemoryRow] = {}
    top = max((a for _, a in anchors), default=0.0)
    for anchor, score in sorted(anchors, key=lambda a: -a[1])[:TOP_ANCHORS]:
        score = score / top if top > 0 else 0.0
        bridges = _bridges(conn, anchor, query)
        total = sum(idf for _, idf in bridges)
        if total <= 0:
            continue
        said: dict[int, float] = {}
        for postings, idf in bridges:
            for key in postings:
                said[key] = said.get(key, 0.0) + idf / total
        keys = sorted(said, key=lambda k: (-said[k], k))[:MAX_PER_ANCHOR]
        if not keys:
            continue
        rows = conn.execute(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE key IN ({','.join('?' * len(keys))}) AND status = 'active'",
            tuple(keys),
        ).fetchall()
        for raw in rows:
            row = row_to_memory(raw)
            found.setdefault(row.id, row)
            best[row.id] = max(best.get(row.id, 0.0), score * said[row.key])
    return best, found
