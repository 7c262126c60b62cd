"""What the hooks answer, in-process: the Stop hook asks "anything to
remember?" only after `remind_every` turns without a write and never while a
stop hook already continued the turn; PreCompact flags the next prompt or
session start for re-recall; the prompt hook injects within its budget."""

from __future__ import annotations

import time
from pathlib import Path

from memman import config
from memman.install import hookrun
from memman.install.hookrun import HookInput
from memman.integration.inject import TimedOut, inject
from memman.service import Memman


def _stop(data_dir: Path, active: bool = False) -> dict | None:
    return hookrun.handle("stop", HookInput(session_id="s", stop_hook_active=active), data_dir, None)


def test_stop_nudges_once_per_stretch_without_writes(data_dir: Path, app: Memman) -> None:
    app.remember("The office plants are watered on Fridays")
    config.set_value(data_dir, "recall.remind_every", "3")
    answers = [_stop(data_dir) for _ in range(7)]
    nudges = [i for i, a in enumerate(answers) if a]
    assert nudges == [2, 5]
    assert answers[2] == {"decision": "block", "reason": hookrun.STOP_NOTE}
    assert _stop(data_dir, active=True) is None  # the continued turn itself is never nudged


def test_a_write_restarts_the_stop_count(data_dir: Path, app: Memman) -> None:
    app.remember("The office plants are watered on Fridays")
    config.set_value(data_dir, "recall.remind_every", "2")
    assert _stop(data_dir) is None
    app.remember("The printer toner is in the supply closet")
    assert _stop(data_dir) is None  # a write happened: count restarts
    assert _stop(data_dir) is None
    assert _stop(data_dir) is not None


def test_compaction_flags_the_next_prompt_once(data_dir: Path, app: Memman) -> None:
    assert hookrun.handle("pre-compact", HookInput(session_id="s", trigger="manual"), data_dir, None) is None
    first = hookrun.handle("user-prompt-submit", HookInput(session_id="s", prompt="go on"), data_dir, None)
    assert "compacted" in first["hookSpecificOutput"]["additionalContext"]
    again = hookrun.handle("user-prompt-submit", HookInput(session_id="s", prompt="go on"), data_dir, None)
    assert again is None  # no hint any more, and "go on" is relevant to nothing: nothing at all


def test_inject_fails_open_when_the_budget_is_spent(data_dir: Path, app: Memman) -> None:
    app.remember("The staging database listens on port 5433")
    found = inject(data_dir, None, None, "staging database port", limit=3, budget_ms=0, started=time.perf_counter())
    assert isinstance(found, TimedOut)  # the caller then gives the plain reminder
    config.set_value(data_dir, "recall.inject_budget_ms", "0")
    answer = hookrun.handle("user-prompt-submit", HookInput(session_id="s", prompt="staging database port"), data_dir, None)
    assert answer["hookSpecificOutput"]["additionalContext"] == hookrun.REMINDER


def test_empty_and_unknown_fields_in_hook_input_are_fine() -> None:
    assert hookrun.decode(b"") == HookInput()
    assert hookrun.decode(b'{"prompt": "x", "new_field": [1]}').prompt == "x"
