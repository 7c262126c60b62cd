"""The front page: `--version`, `--help`, and help text with an example for
every command the issue lists, run through the real entry point."""

from __future__ import annotations

import click
import pytest

from memman import __version__
from memman.cli import cli as root
from tests.cli.conftest import Cli, assert_error

COMMANDS = [
    "remember",
    "recall",
    "replace",
    "forget",
    "restore",
    "insights show",
    "insights protect",
    "insights unprotect",
    "insights candidates",
    "gc",
    "purge",
    "log",
    "import",
    "export",
    "store list",
    "store which",
    "mcp",
    "store create",
    "store use",
    "store remove",
    "status",
    "events list",
    "events show",
    "events replay",
    "events verify",
    "scheduler drain",
    "scheduler install",
    "scheduler uninstall",
    "scheduler start",
    "scheduler stop",
    "scheduler status",
    "scheduler interval",
    "scheduler trigger",
    "scheduler serve",
    "scheduler queue list",
    "scheduler queue failed",
    "scheduler queue show",
    "scheduler queue retry",
    "scheduler queue purge",
    "config show",
    "config get",
    "config set",
    "config unset",
    "config path",
    "install",
    "uninstall",
    "prime",
    "guide",
    "hook",
    "doctor",
    "graph link",
    "graph unlink",
    "graph related",
    "graph stats",
    "graph rebuild",
    "rederive",
    "migrate",
    "embed status",
    "embed swap",
    "embed reembed",
    "server status",
    "server start",
    "server stop",
]


def _leaf_paths(group: click.Group, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            paths |= _leaf_paths(command, path + " ")
        else:
            paths.add(path)
    return paths


def test_version_prints_program_and_version(cli: Cli) -> None:
    assert cli.ok("--version").out == f"memman, version {__version__}\n"


def test_root_help_shows_the_first_commands_to_run_and_every_group(cli: Cli) -> None:
    out = cli.ok("--help").out
    assert out.startswith("Usage: memman [OPTIONS] COMMAND [ARGS]...\n")
    assert 'memman remember "Chose SQLite: zero deps, embeddable" --cat decision' in out
    for group in ("events", "graph", "insights", "scheduler", "store"):
        assert f"\n  {group} " in out


def test_short_help_flag_is_the_same_as_long(cli: Cli) -> None:
    assert cli.ok("-h").out == cli.ok("--help").out


def test_the_command_list_under_test_is_the_whole_click_tree() -> None:
    # A new command must join COMMANDS, and with it the help and bad-input tests.
    assert _leaf_paths(root) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(cli: Cli, command: str) -> None:
    out = cli.ok(*command.split(), "--help").out
    assert out.startswith(f"Usage: memman {command} ")
    assert "Example:\n    memman " in out


def test_an_unknown_command_is_a_one_line_usage_error(cli: Cli) -> None:
    assert_error(cli("bogus"), 2, "No such command 'bogus'. (see 'memman --help')")


def test_an_unknown_option_is_a_one_line_usage_error(cli: Cli) -> None:
    assert_error(cli("recall", "x", "--bogus"), 2, "No such option '--bogus'. (see 'memman recall --help')")


@pytest.mark.parametrize("group", [(), ("events",), ("store",)])
def test_a_bare_group_prints_its_help_like_help_does(cli: Cli, group: tuple[str, ...]) -> None:
    # Fixed after this suite found the whole help crammed into one 'memman: error: Usage: ...' line.
    assert cli.ok(*group).out == cli.ok(*group, "--help").out
