"""The worker that always exists: with no OS timer and no serve loop, a
`remember` starts a detached, logged background drain that turns the text into
an embedded memory with no manual drain; a burst of writes shares drains
(writes during a drain are handed to it); `scheduler install` without a systemd user bus fails with
one line and leaves nothing behind; `install` says what worker it set up."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from tests.cli.conftest import Cli, assert_error
from tests.integration.conftest import snapshot

AUTO = {"MEMMAN_AUTODRAIN": "1"}


def wait_drained(cli: Cli, store: str = "default", seconds: float = 90.0) -> dict:
    """Poll (not a timed assert: the deadline only bounds a hang) until nothing is pending."""
    deadline = time.monotonic() + seconds
    while True:
        status = cli.json("--store", store, "status")
        if status["backlog"] == 0 and status["by_status"].get("active"):
            return status
        assert time.monotonic() < deadline, f"no drain finished: {status}"
        time.sleep(0.3)


def no_bus_path(tmp_path: Path) -> str:
    """A systemctl that behaves as in a container: no user bus."""
    bin_dir = tmp_path / "nobus"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "systemctl"
    fake.write_text("#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n")
    fake.chmod(0o755)
    return f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}"


def test_remember_starts_a_background_drain_that_embeds(cli: Cli) -> None:
    cli.ok("remember", "The staging database runs Postgres 16", "--cat", "fact", env=AUTO)
    status = wait_drained(cli)
    assert status["vectors"] >= 1  # embedded, not only extracted
    beat = json.loads((cli.data_dir / "scheduler" / "heartbeat.json").read_text())
    assert beat["mode"] == "auto"
    log = (cli.data_dir / "scheduler" / "autodrain.log").read_text()
    assert ": drained, " in log
    assert "automatic background drain" in cli.json("scheduler", "status", env=AUTO)["worker_detail"]


def test_a_burst_of_writes_shares_drains(cli: Cli) -> None:
    for i in range(4):
        cli.ok("remember", f"Burst fact number {i} about the ledger service", env=AUTO)
    wait_drained(cli)
    time.sleep(0.5)  # a drain that was queued by the trigger file finishes its extra pass
    log = (cli.data_dir / "scheduler" / "autodrain.log").read_text().splitlines()
    drains = {line.split(" pid ")[1].split()[0] for line in log}
    assert len(drains) < 4  # writes while a drain runs are handed to it (trigger file), not each given a process
    assert cli.json("status")["backlog"] == 0


def test_nothing_is_spawned_while_stopped_or_disabled(cli: Cli) -> None:
    cli.ok("config", "set", "scheduler.auto_drain", "false")
    cli.ok("remember", "The boiler was serviced in March")
    assert not (cli.data_dir / "scheduler" / "autodrain.log").exists()
    assert cli.json("scheduler", "status")["worker"] == "none"


def test_scheduler_install_without_a_user_bus_fails_cleanly(cli: Cli, home: Path, tmp_path: Path) -> None:
    before = snapshot(home)
    run = cli("scheduler", "install", "--platform", "systemd", env={"PATH": no_bus_path(tmp_path)})
    assert_error(run, 1, contains=["Failed to connect to bus", "nothing was installed"])
    assert snapshot(home) == before  # no unit files, no created directories
    assert cli.json("scheduler", "status")["units"] is None


def test_install_says_which_worker_it_set_up(cli: Cli, home: Path, tmp_path: Path) -> None:
    (home / ".claude").mkdir()
    before = snapshot(home)
    out = cli.json("install", "--target", "claude-code", "--no-wizard", env={"PATH": no_bus_path(tmp_path)})
    assert out["worker"]["action"] == "automatic"
    assert "drains in the background by itself" in out["worker"]["detail"]
    assert not (home / ".config").exists()
    cli.ok("uninstall")
    assert snapshot(home) == before


def test_install_sets_up_the_timer_where_it_can_and_uninstall_removes_it(cli: Cli, home: Path, tmp_path: Path) -> None:
    (home / ".claude").mkdir()
    before = snapshot(home)
    bin_dir = tmp_path / "bus"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    (bin_dir / "systemctl").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (bin_dir / "systemctl").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = cli.json("install", "--target", "claude-code", "--no-wizard", env=env)
    assert out["worker"]["action"] == "installed" and "systemd timer draining every 300s" in out["worker"]["detail"]
    assert (home / ".config" / "systemd" / "user" / "memman-drain.timer").exists()
    assert cli.json("scheduler", "status", env=env)["worker"] == "timer"
    cli.ok("uninstall", env=env)
    assert "--user disable --now memman-drain.timer" in calls.read_text()
    assert snapshot(home) == before
