"""Session capture with an LLM configured (the loopback fake, real httpx):
capture is on by default, the hook (a subprocess through the real entry
point) records the excerpt, the drain asks the model once per excerpt and
records the memories with the model's provenance; a failing model leaves the
capture failed and retried, never lost, and a replay calls no model."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli
from tests.integration.test_session_capture import (
    FIRST_PART, captured_memories, captures, claude_line, hook, payload,
)
from tools.fake_llm import FakeLLM


def test_with_an_llm_capture_is_on_and_the_model_extracts_the_memories(
    llm_configured: Path, fake: FakeLLM, tmp_path: Path
) -> None:
    cli = Cli(llm_configured)
    workspace = tmp_path / "project"
    (workspace / ".git").mkdir(parents=True)
    transcript = tmp_path / "s1.jsonl"
    transcript.write_text(FIRST_PART + claude_line(
        "assistant", [{"type": "text", "text": "Understood. We decided to keep the cache in SQLite because it needs no server."}]
    ))
    hook(cli, "pre-compact", payload("PreCompact", transcript, workspace))
    [_] = captures(cli, workspace)
    assert fake.requests["capture"] == 0  # the hook only records; the drain extracts

    fake.fail("500", times=50)  # the model is down: the capture fails, is kept and retried
    cli.ok("scheduler", "drain")
    [failed] = cli.json("scheduler", "queue", "failed", cwd=workspace)["items"]
    assert failed["state"] == "failed" and failed["last_stage"] == "capture"
    fake.reset()
    cli.ok("scheduler", "queue", "retry", str(failed["seq"]), cwd=workspace)
    cli.ok("scheduler", "drain")
    assert fake.requests["capture"] == 1

    texts = {e["text"] for e in captured_memories(cli, workspace).values()}
    assert texts == {
        "From now on, always use pnpm instead of npm in this repository.",
        "We decided to pin Python to 3.11 because the ONNX runtime wheels lag behind.",
        # the agent's turns: only the LLM reads those (the fake keeps any sentence with a durability cue)
        "I prefer small commits.",
        "We decided to keep the cache in SQLite because it needs no server.",
    }
    [extracted] = cli.json("events", "list", "--type", "session.extracted", cwd=workspace)["events"]
    assert "[llm/1 model=fake-fast" in extracted["summary"] and "-> 4 memory(ies)" in extracted["summary"]
    assert cli.json("status", cwd=workspace)["by_status"] == {"active": 4}
    calls = fake.total
    cli.ok("events", "replay", cwd=workspace)
    assert fake.total == calls  # replay rebuilds from the log: no model call
    assert cli.json("status", cwd=workspace)["by_status"] == {"active": 4}
