"""Protection blocks the LLM reconciler: the loopback fake answers DELETE for a
contradiction and UPDATE for a changed value (tools/fake_llm.py); against a
protected memory the drain records ADD with the model's verdict in the reason,
and both memories stay active. Unprotected, the same replies take effect."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.service import Memman

CASES = [
    ("Alice likes coffee", "Alice no longer likes coffee", "DELETE", "forgotten"),
    ("The API timeout is 30s", "The API timeout is 60s", "UPDATE", "superseded"),
]


def _last_decision(app: Memman):  # type: ignore[no-untyped-def]
    return list(app.db.log.read(types={"memory.reconciled"}))[-1].event.decisions[0]


@pytest.mark.parametrize(("old_text", "new_text", "verdict", "_"), CASES)
def test_protect_blocks_the_llm_reconcilers_retire_and_update(
    app: Memman, llm_configured: Path, old_text: str, new_text: str, verdict: str, _: str
) -> None:
    old = app.remember(old_text)
    drain_all(llm_configured)
    app.protect(old.id)
    new = app.remember(new_text)
    drain_all(llm_configured)
    decision = _last_decision(app)
    assert decision.action == "ADD"
    assert decision.reason == f"model said {verdict} {old.id}, which is protected; kept both"
    assert app.memory(old.id).status == "active" and app.memory(new.id).status == "active"


@pytest.mark.parametrize(("old_text", "new_text", "verdict", "retired"), CASES)
def test_unprotected_the_same_reply_takes_effect(
    app: Memman, llm_configured: Path, old_text: str, new_text: str, verdict: str, retired: str
) -> None:
    old = app.remember(old_text)
    drain_all(llm_configured)
    app.protect(old.id)
    app.unprotect(old.id)
    app.remember(new_text)
    drain_all(llm_configured)
    assert (_last_decision(app).action, _last_decision(app).target) == (verdict, old.id)
    assert app.memory(old.id).status == retired
