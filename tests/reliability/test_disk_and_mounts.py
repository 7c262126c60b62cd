"""Reads survive a full disk and a read-only mount (issue 13, item 2), on a
real small tmpfs: recall answers (marked degraded when it could not catch
up), status and verify report, writes fail with one line that names the disk
and says nothing was lost, the drain stops cleanly and resumes once space is
freed, and a healthy file that cannot be written is never taken for corrupt.

Mounting needs root (or CAP_SYS_ADMIN); elsewhere these tests skip and say why."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, assert_error, distinct_texts


def _mount(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["mount", *args], capture_output=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "mnt"
    point.mkdir()
    try:
        result = _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(point))
    except FileNotFoundError:
        pytest.skip("no mount command on this machine")
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode(errors='replace').strip()}")
    try:
        yield point
    finally:
        _mount("-o", "remount,rw", str(point))
        subprocess.run(["umount", str(point)], capture_output=True, timeout=30)


def _fill(point: Path) -> None:
    # unbuffered: a buffered file could still hold a tail when the disk is
    # full, and its flush on close would raise (it did once the store's files
    # shrank and the free space left a different remainder)
    with (point / "filler").open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass


def _seeded(point: Path) -> Cli:
    cli = Cli(point / "data")
    cli.remember("The staging database lives on host sparrow")
    cli.ok("scheduler", "drain")
    return cli


def test_on_a_full_disk_reads_answer_and_writes_fail_with_one_line(small_disk: Path) -> None:
    cli = _seeded(small_disk)
    for text in distinct_texts(5):
        cli.remember(text)
    before = cli.events()
    _fill(small_disk)
    recall = cli("recall", "staging database", "--json")
    assert recall.code == 0, recall
    assert [h["content"] for h in recall.json()["results"]][:1] == ["The staging database lives on host sparrow"]
    assert "no space left on the disk holding" in recall.json()["meta"]["degraded"]
    assert cli("recall", "gardens", "--basic").code == 0
    assert cli("status").code == 0 and cli("events", "verify").code == 0
    message = "free space and retry; nothing was lost"
    assert_error(cli("remember", "one more"), 1, contains=["no space left on the disk holding", message])
    assert_error(cli("scheduler", "drain"), 1, contains=["no space left on the disk holding", message])
    assert "Traceback" not in cli("import", "-", input='{"text": "x"}\n').err
    (small_disk / "filler").unlink()
    cli.ok("scheduler", "drain")  # resumes where it stopped
    assert cli.events()[: len(before)] == before  # nothing lost
    assert cli.json("status")["by_status"] == {"active": 6}
    assert cli.json("events", "verify")["ok"] is True


def test_a_read_only_mount_answers_recall_and_refuses_writes(small_disk: Path) -> None:
    cli = _seeded(small_disk)
    cli.remember("Pending fact about kettles")  # undrained: catching up would have to write
    store = small_disk / "data" / "stores" / "default"
    files = {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()}
    result = _mount("-o", "remount,ro", str(small_disk))
    assert result.returncode == 0, result.stderr
    for args in (("recall", "kettles"), ("recall", "staging database", "--basic"), ("status",), ("events", "verify")):
        run = cli(*args)
        assert run.code == 0, (args, run)
        assert run.err == "memman: warning: the store is read-only: answered from a scratch copy (nothing was written to it)\n"
    assert "kettles" in cli("recall", "kettles").out
    assert_error(cli("remember", "x"), 1, contains=["is read-only", "nothing was written"])
    assert {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()} == files  # untouched, nothing moved aside
