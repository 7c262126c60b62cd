"""`scheduler serve` drains, pauses within a second of `scheduler stop`
(writes refused, recall still answering), resumes on `start`, and exits 0
promptly on SIGTERM, also as PID 1 of the NanoClaw recipe's entrypoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from memman.install.prime import hooks_dir
from memman.scheduler import ops, state
from memman.service import Memman
from tests.cli.conftest import Cli, assert_error, distinct_texts
from tests.integration.conftest import snapshot


def _wait(predicate, timeout: float = 20.0, step: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def _backlog(cli: Cli) -> int:
    return sum(ops.status(cli.data_dir).backlog.values())  # in-process: polling through the CLI costs 100+ ms a call


def _serve(cli: Cli, *args: str, err: Path | None = None) -> subprocess.Popen[bytes]:
    if err is None:
        return subprocess.Popen(cli.argv("scheduler", "serve", *args), env=cli.env(), stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    with err.open("wb") as stderr:  # the child keeps its own descriptor
        return subprocess.Popen(cli.argv("scheduler", "serve", *args), env=cli.env(), stderr=stderr, stdout=subprocess.PIPE)


def _terminate(proc: subprocess.Popen[bytes]) -> tuple[int, float, str]:
    started = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    return proc.returncode, (time.perf_counter() - started) * 1000, (err or b"").decode()


def test_serve_drains_pauses_on_stop_resumes_and_exits_cleanly_on_sigterm(cli: Cli, tmp_path: Path) -> None:
    with Memman(cli.data_dir) as app:
        for text in distinct_texts(20):
            app.remember(text)
    log = tmp_path / "serve.err"
    proc = _serve(cli, "--interval", "1", err=log)
    try:
        # the backlog empties when the drain's events land, a moment before the heartbeat
        _wait(lambda: _backlog(cli) == 0 and state.read_heartbeat(cli.data_dir) is not None)
        assert state.read_heartbeat(cli.data_dir).mode == "serve"

        cli.ok("scheduler", "stop")
        _wait(lambda: "paused" in log.read_text())
        assert_error(cli("remember", "The garden gate is green"), 4, contains=["recall-only", "memman scheduler start"])
        assert cli.json("recall", "kor", "--basic")["results"]  # reads keep working
        beat = state.read_heartbeat(cli.data_dir).at
        time.sleep(1.3)  # more than the interval: a running loop would have beaten again
        assert state.read_heartbeat(cli.data_dir).at == beat

        cli.ok("scheduler", "start")
        with Memman(cli.data_dir) as app:
            app.remember("The harbour crane is painted orange")
        _wait(lambda: _backlog(cli) == 0)
    finally:
        code, ms, _ = _terminate(proc)
    err = log.read_text()
    print(f"\nserve stop latency after SIGTERM: {ms:.0f} ms")
    assert code == 0, err
    assert "paused" in err and "resuming" in err and "exited cleanly" in err
    assert ms < 3000
    assert not (cli.data_dir / "scheduler" / "serve.pid").exists()


def test_trigger_wakes_a_running_serve_loop(cli: Cli) -> None:
    proc = _serve(cli, "--interval", "3600")
    try:
        _wait(lambda: (cli.data_dir / "scheduler" / "serve.pid").exists())
        cli.ok("remember", "The bakery opens at seven")
        assert cli.json("scheduler", "trigger") == {"how": "woke serve", "processed": 0, "remaining": 0}
        _wait(lambda: _backlog(cli) == 0, timeout=10)
    finally:
        code, _, err = _terminate(proc)
    assert code == 0, err


def test_serve_once_skips_while_stopped_and_drains_when_running(cli: Cli) -> None:
    cli.ok("remember", "The ferry leaves at noon")
    cli.ok("scheduler", "stop")
    assert cli.json("scheduler", "serve", "--once")["reason"] == "stopped"
    assert_error(cli("scheduler", "drain"), 4, contains=["recall-only"])
    assert_error(cli("scheduler", "trigger"), 4, contains=["recall-only"])
    cli.ok("scheduler", "start")
    assert cli.json("scheduler", "serve", "--once")["processed"] == 1


def test_nanoclaw_entrypoint_serves_a_group_store_as_pid1_and_leaves_the_global_store_alone(cli: Cli, tmp_path: Path) -> None:
    group, global_ = tmp_path / "groups" / "family" / "memman", tmp_path / "global"
    Cli(global_).ok("remember", "The family wifi password is kept in the red notebook")
    Cli(global_).ok("scheduler", "drain")
    os.chmod(global_, 0o500)  # mounted read-only in the container
    before = _data_files(global_)
    group_cli = Cli(group)
    env = {**group_cli.env(), "MEMMAN_PYTHON": sys.executable}
    entrypoint = hooks_dir() / "nanoclaw" / "entrypoint.sh"
    proc = subprocess.Popen(["sh", str(entrypoint)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait(lambda: (group / "scheduler" / "serve.pid").exists())
        assert int((group / "scheduler" / "serve.pid").read_text()) == proc.pid  # exec: serve is the process itself
        group_cli.ok("remember", "Grandma's birthday is on the ninth of May")
        assert group_cli.json("scheduler", "trigger")["how"] == "woke serve"
        _wait(lambda: _backlog(group_cli) == 0)
        hits = Cli(global_).json("recall", "wifi password", "--basic")["results"]
        assert hits and "red notebook" in hits[0]["content"]
    finally:
        code, ms, err = _terminate(proc)
        os.chmod(global_, 0o700)
    assert code == 0, err
    assert _data_files(global_) == before


def _data_files(root: Path) -> dict[str, object]:
    """The tree minus SQLite's -shm files (shared-memory indexes every reader
    maps, not data) and recall's use records (memman/lifecycle/access.py: the
    tests run as root, so the read-only mode does not stop that append; on a
    real read-only mount recall skips it)."""
    return {k: v for k, v in snapshot(root).items() if not k.endswith(("-shm", "access.log"))}
