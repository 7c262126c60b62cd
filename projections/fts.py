"""FTS5 query text built from plain words, and match counts.

Every caller that turns a word into an FTS5 expression quotes it the same
way (a phrase in double quotes, inner quotes doubled), so a word FTS5 would
read as syntax ("AND", "NEAR", a stray quote) is matched as text.
"""

from __future__ import annotations

from collections.abc import Iterable

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


_COUNT = "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?"
_COUNT_CAPPED = "SELECT count(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)"
