"""Many processes, one store: concurrent `remember`s lose nothing and keep seq
contiguous; a drain killed with SIGKILL mid-way and run again neither loses nor
duplicates a derivation; and only one drain runs at a time per data dir."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from tests.cli.conftest import Cli, assert_error, distinct_texts

WRITERS = 8
PER_WRITER = 25
# ~12 s of drain on this 2-core machine (measured: 3000 inputs at ~260/s; 600 took only 1 s, too
# short to kill reliably once the drain learned to work in chunks): long enough to kill mid-way.
KILL_INPUTS = 3000
PER_INPUT = ["facts.extracted", "memory.reconciled", "memory.embedded", "edges.inferred"]


def _writer(cli: Cli, texts: list[str], failures: list[str]) -> None:
    for text in texts:
        proc = subprocess.Popen(
            cli.argv("remember", text), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli.env()
        )
        out, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures.append(f"{text!r}: exit {proc.returncode}: {err.decode(errors='replace')}")


def test_eight_processes_remembering_at_once_lose_nothing(cli: Cli) -> None:
    texts = distinct_texts(WRITERS * PER_WRITER)
    failures: list[str] = []
    # The store does not exist yet: the first writers also race to create it.
    threads = [
        threading.Thread(target=_writer, args=(cli, texts[i::WRITERS], failures)) for i in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    events = cli.events()
    assert [e["seq"] for e in events] == list(range(1, 201))  # contiguous, no gaps, nothing else
    assert Counter(e["type"] for e in events) == {"memory.remembered": 200}
    exported = [json.loads(line)["text"] for line in cli.ok("export").out.splitlines()]
    assert sorted(exported) == sorted(texts)  # every text, once
    assert cli.json("events", "verify")["ok"] is True
    status = cli.json("status")
    assert (status["backlog"], status["by_status"]) == (200, {"pending": 200})

    report = cli.json("scheduler", "drain")["stores"][0]
    assert (report["completed"], report["failed"], report["remaining"]) == (200, 0, 0)
    status = cli.json("status")
    assert (status["backlog"], status["by_status"], status["vectors"]) == (0, {"active": 200}, 200)
    decisions = [e["summary"] for e in cli.events("--type", "memory.reconciled")]
    assert len(decisions) == 200 and all(" ADD among " in d for d in decisions)


def _backlog(cli: Cli) -> int:
    return cli.json("status")["backlog"]


def test_a_drain_killed_mid_way_and_rerun_loses_and_duplicates_nothing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in distinct_texts(KILL_INPUTS)))
    assert cli.json("import", str(path))["imported"] == KILL_INPUTS
    inputs = [e["seq"] for e in cli.events("--type", "memory.remembered")]

    drain = subprocess.Popen(
        cli.argv("scheduler", "drain"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli.env()
    )
    try:
        deadline = time.monotonic() + 60
        while _backlog(cli) == KILL_INPUTS:  # until the first derivations are committed
            assert drain.poll() is None, "the drain finished before it could be killed; raise KILL_INPUTS"
            assert time.monotonic() < deadline, "the drain made no progress"
            time.sleep(0.1)
        # While it runs, a second drain is refused, naming the holder.
        assert_error(cli("scheduler", "drain", "--no-wait"), 4,
                     f"another drain is running on store 'default' (pid {drain.pid}); try again later")  # fmt: skip
        drain.send_signal(signal.SIGKILL)
    finally:
        drain.kill()
        drain.communicate()
    assert drain.returncode == -signal.SIGKILL

    after_kill = _backlog(cli)
    assert 0 < after_kill < KILL_INPUTS
    # The lock died with the process (flock), so the rerun starts at once.
    report = cli.json("scheduler", "drain")["stores"][0]
    assert (report["failed"], report["remaining"]) == (0, 0)
    assert report["completed"] == after_kill  # it picked up exactly what was left

    for kind in PER_INPUT:
        per_input = Counter(e["causation"] for e in cli.events("--type", kind))
        assert sorted(per_input) == inputs, kind
        assert set(per_input.values()) == {1}, kind  # exactly one of each derivation per input
    status = cli.json("status")
    assert (status["backlog"], status["by_status"]) == (0, {"active": KILL_INPUTS})
    assert status["vectors"] == KILL_INPUTS  # one vector per memory: none duplicated, none missing
    assert cli.json("events", "verify")["ok"] is True
    assert cli("events", "verify").code == 0


def test_a_second_drain_while_the_lock_is_held_exits_4_and_changes_nothing(cli: Cli, data_dir: Path) -> None:
    cli.remember("Builds run on the ci-7 runner")
    before = cli.events()
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.pwrite(fd, b"4242", 0)
        for args in (("scheduler", "drain", "--no-wait"), ("scheduler", "drain", "--no-wait", "--json"),
                     ("scheduler", "drain", "--no-wait", "--store", "default")):
            assert_error(cli(*args), 4,
                         f"another drain is running in {data_dir.resolve()} (pid 4242); try again later")  # fmt: skip
        assert cli.events() == before
        assert cli.json("status")["backlog"] == 1
    finally:
        os.close(fd)
    assert cli.json("scheduler", "drain")["stores"][0]["completed"] == 1


def test_writers_are_not_blocked_by_a_running_drain(cli: Cli, data_dir: Path) -> None:
    # The drain lock serialises drains only: remember and recall go on while it is held.
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        memory_id = cli.remember("Builds run on the ci-7 runner")
        assert [h["id"] for h in cli.json("recall", "builds runner")["results"]] == [memory_id]
    finally:
        os.close(fd)
