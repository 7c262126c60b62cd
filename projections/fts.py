"""FTS5 query text built from plain words, match counts (held per version
of the index by `WordCounts`), and the index's tokens of a memory's text.

Every caller that turns a word into an FTS5 expression quotes it the same
way (a phrase in double quotes, inner quotes doubled), so a word FTS5 would
read as syntax ("AND", "NEAR", a stray quote) is matched as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import apsw


def fts_phrase(word: str) -> str:
    """`word` as one FTS5 phrase."""
    return '"' + word.replace('"', '""') + '"'


def fts_any(words: Iterable[str]) -> str:
    """An FTS5 expression matching any of `words` ("" for none)."""
    return " OR ".join(map(fts_phrase, words))


def match_count(conn: apsw.Connection, expression: str, cap: int | None = None) -> int:
    """Memories matching `expression`, counted inside SQLite, stopping at `cap`
    (without a cap, a plain count: the capped subquery costs ~25% more per
    matching row)."""
    if cap is None:
        return int(conn.execute(_COUNT, (expression,)).fetchone()[0])
    return int(conn.execute(_COUNT_CAPPED, (expression, cap)).fetchone()[0])


def word_count(conn: apsw.Connection, tokens: MemoryTokens, word: str) -> int:
    """Memories saying `word`, exactly: a word of one token from the index's
    own vocabulary (an fts5vocab table over it, in this connection's temp
    schema: about half the cost of counting a MATCH, which decodes every
    matching row's positions), a phrase by counting its matches."""
    phrase = tokens.phrase(word)
    if len(phrase) != 1:
        return match_count(conn, fts_phrase(word))
    conn.execute(_VOCAB)  # once per connection; after that a no-op
    row = conn.execute("SELECT doc FROM temp.memories_fts_rows WHERE term = ?", (phrase[0],)).fetchone()
    return int(row[0]) if row else 0


class WordCounts:
    """Memories saying each word, counted inside SQLite once and then held
    in `held`: the caller keeps that dict for as long as the index does not
    change (the warm server per projection checkpoint, as the memories
    count: memman/recall/hybrid.py), so a word's count is taken once per
    version of the store rather than once per statement that needs it.
    Entries are (count, cap): `cap` None for an exact count, else the count
    stopped at cap + 1."""

    def __init__(self, conn: apsw.Connection, tokens: MemoryTokens | None = None, held: dict | None = None) -> None:  # type: ignore[type-arg]
        self._conn = conn
        self.tokens = tokens or MemoryTokens(conn)
        self._held: dict[str, tuple[int, int | None]] = {} if held is None else held
        if len(self._held) > MAX_HELD:  # a long-lived server between two drains: bounded
            self._held.clear()

    def exact(self, word: str) -> int:
        """Memories saying `word` (`word_count`)."""
        held = self._held.get(word)
        if held is not None and (held[1] is None or held[0] <= held[1]):
            return held[0]
        found = word_count(self._conn, self.tokens, word)
        self._held[word] = (found, None)
        return found

    def upto(self, word: str, cap: int) -> int:
        """Memories saying `word`, counted no further than cap + 1."""
        held = self._held.get(word)
        if held is not None and (held[1] is None or held[0] <= held[1] or held[1] >= cap):
            return min(held[0], cap + 1)
        found = match_count(self._conn, fts_phrase(word), cap + 1)
        self._held[word] = (found, cap)
        return found


MAX_HELD = 100_000  # words held by one WordCounts dict (~10 MB) before it starts again
_VOCAB = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.memories_fts_rows USING fts5vocab(main, 'memories_fts', 'row')"
_COUNT = "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?"
_COUNT_CAPPED = "SELECT count(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)"


# The tokenizer of `memories_fts` (projections/memories.py), as FTS5 names it:
# tests/projections/test_fts_tokens.py checks the two agree.
MEMORIES_TOKENIZER = ("porter", ("unicode61", "remove_diacritics", "2"))


class MemoryTokens:
    """Whether a memory's indexed text says a word, decided as FTS5 would:
    the word and each indexed column go through the index's own tokenizer,
    and a phrase matches where its tokens follow each other in one column.
    For a handful of rows this costs less than a pass over a common word's
    posting list (memman/recall/terms.py)."""

    def __init__(self, conn: apsw.Connection) -> None:
        name, args = MEMORIES_TOKENIZER
        self._tokenize = conn.fts5_tokenizer(name, list(args))

    def tokens(self, text: str, reason: int) -> list[str]:
        return self._tokenize(text.encode("utf-8"), reason, None, include_offsets=False, include_colocated=False)

    def phrase(self, word: str) -> tuple[str, ...]:
        """`word`'s tokens as an FTS5 phrase of it matches them."""
        return tuple(self.tokens(word, apsw.FTS5_TOKENIZE_QUERY))

    def said(self, columns: Sequence[str], phrases: Sequence[tuple[int, tuple[str, ...]]]) -> tuple[int, ...]:
        """The indexes (ascending) of `phrases` ((index, tokens) pairs) said in
        one of `columns` (a memory's indexed texts, in the index's order)."""
        found: list[int] = []
        streams = [self.tokens(text, apsw.FTS5_TOKENIZE_DOCUMENT) for text in columns if text]
        bags = [set(stream) for stream in streams]
        for index, phrase in phrases:
            if phrase and any(_contains(stream, bag, phrase) for stream, bag in zip(streams, bags)):
                found.append(index)
        return tuple(found)


def _contains(stream: list[str], bag: set[str], phrase: tuple[str, ...]) -> bool:
    """Whether `phrase`'s tokens follow each other somewhere in `stream` (`bag`: its tokens as a set)."""
    if not bag.issuperset(phrase):
        return False
    if len(phrase) == 1:
        return True
    n = len(phrase)
    return any(token == phrase[0] and tuple(stream[i : i + n]) == phrase for i, token in enumerate(stream))
