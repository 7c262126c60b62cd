"""Helpers for the CLI suite: a runner bound to any data dir (so a module can
share one expensive store), the one-line error contract, log snapshots and
distinct sentences the reconciler adds rather than merges."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest

_CLEARED_PREFIXES = ("MEMMAN_", "OPENAI_", "VOYAGE_", "ANTHROPIC_", "OLLAMA_")
ERROR_PREFIX = "memman: error: "


class Result(msgspec.Struct):
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return msgspec.json.decode(self.out)


def base_env(data_dir: Path) -> dict[str, str]:
    """The environment a CLI process sees: no memman or provider variables
    from the developer's shell, no debug tracebacks, and a private HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED_PREFIXES)}
    env["MEMMAN_DATA_DIR"] = str(data_dir)
    env["HOME"] = str(data_dir.parent / "home")
    env["MEMMAN_AUTODRAIN"] = "0"  # tests that want the automatic drain pass env={"MEMMAN_AUTODRAIN": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # memman on PATH, as after a real install
    env["MEMMAN_SERVER"] = "off"  # no detached warm server may outlive a test (tests/server/ covers it)
    return env


class Cli:
    """The real CLI, one subprocess per call: cli("recall", "x", "--json").
    Arguments may be bytes, to pass undecodable argv."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def argv(self, *args: str | bytes) -> list[str | bytes]:
        return [sys.executable, "-m", "memman", *args]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**base_env(self.data_dir), **(extra or {})}

    def __call__(
        self, *args: str | bytes, input: bytes | str | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Result:
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(
            self.argv(*args), input=data, capture_output=True, env=self.env(env), timeout=120,
            cwd=cwd or self.data_dir.parent,  # outside any git tree unless a test picks a project (memman/scope/)
        )
        return Result(proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace"))

    def ok(
        self, *args: str | bytes, input: bytes | str | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Result:
        result = self(*args, input=input, env=env, cwd=cwd)
        assert result.code == 0, result
        assert result.err == "", result
        return result

    def json(
        self, *args: str | bytes, input: bytes | str | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Any:
        return self.ok(*args, "--json", input=input, env=env, cwd=cwd).json()

    def events(self, *args: str, store: str | None = None) -> list[dict[str, Any]]:
        """Every event of the store (or those the extra filters select), oldest first."""
        prefix = ("--store", store) if store else ()
        return self.json(*prefix, "events", "list", "--limit", "1000000", *args)["events"]

    def remember(self, text: str, *args: str) -> str:
        return self.json("remember", text, *args)["id"]


@pytest.fixture
def cli(data_dir: Path) -> Cli:
    return Cli(data_dir)


BACKENDS = ["sqlite", "postgresql"]


def on_backend(request: pytest.FixtureRequest, cli: Cli) -> Cli:
    """`cli` whose default store lives on the backend named by the fixture's
    param: a module overrides `cli` with `@pytest.fixture(params=BACKENDS)`
    and `return on_backend(request, cli)`, and every test in it runs on
    SQLite and on the session's PostgreSQL server (tests/postgres_server.py)."""
    if request.param == "postgresql":
        cli.ok("store", "create", "default", "--backend", request.getfixturevalue("pg_dsn"))
    return cli


def log_holding(cli: Cli, needle: str, store: str = "default") -> int:
    """How many events of a PostgreSQL store's log still hold `needle` (as
    UTF-8, as given or case-folded); 0 for a SQLite store, whose log is a
    file under the data dir that a byte scan covers."""
    dsn_file = cli.data_dir / "stores" / store / "backend.dsn"
    if not dsn_file.exists():
        return 0
    import psycopg

    wanted = [needle.encode(), needle.casefold().encode()]
    with psycopg.connect(dsn_file.read_text().strip()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM events WHERE position(%s::bytea in payload) > 0 OR position(%s::bytea in payload) > 0",
            wanted,
        ).fetchone()
    return int(row[0]) if row else 0


def assert_error(result: Result, code: int, message: str | None = None, *, contains: Sequence[str] = ()) -> str:
    """The error contract: nothing on stdout, exactly one stderr line starting
    with 'memman: error: ', no traceback, the given exit code. `message` is
    the exact text after the prefix; `contains` are fragments it must hold."""
    assert result.code == code, result
    assert result.out == "", result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(ERROR_PREFIX), result.err
    assert "Traceback" not in result.err
    text = lines[0][len(ERROR_PREFIX) :]
    if message is not None:
        assert text == message
    for fragment in contains:
        assert fragment in text, text
    return text


def token(n: int, prefix: str) -> str:
    """A letters-only word unique to n (base 26): digits would read as values
    and invite an UPDATE, so distinct inputs use distinct words instead."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(97 + r) + out
    return prefix + out


def distinct_texts(count: int, start: int = 0) -> list[str]:
    """Sentences that share under half their words, so the rule reconciler
    ADDs every one (it merges only at >= 0.6 word overlap)."""
    return [
        f"The {token(i, 'kor')} service keeps {token(i, 'mel')} logs near {token(i, 'pat')} gardens"
        for i in range(start, start + count)
    ]
