"""Drain locks are per store: a drain busy on one store (say, waiting out a
provider's Retry-After) never blocks another store's drain."""

from __future__ import annotations

import fcntl
import os

from tests.cli.conftest import Cli, assert_error


def test_a_store_being_drained_does_not_block_the_others(cli: Cli) -> None:
    cli.ok("store", "create", "slow")
    cli.ok("store", "create", "quick")
    cli.ok("--store", "slow", "remember", "The slow store waits on its provider")
    cli.ok("--store", "quick", "remember", "The quick store drains at once")
    lock = cli.data_dir / "stores" / "slow" / "drain.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a drain of 'slow' holds it
        os.pwrite(fd, b"4242", 0)
        run = cli("scheduler", "drain", "--no-wait", "--json")
        assert run.code == 0, run
        assert [(r["store"], r["completed"]) for r in run.json()["stores"]] == [("quick", 1)]
        assert "skipped: another drain is running on store 'slow' (pid 4242)" in run.err
        assert_error(cli("scheduler", "drain", "--no-wait", "--store", "slow"), 4,
                     "another drain is running on store 'slow' (pid 4242); try again later")  # fmt: skip
    finally:
        os.close(fd)
    assert cli.json("scheduler", "drain", "--store", "slow")["stores"][0]["completed"] == 1
