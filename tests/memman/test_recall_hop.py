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
    caleb = query_terms(conn, "caleb")
    bridges = hop._bridges(conn, anchor, query_terms(conn, QUESTION))
    assert [keys for keys, _ in bridges] == [caleb.postings[0] - {anchor.key}]


def test_the_hop_is_the_same_when_the_query_words_are_read_lazily(store: Memman, monkeypatch: pytest.MonkeyPatch) -> None:
    # memman/recall/terms.py reads a common word's memories for the candidates only
    from memman.recall import terms

    before = [(h.id, h.score, h.signals.hop) for h in store.recall(QUESTION, limit=4).results]
    monkeypatch.setattr(terms, "EAGER_POSTINGS", 0)
    assert [(h.id, h.score, h.signals.hop) for h in store.recall(QUESTION, limit=4).results] == before
    assert before[3][2] > 0
