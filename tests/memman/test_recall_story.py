"""Story links (workers/stories/, memman/recall/story.py): the drain links a
later memory to the earlier one whose story it continues (the same person's
job or health story, a project's change after its problem), as `story` edges
in the log; recall gives the memory linked to its best match one of the last
shown places, which `disable=["story"]` (or "hop") switches off."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.service import Memman
from workers.stories.lexicon import told
from workers.stories.links import FAMILY_WEIGHT, teller

START = datetime(2023, 1, 1, 10, tzinfo=timezone.utc)
QUIT = "Dana: I quit Stark Freight, no regrets at all."
OFFER = "Dana: Kestrel Health offered me the nurse educator position and I said yes."
OTHER_TELLER = "Marco: Work has been chaotic, my boss wants a new job title for me."
LONG_AGO = "Dana: My first job interview went badly."  # more than story_days (180) before OFFER
NAMED = "Dana: We named him Bean, the kids chose it."
PET_LATER = "Dana: Bean learned to open the fridge, send help."
PROBLEM = "Manual auth deploys failed twice this week."
CHANGE = "Moved auth onto the k8s cluster."
QUESTION = "What did Dana do after leaving Stark Freight?"
DISTRACTORS = [  # say the question's words, so they outrank the answer on their own
    "Dana: Leaving the office early today, the freight train was loud.",
    "Dana: After lunch we did nothing at all.",
    "Dana: Leaving for the weekend soon!",
    "Dana: What a day, I did so much after work.",
    "Dana: Dana here, leaving a voice note.",
]
FILLER = [f"Dana: Small talk number {n} about the weather and lunch plans." for n in range(40)]


def test_the_lexicon_reads_families_problems_and_changes() -> None:
    assert told(QUIT).families == {"work"} and told(OFFER).families == {"work"}
    assert "health" in told("Tomas: Doctor's orders: no training for at least a month.").families
    assert told(PROBLEM).problem and told(CHANGE).change
    assert told("Dana: That's so nice!") == (frozenset(), False, False)
    assert teller(QUIT) == "Dana" and teller(PROBLEM) is None and teller("Mary Ann: hi") == "Mary Ann"


@pytest.fixture
def store(data_dir: Path):  # type: ignore[no-untyped-def]
    with Memman(data_dir) as app:
        app.remember(LONG_AGO, at=START - timedelta(days=300))
        for n, text in enumerate([*FILLER, *DISTRACTORS]):
            app.remember(text, at=START + timedelta(days=n, hours=n % 5))
        app.remember(NAMED, at=START + timedelta(days=45))
        app.remember(QUIT, at=START + timedelta(days=50))
        app.remember(OTHER_TELLER, at=START + timedelta(days=60))
        app.remember(PROBLEM, source="agent", at=START + timedelta(days=61))
        app.remember(OFFER, at=START + timedelta(days=80))  # another session: no neighbour reaches it
        app.remember(CHANGE, source="agent", at=START + timedelta(days=85))
        app.remember(PET_LATER, at=START + timedelta(days=90))
    drain_all(data_dir)
    with Memman(data_dir) as app:
        yield app


def stories(app: Memman, *, weights: bool = False) -> set[tuple]:  # type: ignore[type-arg]
    rows = app.fresh().main.conn.execute(
        "SELECT a.content, b.content, weight FROM edges JOIN memories a ON a.id = src JOIN memories b ON b.id = dst"
        " WHERE edge_type = 'story'"
    ).fetchall()
    return {r if weights else r[:2] for r in rows}


def test_the_drain_links_a_story_earlier_to_later(store: Memman) -> None:
    linked = stories(store)
    assert (QUIT, OFFER) in linked  # the same teller, both about work
    assert (PROBLEM, CHANGE) in linked  # a change after a problem about the same subject ("auth")
    assert (OTHER_TELLER, OFFER) not in linked  # someone else's job
    assert (LONG_AGO, OFFER) not in linked and (LONG_AGO, QUIT) not in linked  # too long ago
    # the same teller's rare name again, weeks later; a name weighs more than a family word
    weighted = stories(store, weights=True)
    assert (NAMED, PET_LATER, 1.0) in weighted and (QUIT, OFFER, FAMILY_WEIGHT) in weighted


def test_story_edges_are_in_the_log_and_replay_exactly(store: Memman) -> None:
    before = stories(store)
    store.db.replay()
    assert stories(store) == before and before


def test_the_linked_telling_takes_one_of_the_last_places(store: Memman) -> None:
    with_story = store.recall(QUESTION, limit=4).results
    without = store.recall(QUESTION, limit=4, disable=["story"]).results
    assert QUIT in [h.content for h in without] and OFFER not in [h.content for h in without]
    assert QUIT in [h.content for h in with_story[:3]]  # the best match keeps its place
    (offer,) = [h for h in with_story if h.content == OFFER]
    assert offer.signals.hop > 0 and with_story.index(offer) == 3
    assert OFFER not in [h.content for h in store.recall(QUESTION, limit=4, disable=["hop"]).results]


def test_a_question_naming_a_period_follows_no_story(store: Memman) -> None:
    dated = store.recall(f"{QUESTION} in February 2023", limit=10)
    assert all(h.signals.hop == 0 for h in dated.results)


def test_story_cap_zero_rebuilds_without_story_edges(store: Memman, data_dir: Path, memman) -> None:  # type: ignore[no-untyped-def]
    assert memman("config", "set", "graph.story_cap", "0").code == 0
    assert memman("graph", "rebuild").code == 0
    assert not stories(store)
    related = memman("graph", "related", store.fresh().main.conn.execute(
        "SELECT id FROM memories WHERE content = ?", (QUIT,)).fetchone()[0], "--edge", "story")  # fmt: skip
    assert related.code == 0 and related.out.strip() == "no related memories"


def test_a_bad_story_setting_is_refused_and_nothing_changes(data_dir: Path, memman) -> None:  # type: ignore[no-untyped-def]
    for key, value in (("graph.story_cap", "1001"), ("graph.story_days", "forever")):
        run = memman("config", "set", key, value)
        assert run.code == 2 and run.out == "" and len(run.err.splitlines()) == 1
        assert run.err.startswith(f"memman: error: bad value for {key}") and "Traceback" not in run.err
    assert "story_cap = 3" in memman("config", "show").out
