"""The date signal: what a question's dates add to recall.

When the query names a window (memman/recall/dates.py):
- the vector channel embeds the query without its date phrases, and the
  keyword channel matches it without relative words ("yesterday", "ago");
  literal month names and years stay, since texts may say them;
- memories that occurred in the window join the candidates even when the
  global keyword and vector lists missed them: keyword matches inside the
  window (bm25), then vector matches inside it above the similarity floor,
  then, when those are fewer than asked for ("what happened yesterday" has
  little else), the window's newest memories;
- every candidate gets a `date` signal, 1 inside the window and fading to 0
  over a margin outside it (DateQuery.closeness), blended into the score
  with weight DATE_WEIGHT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import apsw
import msgspec

from events.clock import from_iso, to_iso
from memman.recall.dates import DateQuery
from projections.queries import MemoryRow, keyword_search, occurred_between

# Blend weight of the date signal, beside the intent's anchor (0.5..0.55),
# entity and graph weights: an in-window memory with a weak anchor outranks
# the best match outside the window, since the question named the time.
# Tuning half of tools/recall_bench, temporal category, hybrid hit@10 / MRR:
# 0.25 -> 0.734 / 0.187, 0.5 -> 0.836 / 0.298, 1.0 -> 0.841 / 0.353,
# 2.0 -> 0.841 / 0.354: 1.0, where it levels off.
DATE_WEIGHT = 1.0
SCAN = 500  # window memories considered for vector ranking, newest first


class WindowHits(msgspec.Struct, frozen=True, kw_only=True):
    keyword: list[str]  # in-window keyword matches the global list missed, best first
    vector: list[tuple[str, float]]  # in-window vector matches (above the floor) the global list missed
    plain: list[str]  # further in-window memories, newest first, when the above are few


def bounds(when: DateQuery) -> tuple[str, str]:
    return to_iso(when.start), to_iso(when.end)


def hits(
    conn: apsw.Connection,
    when: DateQuery,
    keyword_text: str,
    similarity_of: Callable[[list[str]], dict[str, float]] | None,
    *,
    floor: float,
    limit: int,
    known: Sequence[str],
    category: str | None,
    source: str | None,
) -> WindowHits:
    seen = set(known)
    span = bounds(when)
    keyword = [
        i
        for i, _ in keyword_search(conn, keyword_text, limit=limit * 3, category=category, source=source, occurred=span)
        if i not in seen
    ]
    seen.update(keyword)
    inside = occurred_between(conn, *span, limit=SCAN, category=category, source=source)
    vector: list[tuple[str, float]] = []
    if similarity_of is not None and when.rest.strip():
        scored = similarity_of([i for i in inside if i not in seen])
        vector = [(i, s) for i, s in sorted(scored.items(), key=lambda it: (-it[1], it[0])) if s >= floor][:limit]
        seen.update(i for i, _ in vector)
    inside_set = set(inside)
    found_inside = sum(1 for i in known if i in inside_set) + len(keyword) + len(vector)
    plain = [i for i in inside if i not in seen][: max(0, limit - found_inside)]
    return WindowHits(keyword=keyword, vector=vector, plain=plain)


def signal(when: DateQuery | None, rows: Iterable[MemoryRow]) -> dict[str, float]:
    """Each candidate's date signal; empty (no date weight in the score) when
    the query names no date, or when no candidate is in or near the window
    (a future "this Friday", a month the store knows nothing of): a window
    that sets no candidate apart must not lower every score alike."""
    if when is None:
        return {}
    found = {row.id: round(when.closeness(from_iso(row.occurred_at)), 4) for row in rows}
    return found if any(found.values()) else {}
