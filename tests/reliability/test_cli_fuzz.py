"""A seeded CLI fuzzer over every command (hypothesis): random options and
hostile values (control characters, bidi, invalid numbers, huge and empty
strings), each run as the real CLI in a subprocess against one seeded store.

Every run must end within a timeout, never print a traceback or an
"unexpected" error, fail (if it fails) with exactly one `memman: error:`
line and a documented exit code, print valid JSON under --json when it
succeeds; and at the end `events verify` must be clean. Commands that reach
outside the data dir (install, scheduler units, the warm server's lifecycle,
stdio servers) are left out: their bad input is covered in tests/cli/."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memman.cli import cli as root
from tests.cli.conftest import Cli

EXAMPLES = int(os.environ.get("MEMMAN_FUZZ_EXAMPLES", "60"))
TIMEOUT_S = 60
CODES = {0, 2, 3, 4, 5, 6}
EXCLUDED = {
    "install", "uninstall", "hook", "mcp", "serve",
    "scheduler install", "scheduler uninstall", "scheduler serve", "scheduler trigger", "scheduler start", "scheduler stop",
    "server start", "server stop", "server serve", "server run",
}
HOSTILE = st.sampled_from([
    "", " ", "-", "--", "x" * 5000, "\x1b]52;c;ZXZpbA==\x07", "\u202eevil", "a\x00b", "\ud800", "0", "-1", "1e309",
    "nan", "inf", "9" * 30, "0001-01-01T00:00:00Z", "2026-13-45", "default", "../../etc", "a=b", "k=", "=v",
    "memory.remembered", "7d", "01J0000000000000000000OLD1", "ZZZZZZ", "{\"text\": 1}", "true",
])
TEXT = st.one_of(HOSTILE, st.text(min_size=0, max_size=40))


def _commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []

    def walk(prefix: str, group: click.Group) -> None:
        for name, command in sorted(group.commands.items()):
            path = f"{prefix} {name}".strip()
            if path in EXCLUDED or name in EXCLUDED:
                continue
            if isinstance(command, click.Group):
                walk(path, command)
            else:
                found.append((path, command))

    walk("", root)
    return found


COMMANDS = _commands()


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    argv = path.split()
    for param in command.params:
        if isinstance(param, click.Argument):
            argv.append(draw(TEXT))
        elif isinstance(param, click.Option) and draw(st.booleans()):
            name = max(param.opts, key=len)
            if param.is_flag:
                argv.append(name)
            elif isinstance(param.type, click.Choice) and draw(st.booleans()):
                argv += [name, draw(st.sampled_from(list(param.type.choices)))]
            else:
                argv += [name, draw(TEXT)]
    return argv


def _run(cli: Cli, argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    args = [a.encode("utf-8", "surrogatepass") if "\ud800" in a else a for a in argv]
    safe = [a for a in args if not (isinstance(a, str) and "\x00" in a)]  # argv cannot carry NUL
    return subprocess.run(cli.argv(*safe), capture_output=True, env=cli.env(), timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    cli = Cli(data)
    for text in ("The staging database lives on host sparrow", "Deploys freeze on Fridays", "Alice prefers tabs"):
        cli.remember(text)
    cli.ok("scheduler", "drain")
    return cli


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=command_lines())
def test_no_command_line_crashes_hangs_or_breaks_the_contract(store: Cli, argv: list[str]) -> None:
    proc = _run(store, argv)
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    assert "Traceback" not in err, (argv, err)
    assert "unexpected" not in err, (argv, err)
    assert proc.returncode in CODES or (proc.returncode == 1 and argv[:1] in (["doctor"], ["events"])), (argv, proc.returncode, err)
    if proc.returncode not in (0, 1):
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("memman: error: "), (argv, err)
    if proc.returncode == 0 and "--json" in argv:
        json.loads(out)  # one valid JSON document


def test_the_store_verifies_clean_after_the_fuzzing(store: Cli) -> None:
    report = store.json("events", "verify")
    assert report["ok"] is True, report
    assert Path(store.data_dir).is_dir()
