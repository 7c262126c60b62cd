"""The reconciler's keyword probe: which active memories share a new fact's
rarest words, at a cost that does not grow with the store.

An OR of every word of a fact, bm25-ranked, scores every memory holding any
of them: at 100k memories a common word matches tens of thousands of rows
and one probe cost ~7.5 ms (bm25 reads each row's size as well). Here each
word's document frequency is read once per drain (cached: the drain's own
additions only make it lag, and it only orders the words), the words are
taken rarest first while their matches add up to at most `budget` rows, and
the rows holding them are scored by the summed IDF of the words they share
(bm25 without its length and frequency terms: facts are one sentence), newest
first on ties; then the best 64 are checked for being active. Each word's
holders are read once while the index is unchanged: the facts of one drain
chunk are probed before any of its events land, and they share many words
(0.68 -> 0.21 ms per probe at 10k once read). A fact whose
rarest word is still common reads only that word's newest `budget` holders;
its near-duplicates are vector neighbours anyway.

Text in CJK or other unspaced scripts goes through the general
`keyword_search` (trigram index), as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import apsw
import numpy as np  # the drain's (workers/derive.py), never recall's

from events.db import translated_errors
from projections import scripts
from projections.fts import fts_phrase, match_count
from projections.queries import keyword_search, terms
from workers.stages.stamp import stamp

BUDGET = 1000  # index rows a probe may read
MAX_WORDS = 8
SHORTLIST = 64  # best-scored rows checked for being active (a probe wants 5)
POSTINGS_LIMIT = 4096  # words whose holders are remembered (cleared whenever the database changes anyway)
CACHE_LIMIT = 200_000  # words whose frequency is remembered (a drain of a huge backlog clears it when full)


class KeywordProbe:
    def __init__(self, conn: apsw.Connection, budget: int = BUDGET) -> None:
        self.conn = conn
        self.budget = budget
        self._df: dict[str, int] = {}
        self._total: int | None = None
        self._postings: dict[str, np.ndarray] = {}  # word -> its newest holders (`_holders`)
        self._stamp: tuple[int, int] | None = None  # (changes, data_version) the postings were read at

    def frequency(self, word: str) -> int:
        """How many memories (any status) hold `word`; cached."""
        df = self._df.get(word)
        if df is None:
            if len(self._df) >= CACHE_LIMIT:
                self._df.clear()
            try:
                df = match_count(self.conn, fts_phrase(word))
            except apsw.SQLError:  # a word FTS cannot parse matches nothing
                df = 0
            self._df[word] = df
        return df

    def total(self) -> int:
        if self._total is None:
            self._total = self.conn.execute("SELECT count(*) FROM memories").fetchone()[0]
        return self._total

    def search(self, text: str, *, limit: int, exclude: Sequence[str]) -> list[str]:
        """Ids of up to `limit` active memories sharing `text`'s rarest words,
        best first: by the summed rarity (IDF) of the words they share, then
        newest first."""
        if not text:
            return []
        long, short = scripts.wide_terms(text)
        if long or short:
            return [i for i, _ in keyword_search(self.conn, text, limit=limit, statuses=("active",), exclude=exclude)]
        words = sorted((self.frequency(w), w) for w in terms(text)[:MAX_WORDS])
        words = [(df, w) for df, w in words if df > 0]
        if not words:
            return []
        chosen, rows = [], 0
        for df, word in words:
            if rows and rows + df > self.budget:
                break
            chosen.append((df, word))
            rows += min(df, self.budget)  # even the rarest word reads at most `budget` rows: its newest
        return self._ranked(chosen, limit, exclude)

    def _ranked(self, chosen: list[tuple[int, str]], limit: int, exclude: Sequence[str]) -> list[str]:
        """Each chosen word's newest holders (at most `budget`), summed IDF
        per row, the best `SHORTLIST` rows, then the active ones.

        The holders are read once per word while the index is unchanged
        (`_holders`): a drain's chunk probes many facts sharing words before
        its events land. Scores are summed in the order of `chosen`, as the
        single statement this replaces did (tests/workers/test_probe.py)."""
        total = max(self.total(), 1)
        self._forget_if_changed()
        holders = [self._holders(word) for _, word in chosen]
        if not any(len(h) for h in holders):
            return []
        if len(holders) == 1:  # one weight for every row: newest first, as read
            return self._active(holders[0][:SHORTLIST].tolist(), limit, set(exclude))
        weights = [math.log((total + 1) / (df + 0.5)) for df, _ in chosen]
        rows = np.concatenate(holders)
        keys, slot = np.unique(rows, return_inverse=True)
        # bincount adds in row order: each key's words in the order of `chosen`
        scores = np.bincount(slot, weights=np.repeat(weights, [len(h) for h in holders]))
        order = np.lexsort((-keys, -scores))[:SHORTLIST]  # best score first, then newest
        return self._active(keys[order].tolist(), limit, set(exclude))

    def _active(self, keys: list[int], limit: int, skip: set[str]) -> list[str]:
        """The first `limit` of `keys` that are active memories not in `skip`,
        in order, looked up a few at a time (most of the best are active)."""
        found: list[str] = []
        start, step = 0, limit + len(skip)
        while start < len(keys) and len(found) < limit:
            batch = keys[start : start + step]
            with translated_errors("projections.db"):
                rows = dict(
                    self.conn.execute(
                        f"SELECT key, id FROM memories WHERE key IN ({','.join('?' * len(batch))}) AND +status = 'active'",
                        batch,
                    ).fetchall()
                )
            found += [i for key in batch if (i := rows.get(key)) is not None and i not in skip]
            start, step = start + step, step * 2
        return found[:limit]

    def _holders(self, word: str) -> np.ndarray:
        """The rowids of `word`'s newest `budget` holders, newest first;
        remembered while the database is unchanged (`_forget_if_changed`)."""
        keys = self._postings.get(word)
        if keys is None:
            if len(self._postings) >= POSTINGS_LIMIT:
                self._postings.clear()
            with translated_errors("projections.db"):
                found = self.conn.execute(
                    "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                    (fts_phrase(word), self.budget),
                ).fetchall()
            keys = self._postings[word] = np.array([r[0] for r in found], dtype=np.int64)
        return keys

    def _forget_if_changed(self) -> None:
        """Drop the remembered holders once this connection (a catch-up) or
        another process has written to the database since they were read."""
        now = stamp(self.conn)
        if now != self._stamp:
            self._postings.clear()
            self._stamp = now
