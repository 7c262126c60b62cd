"""`scheduler drain` while another drain runs (the automatic drain a write
started, a timer's): it waits for that drain to let go, bounded by --wait,
then drains what is left and exits 0; --no-wait keeps the old exit 4. The
other drain is played by this test holding the store's lock, so when it lets
go is decided by the test, not by timing."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

from tests.cli.conftest import Cli, Result, assert_error


def _hold(lock: Path) -> int:
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the running drain holds it
    os.pwrite(fd, b"4242", 0)
    return fd


def test_a_drain_waits_for_the_running_one_then_drains_what_is_left(cli: Cli) -> None:
    cli.ok("remember", "The release train leaves every Tuesday")
    fd = _hold(cli.data_dir / "stores" / "default" / "drain.lock")
    drain = subprocess.Popen(
        cli.argv("scheduler", "drain", "--json"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli.env(), cwd=cli.data_dir.parent,
    )
    try:
        assert drain.stderr is not None
        line = drain.stderr.readline().decode()  # it says it waits, and on whom, before it waits
        assert line == "memman: waiting for the drain running on store 'default' (pid 4242) ...\n"
        assert cli.json("status")["backlog"] == 1  # nothing drained while the other holds the lock
    finally:
        os.close(fd)  # the other drain finishes
    out, err = drain.communicate(timeout=120)
    assert drain.returncode == 0, err
    assert err == b""
    [report] = json.loads(out)["stores"]
    assert (report["store"], report["completed"], report["remaining"]) == ("default", 1, 0)
    assert cli.json("status")["backlog"] == 0


def test_a_drain_gives_up_after_its_wait_with_exit_4_and_changes_nothing(cli: Cli) -> None:
    cli.ok("remember", "The release train leaves every Tuesday")
    before = cli.events()
    fd = _hold(cli.data_dir / "stores" / "default" / "drain.lock")
    try:
        run = cli("scheduler", "drain", "--wait", "1")
        assert run.err.startswith("memman: waiting for the drain running on store 'default' (pid 4242) ...\n")
        assert_error(
            Result(run.code, run.out, run.err.split("\n", 1)[1]), 4,
            "another drain is still running on store 'default' (pid 4242) after waiting 1 s;"
            " try again later or wait longer (--wait SECONDS)",
        )
        assert_error(cli("scheduler", "drain", "--no-wait"), 4,
                     "another drain is running on store 'default' (pid 4242); try again later")  # fmt: skip
    finally:
        os.close(fd)
    assert cli.events() == before
    assert cli.json("scheduler", "drain")["stores"][0]["completed"] == 1


def test_free_stores_drain_first_and_the_busy_one_after_it_frees(cli: Cli) -> None:
    cli.ok("store", "create", "busy")
    cli.ok("store", "create", "free")
    cli.ok("--store", "busy", "remember", "The busy store waits on its provider")
    cli.ok("--store", "free", "remember", "The free store drains at once")
    fd = _hold(cli.data_dir / "stores" / "busy" / "drain.lock")
    drain = subprocess.Popen(
        cli.argv("scheduler", "drain", "--json"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli.env(), cwd=cli.data_dir.parent,
    )
    try:
        assert drain.stderr is not None
        assert drain.stderr.readline().decode() == "memman: waiting for the drain running on store 'busy' (pid 4242) ...\n"
        assert cli.json("--store", "free", "status")["backlog"] == 0  # drained before the wait
    finally:
        os.close(fd)
    out, _ = drain.communicate(timeout=120)
    assert drain.returncode == 0
    stores = json.loads(out)["stores"]
    assert sorted((r["store"], r["completed"]) for r in stores) == [("busy", 1), ("free", 1)]
