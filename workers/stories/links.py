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

Edges point earlier -> later, weight FAMILY_WEIGHT (1 for a name), meta {"story": family or "cause",
"via": "teller" or the shared word}. A person's later telling that names the
rare name an earlier one of theirs did ("We named him Bean." ... "Bean
learned to open the fridge.") is linked too (story "name"). They are part of the `edges.inferred`
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
from projections.fts import fts_any, fts_phrase, match_count
from workers.pending import Pending
from workers.stories.lexicon import FAMILIES, PROBLEM, VOCABULARY, Told, told_words, words

_TELLER = re.compile(r"^([A-Z][\w.'-]{0,40}(?: [A-Z][\w.'-]{0,40})?):\s")
_STOP = frozenset(
    """the a an and or of to in on for with is are was were be been it this that we our they i my me you your he
    she his her him them their at by from as but not no so too very just again all any some now then than there
    here what when who how why which today yesterday tomorrow week weeks month year years day days after before
    over under into onto out up down off about still even really got get gets going go went""".split()
)
SCAN = 80  # earlier memories looked at per new memory, newest first
RARE_SHARE = 0.005  # a name said by at most 0.5% of the store's memories ...
MIN_RARE = 4  # ... or by this many in a small store, is one thing's name (as memman/recall/hop.py)
NAMES = 2  # the rarest names of a memory followed back
# A family or cause link weighs less than a name link: a family word is said
# in chatter too ("My boss is on vacation"), a rare name is one thing's. On
# the tuning half (weight 1.0 / 0.8 / 0.6 / 0.4): multi-hop all@10 0.796 /
# 0.796 / 0.807 / 0.779, the rest equal but inference 0.663 at 1.0.
FAMILY_WEIGHT = 0.6
NAME_SCAN = 200  # index matches read to count a name exactly
SAID_LIMIT = 200_000  # texts whose words are remembered (cleared when full: a pure function of the text)


def teller(text: str) -> str | None:
    """Who says `text`, when it starts the way a transcript's turn does
    ("Dana: ..."), else None."""
    match = _TELLER.match(text)
    return match.group(1) if match else None


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
        self._told: dict[str, Told] = {}  # memory id -> its vocabulary, for the life of one drain
        self._said: dict[str, frozenset[str]] = {}  # a text -> its words (a pure function of the text)

    def links(self, memory_id: str, text: str, entities: list[str], occurred_at: str, own: set[str]) -> list[Edge]:
        if self.cap <= 0:
            return []
        mine = told_words(words(text))
        who = teller(text)
        since = to_iso(from_iso(occurred_at) - timedelta(days=self.days))
        found: dict[str, tuple[str, str, str]] = {}  # id -> (occurred_at, story, via)
        if mine.families or mine.change:
            # `text`'s subjects, read once and only when first needed (a word's count, once read, is kept
            # for the drain: reading it earlier than needed would change what later memories see)
            subjects = _Once(lambda: self._subjects(text))
            for other, content, at in self._earlier(mine, who, subjects, since, occurred_at, own):
                known, said = self._vocabulary(other, content)
                story = self._story(mine, known)
                via = story and self._subject(who, subjects, content, said)
                if story and via:
                    found[other] = (at, story, via)
        chosen = dict(sorted(found.items(), key=lambda f: (f[1][0], f[0]), reverse=True)[: self.cap])
        if who is not None:  # names have places of their own: a family's chatter must not crowd them out
            named = self._named(entities, who, since, occurred_at, own)
            for other, (at, name) in sorted(named.items(), key=lambda f: (f[1][0], f[0]), reverse=True)[: self.cap]:
                chosen.setdefault(other, (at, "name", name))
        return [
            Edge(
                src=other, dst=memory_id, edge_type="story", weight=1.0 if story == "name" else FAMILY_WEIGHT,
                meta={"story": story, "via": via},
            )
            for other, (_, story, via) in chosen.items()
        ]

    def _named(
        self, entities: list[str], who: str, since: str, until: str, own: set[str]
    ) -> dict[str, tuple[str, str]]:
        """id -> (occurred_at, name) of the same teller's earlier memories that
        name one of the NAMES rarest names of `entities` ("We named him Bean."
        ... "Bean learned to open the fridge.")."""
        cap = max(MIN_RARE, int(self._total() * RARE_SHARE))
        names = {n for n in entities if n != who and n.casefold() != who.casefold() and not any(c.isdigit() for c in n)}
        rare = sorted((df, n) for n in names if 0 < (df := self._name_frequency(n, cap) + self._pending_saying(n)) <= cap)
        out: dict[str, tuple[str, str]] = {}
        for _, name in rare[:NAMES]:
            try:
                rows = self.conn.execute(
                    "SELECT m.id, m.content, m.occurred_at FROM memories_fts JOIN memories m ON m.key = memories_fts.rowid"
                    " WHERE memories_fts MATCH ? AND memories_fts.rowid < ? AND m.status = 'active'"
                    " ORDER BY memories_fts.rowid DESC LIMIT ?",
                    (f"{fts_phrase(who)} AND {fts_phrase(name)}", self._limit(), cap + 1),
                ).fetchall()
            except apsw.SQLError:
                continue  # a name FTS cannot parse links nothing
            rows += self._pending_rows(since, until)
            for other, content, at in rows:
                if since <= at <= until and other not in own and other not in self.pending.retired \
                        and teller(content) == who and name.casefold() in content.casefold():
                    out.setdefault(other, (at, name))
        return out

    def _name_frequency(self, name: str, cap: int) -> int:
        """How many memories say `name` as a whole word (more than `cap`:
        some number above it). Counted exactly: FTS5's porter stemmer makes
        a name match other words ("Ines" matches "in"), so its own count
        would call the name common."""
        key = "\0" + name
        df = self._df.get(key)
        if df is None:
            exact = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
            try:
                rows = self.conn.execute(
                    "SELECT m.content FROM memories_fts JOIN memories m ON m.key = memories_fts.rowid"
                    " WHERE memories_fts MATCH ? LIMIT ?",
                    (fts_phrase(name), NAME_SCAN),
                ).fetchall()
            except apsw.SQLError:
                rows = []
            df = sum(1 for (content,) in rows if exact.search(content))
            df = df if len(rows) < NAME_SCAN or df > cap else cap + 1  # a name the scan could not finish is common
            self._df[key] = df
        return df

    def _pending_saying(self, name: str) -> int:
        folded = name.casefold()
        return sum(1 for k in self.pending.active.values() if folded in k.content.casefold())

    def _pending_rows(self, since: str, until: str) -> list[tuple[str, str, str]]:
        placed = {i: at for _, at, i in self.pending.placed}
        return [
            (i, k.content, at) for i, k in self.pending.active.items()
            if (at := placed.get(i)) is not None and since <= at <= until
        ]  # fmt: skip

    @staticmethod
    def _story(mine: Told, other: Told) -> str | None:
        shared = sorted(mine.families & other.families)
        if shared:
            return shared[0]
        return "cause" if mine.change and other.problem else None

    def _vocabulary(self, memory_id: str, content: str) -> tuple[Told, frozenset[str]]:
        """What story vocabulary a memory speaks (read once per drain, as its
        first text said it) and the words of its text now."""
        said = self._said.get(content)
        if said is None:
            if len(self._said) >= SAID_LIMIT:
                self._said.clear()
            listed = words(content)
            said = self._said[content] = frozenset(listed)
            if memory_id not in self._told:
                self._told[memory_id] = told_words(listed)
        known = self._told.get(memory_id)
        if known is None:
            known = self._told[memory_id] = told_words(words(content))
        return known, said

    @staticmethod
    def _subject(who: str | None, subjects: _Once, other: str, said: frozenset[str]) -> str | None:
        """How an earlier memory (`other`, its words `said`) is about the same
        subject: told by `who`, or the rarest of `subjects` it says."""
        if who is not None and teller(other) == who:
            return "teller"
        return next((w for w in subjects() if w in said), None)

    def _subjects(self, text: str) -> list[str]:
        """The words of `text` that name a subject: said by at most
        `subject_share` of the store, rarest first."""
        cap = max(2, int(self._total() * self.subject_share))
        said = {w for w in words(text) if len(w) > 2 and w not in _STOP and w not in VOCABULARY and not w.isdigit()}
        return sorted((w for w in said if 0 < self._frequency(w) <= cap), key=lambda w: (self._frequency(w), w))

    def _frequency(self, word: str) -> int:
        df = self._df.get(word)
        if df is None:
            try:
                df = match_count(self.conn, fts_phrase(word))
            except apsw.SQLError:
                df = 0
            self._df[word] = df
        return df

    def _earlier(
        self, mine: Told, who: str | None, subjects: _Once, since: str, until: str, own: set[str]
    ) -> list[tuple[str, str, str]]:
        """(id, content, occurred_at) of the newest earlier active memories
        that may continue `text`'s story: the same teller's saying one of its
        families' words, and (with no teller, or for a change) those naming
        one of its subjects. One FTS5 lookup each, newest first."""
        queries = []
        if who is not None and mine.families:
            terms: set[str] = set()
            for name in mine.families:
                terms |= FAMILIES[name][0] | set(FAMILIES[name][1])
            if mine.change:
                terms |= PROBLEM[0] | set(PROBLEM[1])
            queries.append(f"{fts_phrase(who)} AND ({fts_any(sorted(terms))})")
        if who is None or mine.change:
            rare = subjects()
            if rare:
                queries.append(fts_any(rare))
        out = self._pending_rows(since, until)
        for query in queries:
            out += [
                (i, c, at) for i, c, at in self.conn.execute(
                    "SELECT m.id, m.content, m.occurred_at FROM memories_fts JOIN memories m ON m.key = memories_fts.rowid"
                    " WHERE memories_fts MATCH ? AND memories_fts.rowid < ? AND m.status = 'active'"
                    " ORDER BY memories_fts.rowid DESC LIMIT ?",
                    (query, self._limit(), SCAN),
                ) if since <= at <= until
            ]  # fmt: skip
        unique = {i: (i, c, at) for i, c, at in out if i not in own and i not in self.pending.retired}
        return list(unique.values())


class _Once:
    """A value computed on its first call and kept."""

    def __init__(self, compute: Callable[[], list[str]]) -> None:
        self._compute: Callable[[], list[str]] | None = compute
        self._value: list[str] = []

    def __call__(self) -> list[str]:
        if self._compute is not None:
            self._value, self._compute = self._compute(), None
        return self._value


__all__ = ["StoryLinker", "teller"]
