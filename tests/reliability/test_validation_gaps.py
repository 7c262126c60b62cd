"""The trial's "clearly bad inputs that exited 0" (issue 13): each is now one
clear line on stderr and exit 2, and changes nothing. Also file modes:
owner-only stores even under an explicit --data-dir, without chmodding a
directory the user already had; secrets never taken from argv."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, assert_error


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("llm.timeout_s", "nan", "not a finite number"),
        ("llm.timeout_s", "inf", "not a finite number"),
        ("embeddings.timeout_s", "0", "outside 0.1..3600"),
        ("scheduler.interval_s", "0", "outside 10..604800"),
        ("llm.max_retries", "1000000", "outside 0..20"),
        ("graph.semantic_threshold", "2.5", "outside 0..1"),
        ("llm.base_url", "file:///etc/passwd", "is not an http(s):// URL"),
        ("embeddings.base_url", "ftp://x", "is not an http(s):// URL"),
    ],
)
def test_an_absurd_config_value_is_refused_and_not_written(cli: Cli, key: str, value: str, fragment: str) -> None:
    assert_error(cli("config", "set", key, value), 2, contains=[f"bad value for {key}", fragment])
    assert not (cli.data_dir / "config.toml").exists()


def test_a_secret_on_the_command_line_is_refused_and_stdin_works(cli: Cli) -> None:
    assert_error(cli("config", "set", "llm.api_key", "sk-live-123"), 2, contains=["never in argv", "memman config set llm.api_key -"])
    assert not (cli.data_dir / "config.toml").exists()
    cli.ok("config", "set", "llm.api_key", "-", input="sk-live-123\n")
    assert "sk-live-123" in (cli.data_dir / "config.toml").read_text()


def test_invalid_utf8_for_a_config_value_on_stdin_is_bad_input(cli: Cli) -> None:
    assert_error(cli("config", "set", "llm.model_fast", "-", input=b"\xff\xfe"), 2,
                 "the value on stdin is not valid UTF-8 (byte 0); send UTF-8 text")  # fmt: skip


def test_a_store_name_with_a_trailing_newline_is_refused(cli: Cli) -> None:
    assert_error(cli("store", "create", "bad\n"), 2, contains=["invalid store name 'bad\\n'"])
    cli.ok("status")  # nothing was broken


def test_a_data_dir_that_cannot_be_created_is_one_line(cli: Cli) -> None:
    assert_error(cli("--data-dir", "/proc/nope", "status"), 2,
                 "cannot create data dir /proc/nope: No such file or directory; pass --data-dir DIR")  # fmt: skip


@pytest.mark.parametrize("flag", ["--entities", "--meta"])
def test_oversized_entities_and_meta_are_refused(cli: Cli, flag: str) -> None:
    value = "x" * 100_000 if flag == "--entities" else "k=" + "x" * 100_000
    assert_error(cli("remember", "a fact", flag, value), 2, contains=["limit"])
    assert cli.json("status")["events"] == 0


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_explicit_data_dir_gets_owner_only_stores_and_keeps_its_own_mode(cli: Cli, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)  # the user's own choice: memman must not change it
    old = os.umask(0o022)
    try:
        cli.ok("--data-dir", str(shared), "remember", "a fact")
        cli.ok("--data-dir", str(shared), "status")
    finally:
        os.umask(old)
    assert _mode(shared) == 0o755
    store = shared / "stores" / "default"
    assert _mode(shared / "stores") == 0o700 and _mode(store) == 0o700
    for path in store.iterdir():
        assert _mode(path) & 0o077 == 0, path
