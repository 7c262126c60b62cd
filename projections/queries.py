"""Read helpers over the projections, shared by recall and the reconciler.

Natural-language text becomes an FTS5 query by keeping content words (no
stopwords), quoting each as a literal term, and OR-ing them; bm25 then ranks
rows that contain more, and rarer, of them first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import apsw
import msgspec

from events.db import translated_errors
from projections import scripts
from projections import bm25
from projections.fts import WordCounts, fts_any, fts_phrase, match_count

_WORD = re.compile(r"[\w][\w'.+#-]*[\w+#]|\w", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves use used using get got also does did should shall may might must let""".split()
)
MAX_QUERY_TERMS = 12
# "Dana's" is the word "dana" to a reader; as an FTS5 phrase it is "dana" followed by "s".
_POSSESSIVE = re.compile(r"['\u2019]s$")


class MemoryRow(msgspec.Struct, frozen=True, kw_only=True):
    key: int
    id: str
    content: str
    category: str
    importance: int
    entities: list[str]
    source: str
    meta: dict[str, str]
    status: str
    created_at: str
    updated_at: str
    occurred_at: str
    superseded_by: str | None
    forget_reason: str
    protected: bool
    derived_by: str | None
    derived_seq: int | None
    input_seq: int
    valid_until: str | None = None  # said explicitly (`remember --until`)
    superseded_at: str | None = None  # the successor's occurred_at: where validity ended
    replaces: str | None = None  # `remember --replaces`: the memory this one replaces
    recorded_at: str = ""  # when memman recorded it (transaction time; = created_at)

    @property
    def valid_to(self) -> str | None:
        """The end of validity: the explicit end or the successor's start, whichever is first."""
        ends = [t for t in (self.valid_until, self.superseded_at) if t]
        return min(ends) if ends else None


MEMORY_COLUMNS = (
    "key, id, content, category, importance, entities, source, meta, status, created_at, updated_at,"
    " occurred_at, superseded_by, forget_reason, protected, derived_by, derived_seq, input_seq,"
    " valid_until, superseded_at, replaces"
)


_decode_json = msgspec.json.Decoder().decode  # as json.loads, faster


def row_to_memory(row: Sequence[object]) -> MemoryRow:
    """A MemoryRow from a row of MEMORY_COLUMNS, in their order. Keywords
    spelled out (no per-row dict of names) and msgspec's JSON decoder: recall
    decodes a few hundred rows per call."""
    (key, id_, content, category, importance, entities, source, meta, status, created_at, updated_at,
     occurred_at, superseded_by, forget_reason, protected, derived_by, derived_seq, input_seq,
     valid_until, superseded_at, replaces) = row  # fmt: skip
    return MemoryRow(
        key=key, id=id_, content=content, category=category, importance=importance,
        entities=_decode_json(entities), source=source, meta=_decode_json(meta), status=status,
        created_at=created_at, updated_at=updated_at, occurred_at=occurred_at, superseded_by=superseded_by,
        forget_reason=forget_reason, protected=bool(protected), derived_by=derived_by, derived_seq=derived_seq,
        input_seq=input_seq, valid_until=valid_until, superseded_at=superseded_at, replaces=replaces,
        recorded_at=created_at,
    )  # type: ignore[arg-type]  # fmt: skip


def terms(text: str) -> list[str]:
    """Content words of `text`, lowercased, de-duplicated, in order."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text.lower()):
        word = _POSSESSIVE.sub("", match.group(0)).strip(".'-")
        if len(word) > 1 and word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def fts_query(text: str, max_terms: int = MAX_QUERY_TERMS) -> str | None:
    """An FTS5 MATCH expression OR-ing the content words of `text`, or None."""
    words = terms(text)[:max_terms]
    return fts_any(words) if words else None


def _filters(
    statuses: Sequence[str],
    category: str | None,
    source: str | None,
    exclude: Sequence[str],
    occurred: tuple[str, str] | None,
) -> tuple[list[str], list[object]]:
    """WHERE clauses (over the memories table as `m`) and their arguments."""
    where = [f"m.status IN ({','.join('?' * len(statuses))})"]
    args: list[object] = [*statuses]
    if category:
        where.append("m.category = ?")
        args.append(category)
    if source:
        where.append("m.source = ?")
        args.append(source)
    if exclude:
        where.append(f"m.id NOT IN ({','.join('?' * len(exclude))})")
        args.extend(exclude)
    if occurred:
        where.append("m.occurred_at >= ? AND m.occurred_at < ?")
        args.extend(occurred)
    return where, args


def keyword_search(
    conn: apsw.Connection,
    text: str,
    *,
    limit: int,
    statuses: Sequence[str] = ("active", "pending"),
    category: str | None = None,
    source: str | None = None,
    exclude: Sequence[str] = (),
    occurred: tuple[str, str] | None = None,
    counts: WordCounts | None = None,
) -> list[tuple[str, float]]:
    """(memory id, score; lower is better) for rows matching `text`;
    `occurred` keeps rows whose occurred_at is in [start, end) (ISO strings).
    `counts`: the words' memory counts, where the caller keeps them
    (projections/fts.py `WordCounts`; its connection must have
    projections/bm25.py registered): a capped ranking then takes each
    word's count from there instead of counting it again (same scores).

    Words go to the main index (bm25). Runs of CJK, other unspaced scripts and
    emoji (projections/scripts.py) go to the trigram index too; when both
    answer, the two rankings are fused (reciprocal rank) and the score is
    minus the fused value."""
    where, args = _filters(statuses, category, source, exclude, occurred)
    words = _word_search(conn, text, where, args, limit, counts)
    long, short = scripts.wide_terms(text)
    if not long and not short:
        return words
    wide = _wide_search(conn, long, short, where, args, limit)
    if not words:
        return wide
    fused: dict[str, float] = {}
    for ranked in (words, wide):
        for rank, (memory_id, _) in enumerate(ranked, start=1):
            fused[memory_id] = fused.get(memory_id, 0.0) + 1.0 / (60 + rank)
    best = sorted(fused.items(), key=lambda it: (-it[1], it[0]))[:limit]
    return [(memory_id, -value) for memory_id, value in best]


def _word_search(
    conn: apsw.Connection, text: str, where: list[str], args: list[object], limit: int, counts: WordCounts | None
) -> list[tuple[str, float]]:
    words = terms(text)[:MAX_QUERY_TERMS]
    if not words:
        return []
    full = fts_any(words)
    with translated_errors("projections.db"):
        plan = _selective(conn, words, counts)
        if plan is None:  # every match fits under the cap: one exact query, as always
            sql = (
                f"SELECT m.id, {_BM25} AS rank FROM memories_fts JOIN memories m ON m.key = memories_fts.rowid"
                f" WHERE memories_fts MATCH ? AND {' AND '.join(where)} ORDER BY rank LIMIT ?"
            )
            return [(r[0], r[1]) for r in conn.execute(sql, (full, *args, limit))]
        if counts is not None and _counting_dearer(words, plan, counts):
            return _filtered(conn, _ranked_by_counts(conn, words, plan, counts), where, args, limit)
        return _capped_search(conn, full, plan, where, args, limit)


_BM25 = f"bm25(memories_fts, {', '.join(map(str, bm25.WEIGHTS))})"
KEYWORD_CAP = 2000  # rows a capped keyword query ranks (docs/scale.md, "Warm recall in the store's size")
# A query matching up to this many memories is ranked whole, exactly: below
# it the exact query costs less than the capped one's two rankings.
CAPPED_FROM = 4 * KEYWORD_CAP
# FTS5 counts a phrase's memories at ~21 ns each; `memman_bm25` costs ~1.4 µs
# more per row ranked than `bm25()` (the 1M store, docs/scale.md "seventh round").
POSTINGS_PER_ROW = 80


class _Plan(msgspec.Struct, frozen=True):
    """Which memories a capped keyword query ranks: those matching
    `expression` (the phrases of `words`), only its KEYWORD_CAP newest when
    `newest`; `whole` when its bm25 is already the whole query's (it says
    every word the store has)."""

    expression: str
    words: tuple[str, ...]
    newest: bool
    whole: bool


def _within(conn: apsw.Connection, words: list[str], counts: WordCounts | None) -> bool:
    """Whether the words together match CAPPED_FROM memories or fewer
    (counted inside SQLite, stopping past it; each word's held count
    decides it where it can)."""
    if counts is not None:
        sizes = [counts.upto(w, CAPPED_FROM) for w in words]
        if sum(sizes) <= CAPPED_FROM:
            return True
        if max(sizes) > CAPPED_FROM:
            return False
    return match_count(conn, fts_any(words), CAPPED_FROM + 1) <= CAPPED_FROM


def _selective(conn: apsw.Connection, words: list[str], counts: WordCounts | None = None) -> _Plan | None:
    """What to rank, or None when the words match CAPPED_FROM memories or
    fewer. Counts stop at the cap inside SQLite; a word no memory says
    matches nothing and is left out. The expression ORs the rarest words
    whose memories together fit. When even the rarest word says more, it is
    the memories saying every word (the best bm25 for such a query says
    them all), or when none does the rarest word's: the KEYWORD_CAP newest."""
    if _within(conn, words, counts):
        return None
    sizes = [counts.upto(w, KEYWORD_CAP) if counts else match_count(conn, fts_phrase(w), KEYWORD_CAP + 1) for w in words]
    present = [(count, n, word) for n, (count, word) in enumerate(zip(sizes, words)) if count > 0]
    kept: list[str] = []
    total = 0
    for count, _, word in sorted(present):
        if total + count > KEYWORD_CAP:
            break
        kept.append(word)
        total += count
    if kept:
        return _Plan(fts_any(kept), tuple(kept), newest=False, whole=False)
    said = [word for _, _, word in present]  # in the query's order: bm25 adds the phrases in it
    every = " AND ".join(map(fts_phrase, said))
    if len(said) == 1 or match_count(conn, every, 1) > 0:
        return _Plan(every, tuple(said), newest=True, whole=True)
    exact = counts.exact if counts else (lambda w: match_count(conn, fts_phrase(w), None))
    rarest = min((exact(w), n, w) for n, w in enumerate(said))[2]
    return _Plan(fts_phrase(rarest), (rarest,), newest=True, whole=False)


def _counting_dearer(words: list[str], plan: _Plan, counts: WordCounts) -> bool:
    """Whether FTS5's `bm25()` would spend more counting the memories of the
    phrases it scores than `memman_bm25` spends more per ranked row (both
    give the same scores: projections/bm25.py)."""
    scored = plan.words if plan.whole else (*words, *plan.words)
    rows = KEYWORD_CAP if plan.newest else sum(counts.upto(w, KEYWORD_CAP) for w in plan.words)
    return sum(counts.exact(w) for w in scored) > POSTINGS_PER_ROW * rows


def _ranked_by_counts(conn: apsw.Connection, words: list[str], plan: _Plan, counts: WordCounts) -> list[tuple[float, int]]:
    """(score, rowid), best first, of the memories `plan` names, each with
    the whole query's bm25 computed from the words' held counts
    (projections/bm25.py), in one statement that counts no posting list:
    the AND of every word the store has where that is the plan, else
    `(full) AND (rare)` with only `full`'s phrases scored, which is
    exactly the exact query's bm25 for each memory."""
    scored = list(plan.words) if plan.whole else words
    expression = plan.expression if plan.whole else f"({fts_any(words)}) AND ({plan.expression})"
    dfs = [counts.exact(w) for w in scored]
    sql = f"SELECT rowid, {bm25.call(len(dfs), 2)} FROM memories_fts WHERE memories_fts MATCH ?1"
    if plan.newest:  # FTS5 walks its rowids backwards: no sort, stops at the cap
        sql += f" ORDER BY rowid DESC LIMIT ?{len(dfs) + 2}"
    rows = conn.execute(sql, (expression, *dfs, *([KEYWORD_CAP] if plan.newest else [])))
    return sorted((round(score, 9), key) for key, score in rows)


def _capped_search(
    conn: apsw.Connection, full: str, plan: _Plan, where: list[str], args: list[object], limit: int
) -> list[tuple[str, float]]:
    """The best `limit` of the memories `plan` names, by their exact bm25
    for the whole query. FTS5 reads the position lists of every match it
    ranks, so ranking `full` costs every memory that says a common word
    (237k of 1M say "service"). A memory saying every word the store has
    gets the whole query's bm25 from the AND of those words (bm25 adds one
    term per phrase, and a phrase no memory says adds 0): one ranking. Else
    `(full) AND (rare)` visits only the rare words' memories, and its bm25
    is the whole query's plus the rare words' again (the same phrase counts
    the same twice), so subtracting the rare words' own bm25 leaves each
    memory's bm25 for the whole query, to rounding. The filters (status,
    category, ...) are read for the best first, a few at a time: joining
    every ranked row to `memories` cost more than ranking it. Where the
    caller holds the words' counts, `_ranked_by_counts` ranks the same rows
    in one statement that counts nothing (projections/bm25.py)."""
    sql = f"SELECT rowid, {_BM25} FROM memories_fts WHERE memories_fts MATCH ?"
    newest = " ORDER BY rowid DESC LIMIT ?"  # FTS5 walks its rowids backwards: no sort, stops at the cap
    own = conn.execute(sql + newest if plan.newest else sql, (plan.expression, *([KEYWORD_CAP] if plan.newest else []))).fetchall()
    if plan.whole:
        ranked = sorted((round(score, 9), key) for key, score in own)
    else:
        floor = min((key for key, _ in own), default=0) if plan.newest else 0
        bm25 = dict(own)
        both = conn.execute(sql + " AND rowid >= ?", (f"({full}) AND ({plan.expression})", floor)).fetchall()
        ranked = sorted((round(score - bm25[key], 9), key) for key, score in both)
    return _filtered(conn, ranked, where, args, limit)


def _filtered(
    conn: apsw.Connection, ranked: list[tuple[float, int]], where: list[str], args: list[object], limit: int
) -> list[tuple[str, float]]:
    """The first `limit` of `ranked` ((score, rowid), best first) that pass the filters."""
    found: list[tuple[str, float]] = []
    step = max(4 * limit, 50)
    sql = f"SELECT m.key, m.id FROM json_each(?) j CROSS JOIN memories m ON m.key = j.value WHERE {' AND '.join(where)}"
    for start in range(0, len(ranked), step):  # CROSS JOIN: by key, not the status index (a walk of every active row)
        chunk = ranked[start : start + step]
        kept = dict(conn.execute(sql, (json.dumps([key for _, key in chunk]), *args)).fetchall())
        found += [(kept[key], score) for score, key in chunk if key in kept]
        if len(found) >= limit:
            break
    return found[:limit]


def _wide_search(
    conn: apsw.Connection, long: list[str], short: list[str], where: list[str], args: list[object], limit: int
) -> list[tuple[str, float]]:
    """Trigram matches (bm25) first, then memories holding a short run (LIKE)."""
    found: list[tuple[str, float]] = []
    query = scripts.fts_query(long)
    with translated_errors("projections.db"):
        if query is not None:
            sql = (
                "SELECT m.id, bm25(memories_wide, 1.0, 0.8, 0.5) AS rank FROM memories_wide"
                " JOIN memories m ON m.key = memories_wide.rowid"
                f" WHERE memories_wide MATCH ? AND {' AND '.join(where)} ORDER BY rank LIMIT ?"
            )
            found = [(r[0], r[1]) for r in conn.execute(sql, (query, *args, limit))]
        if short and len(found) < limit:
            likes = " OR ".join("(w.content LIKE ? ESCAPE '\\' OR w.entities LIKE ? ESCAPE '\\')" for _ in short)
            patterns = [p for term in short for p in (scripts.like_pattern(term),) * 2]
            seen = {i for i, _ in found}
            sql = (
                "SELECT m.id FROM memories_wide w JOIN memories m ON m.key = w.rowid"
                f" WHERE ({likes}) AND {' AND '.join(where)} ORDER BY m.importance DESC, m.occurred_at DESC LIMIT ?"
            )
            found += [(r[0], 0.0) for r in conn.execute(sql, (*patterns, *args, limit)) if r[0] not in seen]
    return found[:limit]


def occurred_between(
    conn: apsw.Connection,
    start: str,
    end: str,
    *,
    limit: int,
    statuses: Sequence[str] = ("active", "pending"),
    category: str | None = None,
    source: str | None = None,
) -> list[str]:
    """Ids of memories that occurred in [start, end), newest first."""
    where = [f"status IN ({','.join('?' * len(statuses))})", "occurred_at >= ?", "occurred_at < ?"]
    args: list[object] = [*statuses, start, end]
    if category:
        where.append("category = ?")
        args.append(category)
    if source:
        where.append("source = ?")
        args.append(source)
    sql = f"SELECT id FROM memories WHERE {' AND '.join(where)} ORDER BY occurred_at DESC, key DESC LIMIT ?"
    with translated_errors("projections.db"):
        return [r[0] for r in conn.execute(sql, (*args, limit))]


def memories_by_id(conn: apsw.Connection, ids: Sequence[str]) -> dict[str, MemoryRow]:
    found: dict[str, MemoryRow] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id IN ({','.join('?' * len(chunk))})"
        for row in conn.execute(sql, tuple(chunk)):
            memory = row_to_memory(row)
            found[memory.id] = memory
    return found


def kinds_by_id(conn: apsw.Connection, ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """memory id -> (status, category, source): what a candidate filter
    needs, without decoding whole rows it may then drop."""
    found: dict[str, tuple[str, str, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = f"SELECT id, status, category, source FROM memories WHERE id IN ({','.join('?' * len(chunk))})"
        for memory_id, status, category, source in conn.execute(sql, tuple(chunk)):
            found[memory_id] = (status, category, source)
    return found


def get_memory(conn: apsw.Connection, memory_id: str) -> MemoryRow | None:
    row = conn.execute(f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id = ?", (memory_id,)).fetchone()
    return row_to_memory(row) if row else None
