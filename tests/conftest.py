"""Every test runs against its own data dir, with memman's variables and any
provider keys cleared, and with MEMMAN_DEBUG=1 so unexpected errors show
their traceback instead of the one-line message."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from memman.service import Memman

REPO = Path(__file__).resolve().parent.parent
_CLEARED_PREFIXES = ("MEMMAN_", "OPENAI_", "VOYAGE_", "ANTHROPIC_", "OLLAMA_")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("MEMMAN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MEMMAN_DEBUG", "1")
    # no test spawns background drains unless it asks for them (tests/integration/test_autodrain.py)
    monkeypatch.setenv("MEMMAN_AUTODRAIN", "0")
    # run outside this repository's git tree, so the CLI's project scoping sees no project (memman/scope/)
    monkeypatch.chdir(tmp_path)
    # The warm server (memman/server/) is off unless a test turns it on: a
    # detached server per test would outlive it. tests/server/ covers it.
    monkeypatch.setenv("MEMMAN_SERVER", "off")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # processes' temp files (a read-only store's reused scratch copy, projections/scratch.py) stay in the test's dir
    (tmp_path / "tmp").mkdir(exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    return data_dir


@pytest.fixture
def data_dir(isolated_env: Path) -> Path:
    return isolated_env


@pytest.fixture
def app(data_dir: Path):  # type: ignore[no-untyped-def]
    with Memman(data_dir) as service:
        yield service


class Run(msgspec.Struct):
    code: int
    out: str
    err: str

    def json(self):  # type: ignore[no-untyped-def]
        return msgspec.json.decode(self.out)


@pytest.fixture
def memman(data_dir: Path) -> Callable[..., Run]:
    """Run the real CLI in a subprocess: memman("recall", "x", "--json")."""

    def run(*args: str, input: bytes | str | None = None, env: dict[str, str] | None = None, debug: bool = False) -> Run:
        full_env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir), **(env or {})}
        if not debug:
            full_env.pop("MEMMAN_DEBUG", None)
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(
            [sys.executable, "-m", "memman", *args], input=data, capture_output=True, env=full_env, timeout=120
        )
        return Run(code=proc.returncode, out=proc.stdout.decode(errors="replace"), err=proc.stderr.decode(errors="replace"))

    return run


@pytest.fixture(scope="session", autouse=True)
def no_warm_server_outlives_the_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Every test runs with MEMMAN_SERVER=off, and tests/server/ stops what it
    starts; should a test still spawn one, it dies with the run, not 15 min later."""
    yield
    import signal

    base = str(tmp_path_factory.getbasetemp()).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"memman.server" in cmdline and base in cmdline:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


pytest_plugins = ["tests.postgres_server"]
