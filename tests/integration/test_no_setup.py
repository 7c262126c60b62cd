"""The issue's acceptance run: in a temporary HOME with no systemd, `memman
install`, then a scripted session through the real hook commands install
wrote (Claude Code JSON, then Codex JSON) leads to drained, embedded memories
with no manual drain; a prompt from another repository gets nothing from this
project; an unrelated prompt injects nothing; a relevant one injects the right
memory first; uninstall restores HOME byte for byte. Codex's hooks, config.toml
and MCP registration round-trip too."""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from pathlib import Path

from memman.install import jsonc
from tests.cli.conftest import Cli
from tests.integration.conftest import run_hook, snapshot
from tests.integration.test_autodrain import no_bus_path

USER_CODEX_CONFIG = '# my codex config\nmodel = "o4"\n\n[features]\nweb_search = true\n'


def _commands(path: Path) -> dict[str, str]:
    settings = jsonc.parse(path.read_text()).plain()
    return {event: h["command"] for event, entries in settings["hooks"].items() for e in entries for h in e["hooks"]
            if "memman-hook.sh" in h["command"]}


def _payload(event: str, cwd: Path, **fields: object) -> bytes:
    return json.dumps({"session_id": "sess-9", "transcript_path": "/tmp/t.jsonl", "cwd": str(cwd),
                       "hook_event_name": event, **fields}).encode()


def _context(result: subprocess.CompletedProcess[bytes], event: str) -> str:
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["hookSpecificOutput"]["hookEventName"] == event
    return answer["hookSpecificOutput"]["additionalContext"]


def _wait_embedded(cli: Cli, project: Path, wanted: int, seconds: float = 120.0) -> float:
    started = time.monotonic()
    while True:
        status = cli.json("status", cwd=project)
        if status["backlog"] == 0 and status["vectors"] >= wanted:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, f"not drained: {status}"
        time.sleep(0.5)


def test_a_session_with_no_setup_drains_scopes_and_injects(cli: Cli, home: Path, tmp_path: Path) -> None:
    (home / ".claude").mkdir()
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text(USER_CODEX_CONFIG)
    before = snapshot(home)
    env = {"PATH": no_bus_path(tmp_path), "MEMMAN_AUTODRAIN": "1"}
    out = cli.json("install", "--no-wizard", env=env)
    assert {t["target"] for t in out["targets"]} == {"claude-code", "codex"}
    assert out["worker"]["action"] == "automatic"
    cli.ok("config", "set", "recall.inject_budget_ms", "30000")  # a loaded test machine must not turn injection into the reminder
    hook_env = {k: v for k, v in cli.env(env).items() if k != "MEMMAN_DATA_DIR"}  # the commands carry the data dir

    project, other = tmp_path / "shop", tmp_path / "elsewhere"
    (project / ".git").mkdir(parents=True)
    (other / ".git").mkdir(parents=True)
    claude = _commands(home / ".claude" / "settings.json")
    start = _context(run_hook(claude["SessionStart"], _payload("SessionStart", project, source="startup"), hook_env), "SessionStart")
    assert "automatic background drain" in start and "project store 'shop-" in start

    # the agent's own commands, from the project directory, as its Bash tool runs them
    cli.ok("remember", "The shop checkout uses Stripe with webhooks on /hooks/stripe", "--cat", "decision", env=env, cwd=project)
    cli.ok("remember", "Product images are resized by a Lambda named thumbor-resize", "--cat", "fact", env=env, cwd=project)
    stop = run_hook(claude["Stop"], _payload("Stop", project, stop_hook_active=False), hook_env)
    assert stop.returncode == 0
    waited = _wait_embedded(cli, project, 2)
    print(f"\ndrained and embedded {waited:.1f} s after the writes, no manual drain")

    relevant = _context(run_hook(claude["UserPromptSubmit"], _payload(
        "UserPromptSubmit", project, prompt="which payment provider does checkout use and where do its webhooks go"), hook_env),
        "UserPromptSubmit")
    assert "Stripe" in relevant.splitlines()[1]  # the right memory, first
    for prompt, cwd in (("write a haiku about autumn", project), ("what is 17 times 23", project),
                        ("which payment provider does checkout use", other)):
        result = run_hook(claude["UserPromptSubmit"], _payload("UserPromptSubmit", cwd, prompt=prompt), hook_env)
        assert (result.returncode, result.stdout) == (0, b""), (prompt, cwd)

    codex = _commands(home / ".codex" / "hooks.json")
    assert set(codex) == {"SessionStart", "UserPromptSubmit", "Stop", "PreCompact", "SessionEnd"}
    config = tomllib.loads((home / ".codex" / "config.toml").read_text())
    assert config["features"] == {"web_search": True, "codex_hooks": True} and config["model"] == "o4"
    codex_start = run_hook(codex["SessionStart"], _payload("SessionStart", other, source="startup", model="gpt-5"), hook_env)
    assert "store 'default'" in _context(codex_start, "SessionStart")  # valid hookSpecificOutput, even with nothing stored
    cli.ok("remember", "Codex sessions use the staging Stripe key", "--cat", "fact", env=env, cwd=project)
    ended = run_hook(codex["SessionEnd"], _payload("SessionEnd", project, reason="exit"), hook_env)
    assert (ended.returncode, ended.stdout) == (0, b"")
    _wait_embedded(cli, project, 3)
    codex_prompt = _context(run_hook(codex["UserPromptSubmit"], _payload(
        "UserPromptSubmit", project, prompt="which Stripe key do Codex sessions use", turn_id="t1"), hook_env), "UserPromptSubmit")
    assert "staging Stripe key" in codex_prompt.splitlines()[1]

    cli.ok("uninstall", env=env)
    assert snapshot(home) == before


def test_install_mcp_registers_for_both_agents_and_uninstall_removes_it(cli: Cli, home: Path, tmp_path: Path) -> None:
    (home / ".claude").mkdir()
    (home / ".codex").mkdir()
    (home / ".claude.json").write_text('{"numStartups": 3, "mcpServers": {"other": {"command": "x"}}}\n')
    before = snapshot(home)
    env = {"PATH": no_bus_path(tmp_path)}
    cli.ok("install", "--no-wizard", "--mcp", env=env)
    claude = json.loads((home / ".claude.json").read_text())
    assert claude["mcpServers"]["other"] == {"command": "x"}
    entry = claude["mcpServers"]["memman"]
    assert entry["args"] == ["-P", "-m", "memman", "mcp"] and Path(entry["command"]).is_absolute()
    assert entry["env"]["MEMMAN_DATA_DIR"] == str(cli.data_dir)
    codex = tomllib.loads((home / ".codex" / "config.toml").read_text())
    assert codex["mcp_servers"]["memman"]["args"] == ["-P", "-m", "memman", "mcp"]
    cli.ok("install", "--no-wizard", env=env)  # without --mcp: the registrations go again
    assert "memman" not in json.loads((home / ".claude.json").read_text())["mcpServers"]
    assert "mcp_servers" not in tomllib.loads((home / ".codex" / "config.toml").read_text())
    cli.ok("uninstall", env=env)
    assert snapshot(home) == before


def test_install_warns_when_memman_is_not_on_path(cli: Cli, home: Path, tmp_path: Path) -> None:
    (home / ".claude").mkdir()
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "systemctl").write_text("#!/bin/sh\nexit 1\n")
    (bare / "systemctl").chmod(0o755)
    run = cli("install", "--target", "claude-code", "--no-wizard", env={"PATH": f"{bare}:/usr/bin:/bin"})
    assert run.code == 0
    [warning] = run.err.splitlines()
    assert warning.startswith("memman: warning: 'memman' is not on PATH") and "ln -s" in warning
    assert os.path.isabs(run.out.split("memman: ", 1)[1].split()[0])
