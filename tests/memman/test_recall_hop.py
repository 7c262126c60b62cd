"""Multi-hop across sessions (memman/recall/hop.py): a memory that shares a
rare word with the best match, told weeks later and worded away from the
question, takes one of the last shown places; it never moves above the
best matches, and `disable=["hop"]` switches it off."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from memman.operations.maintenance import drain_all
from memman.recall import hop
from memman.recall.hybrid import SIGNALS
from memman.service import Memman

QUESTION = "What does Sofia's sister do for a living?"
BRIDGE = "Sofia: Said goodbye to Caleb at the airport today, my sister lives in Melbourne now."
ANSWER = "Sofia: Big week for Caleb: first shifts as an architect."
SISTERS = [  # say the question's words, so they outrank the answer on their own
    "Sofia: My sister sent me a photo of her garden.",
    "Sofia: My sister called about the holidays.",
    "Sofia: My sister is coming to visit in spring.",
    "Sofia: My sister loves the sea.",
    "Sofia: My sister and I went to a concert.",
]
FILLER = [f"Sofia: Small talk number {n} about the weather and lunch plans." for n in range(40)]


@pytest.fixture
def store(data_dir):  # type: ignore[no-untyped-def]
    start = datetime(2023, 1, 1, 10, tzinfo=timezone.utc)
    with Memman(data_dir) as app:
        for n, text in enumerate([*FILLER, *SISTERS]):
            app.remember(text, at=start + timedelta(days=n, hours=n % 5))
        app.remember(BRIDGE, at=start + timedelta(days=60))
        app.remember(ANSWER, at=start + timedelta(days=90))  # another session: no neighbour reaches it
    drain_all(data_dir)
    with Memman(data_dir) as app:
        yield app


def test_the_answer_told_weeks_later_takes_the_last_place(store: Memman) -> None:
    with_hop = store.recall(QUESTION, limit=4).results
    without = store.recall(QUESTION, limit=4, disable=["hop"]).results
    assert BRIDGE in [h.content for h in without] and ANSWER not in [h.content for h in without]
    assert [h.id for h in with_hop[:3]] == [h.id for h in without[:3]]  # the best matches keep their places
    assert with_hop[3].content == ANSWER and with_hop[3].signals.hop > 0  # the last quarter went to the hop
    assert "hop" in SIGNALS


def test_a_question_naming_a_period_gets_no_hops(store: Memman) -> None:
    dated = store.recall(f"{QUESTION} in March 2023", limit=10)
    assert all(h.signals.hop == 0 for h in dated.results)


def test_a_word_most_memories_say_is_no_bridge(store: Memman) -> None:
    # "sofia" is in every memory, far above MAX_DF_SHARE: only "caleb" (said twice) bridges
    from memman.recall.terms import query_terms
    from projections.queries import memories_by_id

    conn = store.fresh().main.conn
    (anchor,) = [r for r in memories_by_id(conn, [h.id for h in store.recall(QUESTION).results]).values() if r.content == BRIDGE]
    bridges = hop._bridges(conn, anchor, query_terms(conn, QUESTION))
    assert [word for word, _ in bridges] == ["caleb"]


def _walked(conn, anchor: int, bridges: list[tuple[str, float]]) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """What `hop._reached` answers, from every bridge's whole posting list."""
    total = sum(idf for _, idf in bridges)
    said: dict[int, float] = {}
    for word, idf in bridges:
        sql = "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?"
        for (key,) in conn.execute(sql, (f'"{word}"',)):
            if key != anchor:
                said[key] = said.get(key, 0.0) + idf / total
    return dict(sorted(said.items(), key=lambda kv: (-kv[1], kv[0]))[: hop.MAX_PER_ANCHOR])


def test_the_reached_memories_are_the_posting_lists_best(data_dir, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # three bridge words said in every combination by more memories than are kept:
    # the few keys read per combination must hold the best of all, in the same order
    words = ["harbour", "lantern", "quarry"]
    texts = []
    for n in range(60):
        said = [w for bit, w in enumerate(words) if n % 8 & (1 << bit)]
        texts.append(f"Note {n}: {' '.join(said) or 'nothing'} and the weather")
    with Memman(data_dir) as app:
        for text in texts:
            app.remember(text)
    drain_all(data_dir)
    monkeypatch.setattr(hop, "MAX_PER_ANCHOR", 5)
    with Memman(data_dir) as app:
        conn = app.fresh().main.conn
        anchor = conn.execute("SELECT key FROM memories WHERE content LIKE '%harbour lantern quarry%'").fetchone()[0]
        for weights in ([3.0, 2.0, 1.0], [1.0, 1.0, 1.0], [1.0, 2.5, 0.5]):
            for chosen in (words, words[:2], words[2:]):
                bridges = [(w, weights[words.index(w)]) for w in chosen]
                reached = hop._reached(conn, anchor, bridges)
                assert reached == _walked(conn, anchor, bridges) and len(reached) == 5
                assert anchor not in reached
