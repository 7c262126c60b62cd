"""Session capture through the real hook entry point (`python -m memman hook
EVENT`, a subprocess, JSON on stdin) with a real transcript file written as
Claude Code and Codex write theirs (JSONL, one entry per line): PreCompact
and SessionEnd record only the new part of the transcript, once; the drain
turns it into the durable memories it states (offline rules here, the LLM
through the loopback fake in tests/llm/test_capture_llm.py), never the
chatter, never a `<private>` section or a secret; each capture is auditable
in `memman log`, the memories undone with forget/restore and rebuilt by a
replay. Bad transcripts fail open: one warning line, exit 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, assert_error

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def claude_line(kind: str, content: object, **extra: object) -> str:
    entry = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/w", "sessionId": "s1",
             "version": "2.0.74", "type": kind, "message": {"role": kind, "content": content},
             "uuid": f"u{abs(hash(json.dumps(content))) % 10**8}", "timestamp": "2026-11-30T08:00:00.000Z", **extra}
    if kind == "assistant":
        entry["message"].update({"id": "msg_01", "type": "message", "model": "claude-sonnet-4"})  # type: ignore[union-attr]
    return json.dumps(entry) + "\n"


FIRST_PART = "".join([
    json.dumps({"type": "summary", "summary": "CI setup", "leafUuid": "x"}) + "\n",
    claude_line("user", "Can you fix the failing test in tests/test_api.py?"),
    claude_line("assistant", [{"type": "thinking", "thinking": "We decided nothing yet.", "signature": "s"},
                              {"type": "text", "text": "I'll read the test first. I prefer small commits."},
                              {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "t.py"}}]),
    claude_line("user", [{"tool_use_id": "toolu_1", "type": "tool_result", "content": "We always use tabs here."}]),
    claude_line("user", "<command-name>/clear</command-name>", isMeta=True),
    claude_line("user", "ok thanks. From now on, always use pnpm instead of npm in this repository. "
                        "We decided to pin Python to 3.11 because the ONNX runtime wheels lag behind. "
                        "<private>We decided the admin password is swordfish-42.</private> What does this function do?"),
    claude_line("user", "Run the tests again please.", isSidechain=True),
])
SECOND_PART = "".join([
    claude_line("assistant", [{"type": "text", "text": "Done: the suite passes. Next step is the changelog."}]),
    claude_line("user", f"Remember that the staging database listens on port 5433. For now, skip the linter. "
                        f"Never commit the token {GITHUB_TOKEN} to the repository."),
])
DURABLE = {
    "From now on, always use pnpm instead of npm in this repository.",
    "We decided to pin Python to 3.11 because the ONNX runtime wheels lag behind.",
    "The staging database listens on port 5433.",
}


def hook(cli: Cli, event: str, payload: dict, *, agent: str = "claude-code") -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "memman", "hook", event, "--agent", agent], input=json.dumps(payload),
        capture_output=True, text=True, env=cli.env(), timeout=120, cwd=cli.data_dir.parent,
    )
    assert proc.returncode == 0, proc  # a hook never fails the agent
    assert "Traceback" not in proc.stderr
    return proc


def payload(event: str, transcript: Path, workspace: Path) -> dict:
    return {"session_id": "s1", "transcript_path": str(transcript), "cwd": str(workspace), "hook_event_name": event,
            "trigger": "auto", "reason": "exit"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / ".git").mkdir(parents=True)
    return path


def captures(cli: Cli, workspace: Path) -> list[dict]:
    return cli.json("events", "list", "--type", "session.captured", cwd=workspace)["events"]


def captured_memories(cli: Cli, workspace: Path) -> dict[str, dict]:
    """The memory.remembered events captures produced, by memory id (their payloads)."""
    found = {}
    for e in cli.json("events", "list", "--type", "memory.remembered", cwd=workspace)["events"]:
        if e["actor"] == "drain" and e["stage"].startswith("capture:"):
            event = cli.json("events", "show", str(e["seq"]), cwd=workspace)["event"]
            found[event["memory_id"]] = event
    return found


def test_each_new_part_of_the_transcript_is_captured_once_and_only_durable_memories_come_out(
    cli: Cli, tmp_path: Path, workspace: Path
) -> None:
    cli.ok("config", "set", "capture.sessions", "on")  # offline rules: no LLM configured
    transcript = tmp_path / "s1.jsonl"
    transcript.write_text(FIRST_PART)
    assert hook(cli, "pre-compact", payload("PreCompact", transcript, workspace)).stdout == ""
    assert hook(cli, "pre-compact", payload("PreCompact", transcript, workspace)).stderr == ""  # nothing new: nothing recorded
    [first] = captures(cli, workspace)
    with transcript.open("a") as f:
        f.write(SECOND_PART + '{"type": "assistant", "message": {"role": "assist')  # the agent is mid-way through a line
    assert hook(cli, "session-end", payload("SessionEnd", transcript, workspace)).stdout == ""
    first, second = captures(cli, workspace)
    texts = [cli.json("events", "show", str(e["seq"]), cwd=workspace)["event"]["text"] for e in (first, second)]
    assert "pnpm" in texts[0] and "5433" not in texts[0]
    assert "5433" in texts[1] and "pnpm" not in texts[1] and "assist" not in texts[1].split("\n")[-1]
    assert "Next step is the changelog" in texts[1]  # the agent's turns are recorded (the LLM may read them)
    for text in texts:  # no tool call or result, thinking, meta, sidechain, private section or secret
        for absent in ("tool_use", "We always use tabs", "We decided nothing yet", "/clear", "Run the tests again",
                       "swordfish", GITHUB_TOKEN):
            assert absent not in text, absent

    cli.ok("scheduler", "drain")
    produced = captured_memories(cli, workspace)
    assert {e["text"] for e in produced.values()} == DURABLE
    memories = cli.json("recall", "pnpm python staging database port repository", "--limit", "20", cwd=workspace)["results"]
    assert {m["content"] for m in memories if m["id"] in produced} == DURABLE  # drained: active, recallable
    # what was never to be stored is nowhere in the log, the projections or the vectors
    store_dir = next(p for p in (cli.data_dir / "stores").iterdir() if p.name.startswith("project-"))
    stored = b"".join(p.read_bytes() for p in store_dir.iterdir() if p.is_file())
    for secret in (b"swordfish-42", GITHUB_TOKEN.encode(), b"We always use tabs here", b"Run the tests again"):
        assert secret not in stored, secret
    assert "[REDACTED:GitHub token]" in json.dumps(cli.json("events", "show", str(second["seq"]), cwd=workspace))

    # audit: the capture, what it produced and by what; forget and restore undo one memory
    pnpm = next(m for m in memories if "pnpm" in m["content"])
    trail = cli.json("log", "--memory", produced[pnpm["id"]]["meta"]["capture"], cwd=workspace)
    assert [e["type"] for e in trail["events"]][:2] == ["session.captured", "session.extracted"]
    assert "by drain [rules/1" in trail["events"][1]["summary"]
    cli.ok("forget", pnpm["id"], cwd=workspace)
    assert all(m["id"] != pnpm["id"] for m in cli.json("recall", "pnpm npm", cwd=workspace)["results"])
    cli.ok("restore", pnpm["id"], cwd=workspace)
    before = cli.json("recall", "pnpm python staging database port repository", "--limit", "20", cwd=workspace)["results"]
    cli.ok("events", "replay", cwd=workspace)  # no LLM, no provider: the captured memories come back from the log
    after = cli.json("recall", "pnpm python staging database port repository", "--limit", "20", cwd=workspace)["results"]
    assert [(m["id"], m["content"], m["status"]) for m in after] == [(m["id"], m["content"], m["status"]) for m in before]
    assert cli.json("events", "verify", cwd=workspace)["ok"] is True


def test_a_codex_rollout_is_captured_at_session_end(cli: Cli, tmp_path: Path, workspace: Path) -> None:
    cli.ok("config", "set", "capture.sessions", "on")
    rollout = tmp_path / "rollout-2026-11-30T08-00-00-abc.jsonl"
    lines = [
        {"timestamp": "2026-11-30T08:00:00Z", "type": "session_meta", "payload": {"id": "abc", "cwd": str(workspace)}},
        {"timestamp": "2026-11-30T08:00:01Z", "type": "response_item", "payload": {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "<environment_context>cwd: /w</environment_context>"}]}},
        {"timestamp": "2026-11-30T08:00:02Z", "type": "response_item", "payload": {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "I prefer rebase merges over merge commits on this project."}]}},
        {"timestamp": "2026-11-30T08:00:03Z", "type": "event_msg", "payload": {"type": "user_message",
         "message": "I prefer rebase merges over merge commits on this project."}},
        {"timestamp": "2026-11-30T08:00:04Z", "type": "response_item", "payload": {"type": "message",
         "role": "assistant", "content": [{"type": "output_text", "text": "Noted."}]}},
        {"timestamp": "2026-11-30T08:00:05Z", "type": "response_item", "payload": {"type": "function_call",
         "name": "shell", "arguments": "{\"cmd\": \"we decided to use rm -rf\"}"}},
    ]
    rollout.write_text("".join(json.dumps(line) + "\n" for line in lines))
    hook(cli, "session-end", payload("SessionEnd", rollout, workspace), agent="codex")
    [captured] = captures(cli, workspace)
    assert "codex session 's1' at session-end" in captured["summary"]
    cli.ok("scheduler", "drain")
    assert [e["text"] for e in captured_memories(cli, workspace).values()] == [
        "I prefer rebase merges over merge commits on this project."
    ]
    assert cli.json("recall", "rebase merges", cwd=workspace)["results"][0]["status"] == "active"


def test_capture_is_off_without_an_llm_unless_asked(cli: Cli, tmp_path: Path, workspace: Path) -> None:
    transcript = tmp_path / "s1.jsonl"
    transcript.write_text(FIRST_PART)
    hook(cli, "pre-compact", payload("PreCompact", transcript, workspace))
    assert not (cli.data_dir / "stores").exists() or not captures(cli, workspace)
    cli.ok("config", "set", "capture.sessions", "off")
    hook(cli, "session-end", payload("SessionEnd", transcript, workspace))
    assert not (cli.data_dir / "stores").exists() or not captures(cli, workspace)


def test_a_chatter_only_session_stores_nothing(cli: Cli, tmp_path: Path, workspace: Path) -> None:
    cli.ok("config", "set", "capture.sessions", "on")
    transcript = tmp_path / "s1.jsonl"
    transcript.write_text("".join([
        claude_line("user", "hi"),
        claude_line("assistant", [{"type": "text", "text": "Hello! How can I help you today?"}]),
        claude_line("user", "Can you refactor the parser so it always returns a list?"),
        claude_line("assistant", [{"type": "text", "text": "Sure. I decided to split it into two functions."}]),
        claude_line("user", "Looks good, thanks. Let's always keep going like this today."),
    ]))
    hook(cli, "session-end", payload("SessionEnd", transcript, workspace))
    cli.ok("scheduler", "drain")
    [extracted] = cli.json("events", "list", "--type", "session.extracted", cwd=workspace)["events"]
    assert "-> 0 memory(ies)" in extracted["summary"] and "nothing durable" in extracted["summary"]
    assert cli.json("status", cwd=workspace)["by_status"] == {}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "memman: warning: session capture skipped: No such file or directory: {path}\n"),
        ("directory", "memman: warning: session capture skipped: Is a directory: {path}\n"),
        ("garbage", "memman: warning: session capture skipped: {path} is not a JSONL transcript (2 unreadable lines)\n"),
    ],
)
@pytest.mark.parametrize("event", ["pre-compact", "session-end"])
def test_a_bad_transcript_fails_open_with_one_line(
    cli: Cli, tmp_path: Path, workspace: Path, kind: str, expected: str, event: str
) -> None:
    cli.ok("config", "set", "capture.sessions", "on")
    path = tmp_path / "transcript.jsonl"
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(b"\x00\xff not json at all\n{\"unclosed\": \n")
    run = hook(cli, event, payload("PreCompact", path, workspace))
    assert run.stdout == "" and run.stderr == expected.format(path=path)
    if kind == "garbage":  # garbage stays garbage: the next hook neither warns again nor records anything
        assert hook(cli, event, payload("PreCompact", path, workspace)).stderr == ""
    assert not (cli.data_dir / "stores").exists() or not captures(cli, workspace)


def test_install_says_whether_capture_is_on_and_the_setting_is_validated(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "home" / ".claude").mkdir(parents=True, exist_ok=True)
    out = cli.ok("install", "--target", "claude-code", "--no-wizard", "--no-scheduler").out
    assert "session capture: off (no LLM configured); 'memman config set capture.sessions on' captures with offline rules\n" in out
    cli.ok("config", "set", "capture.sessions", "on")
    out = cli.ok("install", "--target", "claude-code", "--no-wizard", "--no-scheduler", "--json").json()
    assert out["session_capture"].startswith("on (capture.sessions = on; the drain extracts memories by offline rules")
    assert_error(cli("config", "set", "capture.sessions", "maybe"), 2, contains=["capture.sessions"])
    cli.ok("uninstall")


def test_purging_a_captured_memory_erases_its_capture_and_the_memories_drawn_from_it(
    cli: Cli, tmp_path: Path, workspace: Path
) -> None:
    cli.ok("config", "set", "capture.sessions", "on")
    transcript = tmp_path / "s1.jsonl"
    transcript.write_text(FIRST_PART)
    hook(cli, "session-end", payload("SessionEnd", transcript, workspace))
    cli.ok("scheduler", "drain")
    produced = captured_memories(cli, workspace)
    pnpm = next(m for m, e in produced.items() if "pnpm" in e["text"])
    report = cli.json("purge", pnpm, "--yes", "--reason", "test", cwd=workspace)
    assert report["remaining"] == []  # purge's own scan of every file under the data dir
    assert set(produced) | {produced[pnpm]["meta"]["capture"]} <= set(report["purged"])
    store_dir = next(p for p in (cli.data_dir / "stores").iterdir() if p.name.startswith("project-"))
    stored = b"".join(p.read_bytes() for p in store_dir.iterdir() if p.is_file())
    for text in (b"pnpm", b"ONNX runtime wheels", b"failing test in tests/test_api.py"):
        assert text not in stored, text
    assert cli.json("status", cwd=workspace)["by_status"] == {}
    assert cli.json("events", "verify", cwd=workspace)["ok"] is True
