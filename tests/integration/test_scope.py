"""Scope follows the work: inside a project (a git root or a .memman marker)
the CLI and the hooks use that project's store plus the personal store;
preferences go to the personal store; another repository sees nothing of
this project; --store / MEMMAN_STORE win; memories of an existing single
store stay recallable everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Cli, assert_error


def repo(root: Path, name: str) -> Path:
    path = root / name
    (path / ".git").mkdir(parents=True)  # all project detection looks at
    (path / "src" / "deep").mkdir(parents=True)
    return path


def hook(cli: Cli, event: str, payload: dict) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "memman", "hook", event], input=json.dumps(payload).encode(),
        capture_output=True, env=cli.env(), timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def test_each_repository_has_its_store_and_preferences_follow_the_user(cli: Cli, tmp_path: Path) -> None:
    alpha, beta = repo(tmp_path, "alpha"), repo(tmp_path, "beta")
    here = alpha / "src" / "deep"
    which = cli.json("store", "which", cwd=here)
    assert which["project_root"] == str(alpha) and which["project"].startswith("alpha-")
    assert which["personal"] == "default" and which["recall"] == [which["project"], "default"]
    fact = cli.json("remember", "The alpha service listens on port 7311", "--cat", "fact", cwd=here)
    pref = cli.json("remember", "I prefer short commit messages", "--cat", "preference", cwd=here)
    forced = cli.json("remember", "I review pull requests in the morning", "--personal", cwd=here)
    assert fact["store"] == which["project"] and pref["store"] == "default" and forced["store"] == "default"

    inside = cli.json("recall", "alpha service port", cwd=alpha)
    assert [h["store"] for h in inside["results"]][:1] == [which["project"]]
    assert inside["meta"]["stores"] == [which["project"], "default"]
    elsewhere = cli.json("recall", "alpha service port", cwd=beta)
    assert all(h["id"] != fact["id"] for h in elsewhere["results"])  # another repository: nothing of alpha
    assert cli.json("recall", "commit messages", cwd=beta)["results"][0]["id"] == pref["id"]

    forgotten = cli.json("forget", fact["id"], cwd=here)  # found in the project store
    assert forgotten["store"] == which["project"]
    cli.ok("restore", fact["id"][-8:], cwd=here)


def test_a_marker_names_the_store_and_explicit_choices_win(cli: Cli, tmp_path: Path) -> None:
    project = repo(tmp_path, "gamma")
    (project / ".memman").write_text('store = "gamma-shared"\n')
    assert cli.json("store", "which", cwd=project)["project"] == "gamma-shared"
    assert cli.json("remember", "Gamma deploys on Fridays", cwd=project)["store"] == "gamma-shared"
    explicit = cli.json("--store", "solo", "store", "which", cwd=project)
    assert explicit == {**explicit, "project": None, "personal": "solo", "recall": ["solo"], "explicit": True}
    cli.ok("store", "create", "solo")
    assert cli.json("remember", "x marks the spot", cwd=project, env={"MEMMAN_STORE": "solo"})["store"] == "solo"


def test_existing_single_store_memories_stay_recallable_inside_a_project(cli: Cli, tmp_path: Path) -> None:
    old = cli.json("remember", "The team standup is at 9:30")["id"]  # outside any project: the default store
    project = repo(tmp_path, "delta")
    assert cli.json("recall", "standup", cwd=project)["results"][0]["id"] == old
    cli.ok("config", "set", "scope.projects", "false")
    assert cli.json("remember", "Delta uses Rust", cwd=project)["store"] == "default"  # scoping off: one store


def test_hooks_choose_the_store_from_their_cwd(cli: Cli, tmp_path: Path) -> None:
    alpha, beta = repo(tmp_path, "alpha"), repo(tmp_path, "beta")
    cli.ok("remember", "The alpha billing job runs at midnight UTC", "--cat", "fact", cwd=alpha)
    cli.ok("scheduler", "drain")
    cli.ok("config", "set", "recall.inject_budget_ms", "30000")
    prompt = "when does the alpha billing job run"
    inside = hook(cli, "user-prompt-submit", {"session_id": "s", "cwd": str(alpha), "prompt": prompt})
    assert "midnight UTC" in json.loads(inside)["hookSpecificOutput"]["additionalContext"]
    assert hook(cli, "user-prompt-submit", {"session_id": "s", "cwd": str(beta), "prompt": prompt}) == ""
    start = json.loads(hook(cli, "session-start", {"session_id": "s", "cwd": str(alpha), "source": "startup"}))
    assert "project store 'alpha-" in start["hookSpecificOutput"]["additionalContext"]


def test_bad_scope_input_is_one_line(cli: Cli, tmp_path: Path) -> None:
    assert_error(cli("store", "which", "--cwd", str(tmp_path / "nope")), 2, contains=["--cwd"])
    assert_error(cli("--store", "Bad Name", "remember", "x", "--personal"), 2, contains=["invalid store name"])
    assert_error(cli("remember", "x", "--personal", "--cat", "nope"), 2, contains=["--cat"])
