"""Which earlier memories a new memory continues: `story` edges.

When the drain reads a memory that speaks a story family's words
(workers/stories/lexicon.py) or names a change, it links it to the up to
`cap` most recent earlier memories (within `days` before it occurred) that

- speak one of the same families ("I quit Stark Freight." -> "Kestrel Health
  offered me the position."), or name a problem the change may answer
  ("Manual auth deploys failed twice." -> "Moved auth onto the k8s cluster."),
- and are about the same subject: told by the same person (the "Name: "
  prefix a chat transcript gives each turn), or sharing a word that at most
  `subject_share` of the store says ("auth", "RabbitMQ"; not "today").

Edges point earlier -> later, weight 1, meta {"story": family or "cause",
"via": "teller" or the shared word}. They are part of the `edges.inferred`
event of the later memory, so a replay rebuilds them and `graph rebuild`
re-derives them under a new policy. Recall follows them from its best
matches (memman/recall/story.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import apsw

from events.clock import from_iso, to_iso
from events.types import Edge
from workers.pending import Pending
from workers.stories.lexicon import FAMILIES, PROBLEM, VOCABULARY, Told, told, words

_TELLER = re.compile(r"^([A-Z][\w.'-]{0,40}(?: [A-Z][\w.'-]{0,40})?):\s")
_STOP = frozenset(
    """the a an and or of to in on for with is are was were be been it this that we our they i my me you your he
    she his her him them their at by from as but not no so too very just again all any some now then than there
    here what when who how why which today yesterday tomorrow week weeks month year years day days after before
    over under into onto out up down off about still even really got get gets going go went""".split()
)
SCAN = 200  # earlier memories looked at per new memory, newest first


def teller(text: str) -> str | None:
    """Who says `text`, when it starts the way a transcript's turn does
    ("Dana: ..."), else None."""
    match = _TELLER.match(text)
    return match.group(1) if match else None


def _quoted(terms: list[str]) -> str:
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class StoryLinker:
    """Story edges of new memories against the projection plus `pending`."""

    def __init__(
        self, conn: apsw.Connection, pending: Pending, *, cap: int, days: int, subject_share: float,
        limit: Callable[[], int], total: Callable[[], int],
    ) -> None:  # fmt: skip
        self.conn = conn
        self.pending = pending
        self.cap = cap
        self.days = days
        self.subject_share = subject_share
        self._limit = limit
        self._total = total
        self._df: dict[str, int] = {}

    def links(self, memory_id: str, text: str, occurred_at: str, own: set[str]) -> list[Edge]:
        if self.cap <= 0:
            return []
        mine = told(text)
        if not mine.families and not mine.change:
            return []
        who = teller(text)
        since = to_iso(from_iso(occurred_at) - timedelta(days=self.days))
        found: list[tuple[str, str, str, str]] = []  # (occurred_at, id, story, via)
        for other, content, at in self._earlier(mine, who, since, occurred_at, own):
            story = self._story(mine, told(content))
            via = story and self._subject(text, who, content)
            if story and via:
                found.append((at, other, story, via))
        found.sort(key=lambda f: (f[0], f[1]), reverse=True)
        return [
            Edge(src=other, dst=memory_id, edge_type="story", weight=1.0, meta={"story": story, "via": via})
            for _, other, story, via in found[: self.cap]
        ]

    @staticmethod
    def _story(mine: Told, other: Told) -> str | None:
        shared = sorted(mine.families & other.families)
        if shared:
            return shared[0]
        return "cause" if mine.change and other.problem else None

    def _subject(self, text: str, who: str | None, other: str) -> str | None:
        if who is not None and teller(other) == who:
            return "teller"
        shared = sorted(
            {w for w in words(text) if len(w) > 2 and w not in _STOP and w not in VOCABULARY and not w.isdigit()}
            & set(words(other))
        )
        cap = max(2, int(self._total() * self.subject_share))
        rare = [w for w in shared if 0 < self._frequency(w) <= cap]
        return min(rare, key=lambda w: (self._frequency(w), w)) if rare else None

    def _frequency(self, word: str) -> int:
        df = self._df.get(word)
        if df is None:
            try:
                df = self.conn.execute(
                    "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", (_quoted([word]),)
                ).fetchone()[0]
            except apsw.SQLError:
                df = 0
            self._df[word] = df
        return df

    def _earlier(
        self, mine: Told, who: str | None, since: str, until: str, own: set[str]
    ) -> list[tuple[str, str, str]]:
        """(id, content, occurred_at) of the newest earlier active memories
        that may speak a family of `mine` (or a problem, for a change)."""
        terms: set[str] = set()
        for name in mine.families:
            terms |= FAMILIES[name][0] | set(FAMILIES[name][1])
        if mine.change:
            terms |= PROBLEM[0] | set(PROBLEM[1])
        query = f"({_quoted(sorted(terms))})"
        if who is not None and not mine.change:
            query = f"{_quoted([who])} AND {query}"
        rows = self.conn.execute(
            "SELECT m.id, m.content, m.occurred_at FROM memories_fts JOIN memories m ON m.key = memories_fts.rowid"
            " WHERE memories_fts MATCH ? AND memories_fts.rowid < ? AND m.status = 'active'"
            " ORDER BY memories_fts.rowid DESC LIMIT ?",
            (query, self._limit(), SCAN),
        ).fetchall()
        out = [(i, c, at) for i, c, at in rows if since <= at <= until]
        placed = {i: at for _, at, i in self.pending.placed}
        for i, known in self.pending.active.items():
            at = placed.get(i)
            if at is not None and since <= at <= until:
                out.append((i, known.content, at))
        unique = {i: (i, c, at) for i, c, at in out if i not in own and i not in self.pending.retired}
        return list(unique.values())


__all__ = ["StoryLinker", "teller"]
