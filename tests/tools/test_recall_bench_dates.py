"""The date parser against the recall benchmark's temporal questions: every
question that names a day, a month, a relative time or a period before a
change (`asked_at` is today when it has one, else the day after the store's
history) names a window holding the occurred time of all its evidence, and
no `when` question or question of another category names one by accident,
except where it does name a day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.clock import from_iso
from memman.recall.dates import find
from tools.recall_bench import suite

DATED_KINDS = ("day", "month", "relative", "as-of")
NAMES_A_DAY = {"Can I release payments this Friday afternoon?"}  # an inference question that does


@pytest.mark.parametrize("name", suite.names())
def test_each_dated_question_names_a_window_holding_its_evidence(name: str) -> None:
    store = suite.make(name)
    occurred = {m.key: from_iso(m.at) for m in store.memories}
    after = max(occurred.values()) + timedelta(days=1)
    dated = 0
    for q in store.questions:
        found = find(q.text, from_iso(q.asked_at) if q.asked_at else after)
        if q.category == "temporal" and q.kind in DATED_KINDS:
            dated += 1
            assert found is not None, q.text
            assert all(found.contains(occurred[k]) for k in q.evidence), (q.text, found.start, found.end)
        elif q.text not in NAMES_A_DAY:
            assert found is None, (q.text, found.phrases)
    assert dated > 0
