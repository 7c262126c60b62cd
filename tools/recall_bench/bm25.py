"""A stemmed BM25 baseline, independent of memman (no SQLite FTS).

Tokens: lowercase word characters, English stop words dropped, each stemmed by
`stem` (a small Porter-style suffix stripper). Scoring: Okapi BM25 with
k1 = 1.2, b = 0.75 and the Lucene idf log(1 + (N - df + 0.5) / (df + 0.5)).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

K1, B = 1.2, 0.75
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    s t don ll re ve m d""".split()
)
# (suffix, replacement, minimum stem length left), tried longest first; one step.
_RULES = (
    ("ational", "ate", 2), ("tional", "tion", 2), ("ization", "ize", 2), ("fulness", "ful", 2),
    ("iveness", "ive", 2), ("ousness", "ous", 2), ("ations", "ate", 2), ("ation", "ate", 2),
    ("ement", "", 3), ("ments", "", 3), ("ment", "", 3), ("ness", "", 3), ("ities", "ity", 2),
    ("ingly", "", 3), ("edly", "", 3), ("ies", "y", 2), ("ied", "y", 2), ("ing", "", 3),
    ("ers", "er", 3), ("ed", "", 3), ("ly", "", 3), ("es", "", 3), ("s", "", 3),
)


def stem(word: str) -> str:
    """A Porter-ish stem: one suffix rule, then a doubled final consonant
    undone (running -> run) and a trailing 'e' dropped, so bake and baked,
    reserve and reserved meet."""
    for suffix, repl, keep in _RULES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            word = word[: len(word) - len(suffix)] + repl
            if suffix in ("ing", "ed", "ingly", "edly") and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def tokens(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.casefold()) if w not in STOP]


class BM25:
    def __init__(self, keys: Sequence[str], texts: Sequence[str]) -> None:
        self.keys = list(keys)
        self.docs = [Counter(tokens(t)) for t in texts]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / max(len(self.docs), 1)
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.postings: dict[str, list[int]] = {}
        for i, d in enumerate(self.docs):
            for t in d:
                self.postings.setdefault(t, []).append(i)

    def search(self, query: str, limit: int = 10) -> list[str]:
        """The keys of the `limit` best documents (ties broken by key)."""
        scores: dict[int, float] = {}
        for t in set(tokens(query)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i in self.postings[t]:
                tf = self.docs[i][t]
                norm = tf + K1 * (1 - B + B * self.lengths[i] / self.avg)
                scores[i] = scores.get(i, 0.0) + idf * tf * (K1 + 1) / norm
        best = sorted(scores, key=lambda i: (-scores[i], self.keys[i]))[:limit]
        return [self.keys[i] for i in best]
