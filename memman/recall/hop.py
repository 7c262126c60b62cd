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

Cost in the store's size (issue 16): every read is capped inside SQLite.
An anchor's words are counted up to the bridge cap, a bridge that is a
query word in another form is told by one capped count of both words, and
the memories brought in are read per set of bridges, the first few keys of
each (`_reached`), never a bridge's whole posting list (up to 0.5% of the
store: 5,000 rowids per word at 1M).
"""

from __future__ import annotations

import itertools
import math

import apsw

from events.db import translated_errors
from memman.recall.terms import QueryTerms
from projections.fts import fts_any, fts_phrase
from projections.queries import MEMORY_COLUMNS, MemoryRow, row_to_memory, terms

TOP_ANCHORS = 3
MAX_DF_SHARE = 0.005  # a bridge is said by at most 0.5% of the store's memories ...
MIN_MAX_DF = 4  # ... or by this many in a small store
MAX_BRIDGES = 3  # the rarest words of each anchor
MAX_PER_ANCHOR = 12  # memories brought in per anchor
MAX_WORDS = 12  # content words of an anchor looked at
FIRST_CAP = 64  # counted this far first (_bridges)


def _bridges(conn: apsw.Connection, anchor: MemoryRow, query: QueryTerms) -> list[tuple[str, float]]:
    """(word, idf) of `anchor`'s bridge words, rarest first. Each word's
    memories are counted inside SQLite, cut at a cap (a common word costs
    no more than a rare one, whatever the store's size); no rowid is read.
    Counted to FIRST_CAP first: when three bridges say fewer, every other
    word says more than they do, and only those counts were needed."""
    asked = set(query.words)
    cap = max(MIN_MAX_DF, int(query.memories * MAX_DF_SHARE))
    words = [w for w in terms(anchor.content) if w not in asked][:MAX_WORDS]
    found: list[tuple[str, float]] = []
    for upto in sorted({min(FIRST_CAP, cap), cap}):
        counted = [(query.count(word, upto), n, word) for n, word in enumerate(words)]
        found = []
        for df, _, word in sorted(counted):  # rarest first; equal counts keep the anchor's word order
            if df > upto or len(found) == MAX_BRIDGES:
                break
            if df < 2 or query.is_query_word(word, df):
                continue
            found.append((word, math.log(1.0 + (query.memories - df + 0.5) / (df + 0.5))))
        if len(found) == MAX_BRIDGES:
            break
    return found


_FIRST = "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid LIMIT ?"


def _reached(conn: apsw.Connection, anchor: int, bridges: list[tuple[str, float]]) -> dict[int, float]:
    """The MAX_PER_ANCHOR memories (rowid -> the share of the bridges'
    weight they say) that say the most of it, ties to the oldest key, the
    anchor left out. Read without reading any bridge's posting list whole:
    for each set of bridges (at most 7), the first keys of the memories
    saying exactly those (`(a AND b) NOT (c)`, in rowid order, cut at the
    cap inside SQLite). The best of all memories in that order is a prefix
    of each such set's, so these few keys hold it, and each sums its shares
    in the bridges' order, as a walk over every posting list would."""
    total = sum(idf for _, idf in bridges)
    said: dict[int, float] = {}
    with translated_errors("projections.db"):
        for size in range(1, len(bridges) + 1):
            for chosen in itertools.combinations(range(len(bridges)), size):
                has = " AND ".join(fts_phrase(bridges[i][0]) for i in chosen)
                others = fts_any([w for i, (w, _) in enumerate(bridges) if i not in chosen])
                expression = f"({has}) NOT ({others})" if others else has
                share = 0.0
                for i in chosen:
                    share += bridges[i][1] / total
                for (key,) in conn.execute(_FIRST, (expression, MAX_PER_ANCHOR + 1)):
                    if key != anchor:
                        said[key] = share
    return dict(sorted(said.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PER_ANCHOR])


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
        if sum(idf for _, idf in bridges) <= 0:
            continue
        said = _reached(conn, anchor.key, bridges)
        if not said:
            continue
        keys = list(said)
        rows = conn.execute(  # `+status`: by key; on `status = ?` SQLite walked every active row (~120 ms at 1M)
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE key IN ({','.join('?' * len(keys))}) AND +status = 'active'",
            tuple(keys),
        ).fetchall()
        for raw in rows:
            row = row_to_memory(raw)
            found.setdefault(row.id, row)
            best[row.id] = max(best.get(row.id, 0.0), score * said[row.key])
    return best, found
