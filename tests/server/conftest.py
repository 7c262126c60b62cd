"""The warm server under test: a data dir, a private run dir, the real CLI in
subprocesses, and every server a test started killed afterwards."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memman.server import wire

WAIT_S = 60.0


class Warm:
    def __init__(self, data_dir: Path, run_base: str) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir), "XDG_RUNTIME_DIR": run_base, "MEMMAN_SERVER": "auto"}
        self.env.pop("MEMMAN_DEBUG", None)
        self.sock, self.lock, self.log = wire.paths(os.path.realpath(data_dir), self.env)

    def run(self, *args: str, input: bytes = b"", **extra: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "memman", *args],
            input=input,
            capture_output=True,
            env={**self.env, **extra},
            timeout=120,
        )

    def status(self) -> dict[str, object]:
        proc = self.run("server", "status", "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def start(self) -> dict[str, object]:
        proc = self.run("server", "start", "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def wait_until(self, predicate, what: str):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def warm(data_dir: Path) -> Iterator[Warm]:
    run_base = tempfile.mkdtemp(prefix="mm")  # short: a socket path must fit in 108 bytes
    w = Warm(data_dir, run_base)
    # cold (a served remember would start a server: each test starts its own)
    w.run("remember", "Chose SQLite for the store: zero dependencies, embeddable", "--cat", "decision", MEMMAN_SERVER="off")
    w.run("remember", "The CI pipeline runs on Buildkite", MEMMAN_SERVER="off")
    assert w.run("scheduler", "drain").returncode == 0
    yield w
    state = w.run("server", "status", "--json")
    if state.returncode == 0 and json.loads(state.stdout)["running"]:
        pid = json.loads(state.stdout)["pid"]
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids_serving(w.data_dir):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(run_base, ignore_errors=True)


def pids_serving(data_dir: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"memman.server" in cmd and str(data_dir).encode() in b" ".join(cmd):
            found.append(int(entry.name))
    return found


def recall_json(w: Warm, query: str, **extra: str) -> dict[str, object]:
    proc = w.run("recall", query, "--json", **extra)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    doc = json.loads(proc.stdout)
    doc["meta"].pop("took_ms")
    return doc
