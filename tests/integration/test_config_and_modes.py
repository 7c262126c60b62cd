"""`config` over the CLI (validated, redacted, per store) and recall-only mode
(`scheduler stop`): writes refused with one clear line, reads unaffected, and
the guard costing one stat() on `remember`."""

from __future__ import annotations

import stat
import timeit
from pathlib import Path

from memman.service import Memman
from tests.cli.conftest import Cli, assert_error


def test_config_set_get_show_with_redacted_secrets(cli: Cli) -> None:
    assert cli.json("config", "set", "scheduler.interval_s", "120") == {"key": "scheduler.interval_s", "value": 120, "store": None}
    out = cli.ok("config", "set", "llm.api_key", "-", input="sk-live-abcdef\n").out
    assert out == "llm.api_key = ********\n"
    assert cli.ok("config", "get", "llm.api_key").out == "********\n"
    shown = cli.ok("config", "show").out + cli.ok("config", "show", "--json").out
    assert "sk-live" not in shown and "scheduler.interval_s = 120" in shown
    assert "sk-live-abcdef" in (cli.data_dir / "config.toml").read_text()
    assert stat.S_IMODE((cli.data_dir / "config.toml").stat().st_mode) == 0o600
    cli.ok("config", "set", "recall.inject", "false", "--for-store", "work")
    assert cli.json("config", "get", "recall.inject", "--for-store", "work")["value"] is False
    assert cli.json("config", "get", "recall.inject")["value"] is True  # on by default: relevance-gated
    cli.ok("config", "unset", "scheduler.interval_s")
    assert cli.json("config", "get", "scheduler.interval_s")["value"] == 300
    assert cli.json("config", "path")["exists"] is True


def test_bad_config_input_is_one_line_and_leaves_the_file_alone(cli: Cli) -> None:
    cli.ok("config", "set", "recall.inject_limit", "3")
    before = (cli.data_dir / "config.toml").read_bytes()
    assert_error(cli("config", "set", "llm.provider", "gpt"), 2, contains=["bad value for llm.provider"])
    assert_error(cli("config", "set", "nosuch.key", "1"), 2, contains=["unknown setting 'nosuch.key'"])
    assert_error(cli("config", "get", "llm"), 2, contains=["unknown setting 'llm'"])
    assert_error(cli("config", "set", "recall.inject", "1", "--for-store", "Bad Name"), 2, contains=["invalid store name"])
    assert (cli.data_dir / "config.toml").read_bytes() == before


def test_stopped_means_recall_only_for_every_write(cli: Cli) -> None:
    memory = cli.remember("The pantry light switch is behind the door")
    head = len(cli.events())
    assert cli.json("scheduler", "stop") == {"state": "stopped", "changed": True}
    assert cli.json("scheduler", "stop")["changed"] is False
    batch = cli.data_dir.parent / "batch.jsonl"
    batch.write_text('{"text": "The attic fan is on a timer"}\n')
    writes = (
        ["remember", "x"], ["forget", memory], ["replace", memory, "y"], ["restore", memory],
        ["import", str(batch)], ["graph", "rebuild"], ["embed", "reembed"],
    )  # fmt: skip
    for args in writes:
        assert_error(cli(*args), 4, contains=["scheduler is stopped", "recall-only", "memman scheduler start"])
    assert cli.json("recall", "pantry light")["results"][0]["id"] == memory
    assert cli.json("scheduler", "status")["state"] == "stopped"
    assert len(cli.events()) == head
    cli.ok("scheduler", "start")
    cli.ok("remember", "The cellar key hangs by the stairs")


def test_the_write_guard_costs_well_under_half_a_millisecond(data_dir: Path) -> None:
    with Memman(data_dir) as app:
        per_call = min(timeit.repeat(app.ensure_writable, number=2000, repeat=3)) / 2000
    # A catastrophic guard only (a stat or an open per call would cost far more); the
    # measured cost is ~5 µs, and timed asserts tighter than this flake on a loaded machine.
    assert per_call < 0.0005, per_call
