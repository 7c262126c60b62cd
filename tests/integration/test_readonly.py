"""NanoClaw's shared store, mounted read-only: recall, the prompt hook and the
session-start hook work against it with an undrained memory in it, and nothing
in it changes. The mount is a real read-only bind mount in a private mount
namespace (`unshare -m`; root ignores file modes, so chmod would prove nothing)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from projections.store import StoreDB
from tests.cli.conftest import Cli, base_env
from tests.integration.conftest import snapshot

# Catching up a read-only store without writing (in memory or a scratch copy) is the
# projections layer's job (issue 13); until it lands, recall there fails with ReadOnlyError.
pytestmark = pytest.mark.skipif(
    not hasattr(StoreDB, "read_only_view"), reason="needs the read-only projection view from issue 13 (reliability)"
)


def _can_mount_read_only(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    script = f"mount --bind {probe} {probe} && mount -o remount,ro,bind {probe} {probe} && ! touch {probe}/x 2>/dev/null"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True).returncode == 0


def _in_read_only_mount(store: Path, argv: list[str], payload: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    script = f"mount --bind {store} {store} && mount -o remount,ro,bind {store} {store} && exec {quoted}"
    env = {**base_env(store), "MEMMAN_DATA_DIR": str(store), "MEMMAN_SERVER": "off"}
    return subprocess.run(["unshare", "-m", "sh", "-c", script], input=payload, capture_output=True, env=env, timeout=120)


def test_a_read_only_store_with_undrained_memories_recalls_without_writing(tmp_path: Path) -> None:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and a read-only bind mount (root in a namespace-capable container)")
    shared = tmp_path / "global"
    host = Cli(shared)
    host.ok("remember", "The family wifi password is kept in the red notebook")
    host.ok("scheduler", "drain")
    host.ok("remember", "The boat key hangs by the kitchen door")  # the host has not drained this one yet
    host.ok("config", "set", "recall.inject_budget_ms", "30000")
    before = {k: v for k, v in snapshot(shared).items() if not k.endswith("-shm")}
    memman = [sys.executable, "-m", "memman", "--data-dir", str(shared)]

    basic = _in_read_only_mount(shared, [*memman, "recall", "boat key", "--basic", "--json"])
    assert basic.returncode == 0, basic.stderr
    assert "kitchen door" in json.loads(basic.stdout)["results"][0]["content"]  # pending, and still recallable
    hybrid = _in_read_only_mount(shared, [*memman, "recall", "wifi password", "--json"])
    assert hybrid.returncode == 0, hybrid.stderr
    assert "red notebook" in json.loads(hybrid.stdout)["results"][0]["content"]
    prompt = json.dumps({"session_id": "s", "cwd": str(tmp_path), "prompt": "where is the wifi password kept"}).encode()
    hook = _in_read_only_mount(shared, [*memman, "hook", "user-prompt-submit"], prompt)
    assert hook.returncode == 0 and hook.stderr == b"", hook.stderr
    assert "red notebook" in json.loads(hook.stdout)["hookSpecificOutput"]["additionalContext"]
    start = _in_read_only_mount(shared, [*memman, "hook", "session-start"], b'{"session_id": "s"}')
    assert start.returncode == 0 and start.stderr == b"", start.stderr
    assert {k: v for k, v in snapshot(shared).items() if not k.endswith("-shm")} == before


def test_read_only_recalls_reuse_one_scratch_copy_until_the_store_changes(tmp_path: Path) -> None:
    """The scratch copy is made once per state of the store (projections/scratch.py):
    a second recall reuses it (no new copy), a write by the host makes the next
    recall copy afresh and see the new memory, and the old copy is removed."""
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and a read-only bind mount (root in a namespace-capable container)")
    shared = tmp_path / "global"
    host = Cli(shared)
    host.ok("remember", "The family wifi password is kept in the red notebook")
    host.ok("scheduler", "drain")
    host.ok("remember", "The boat key hangs by the kitchen door")  # pending: the first reader catches it up
    temp = tmp_path / "tmp"  # the test's TMPDIR (tests/conftest.py)
    memman = [sys.executable, "-m", "memman", "--data-dir", str(shared)]
    before = {k: v for k, v in snapshot(shared).items() if not k.endswith("-shm")}

    def copies() -> list[Path]:
        return sorted(p for p in temp.glob("memman-readonly-*/*") if not p.name.startswith("."))

    first = _in_read_only_mount(shared, [*memman, "recall", "boat key", "--json"])
    assert first.returncode == 0, first.stderr
    assert "kitchen door" in json.loads(first.stdout)["results"][0]["content"]
    [copy] = copies()
    assert oct(copy.parent.stat().st_mode & 0o777) == "0o700"
    made = copy.stat().st_ino
    for query in ("wifi password", "boat key"):
        again = _in_read_only_mount(shared, [*memman, "recall", query, "--json"])
        assert again.returncode == 0 and json.loads(again.stdout)["results"], again.stderr
    assert [c.stat().st_ino for c in copies()] == [made]  # reused, not copied again
    assert not list(copy.glob("access.*"))  # no use records piling up where nobody folds them
    assert {k: v for k, v in snapshot(shared).items() if not k.endswith("-shm")} == before

    host.ok("recall", "wifi password")  # the host reads: its projections move on, its log does not
    again = _in_read_only_mount(shared, [*memman, "recall", "boat key", "--json"])
    assert again.returncode == 0, again.stderr
    assert [c.stat().st_ino for c in copies()] == [made]  # still the same copy

    carried = (copy / "projections.db").stat().st_ino
    host.ok("remember", "The spare tent is in the loft")  # the host writes: the log changed
    fresh = _in_read_only_mount(shared, [*memman, "recall", "spare tent", "--json"])
    assert fresh.returncode == 0, fresh.stderr
    assert "loft" in json.loads(fresh.stdout)["results"][0]["content"]
    [newer] = copies()
    assert newer != copy  # a new copy of the log, and the old copy removed
    assert (newer / "projections.db").stat().st_ino == carried  # its projections moved over, not copied again


def test_a_read_only_copy_is_not_carried_over_when_the_log_was_replaced(tmp_path: Path) -> None:
    """A log restored from an older copy does not continue the one the scratch
    copy was built from: the next reader copies everything afresh and reports
    what the store itself holds, never the old copy's projections."""
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and a read-only bind mount (root in a namespace-capable container)")
    shared = tmp_path / "global"
    host = Cli(shared)
    host.ok("remember", "The boat key hangs by the kitchen door")
    host.ok("scheduler", "drain")
    memman = [sys.executable, "-m", "memman", "--data-dir", str(shared)]
    first = _in_read_only_mount(shared, [*memman, "recall", "boat key", "--json"])
    assert first.returncode == 0, first.stderr
    [copy] = sorted(p for p in (tmp_path / "tmp").glob("memman-readonly-*/*") if not p.name.startswith("."))
    carried = (copy / "projections.db").stat().st_ino
    other = tmp_path / "other"  # another store's log (different event ids) put in its place
    Cli(other).ok("remember", "The canoe paddles are in the shed")
    Cli(other).ok("scheduler", "drain")
    store, source = shared / "stores" / "default", other / "stores" / "default"
    for name in ("log.db", "projections.db", "vectors.db"):
        for suffix in ("", "-wal", "-shm"):
            (store / f"{name}{suffix}").unlink(missing_ok=True)
            if (source / f"{name}{suffix}").exists():
                shutil.copy2(source / f"{name}{suffix}", store / f"{name}{suffix}")
    after = _in_read_only_mount(shared, [*memman, "recall", "canoe paddles", "--json"])
    assert after.returncode == 0, after.stderr
    assert "shed" in json.loads(after.stdout)["results"][0]["content"]
    [newer] = sorted(p for p in (tmp_path / "tmp").glob("memman-readonly-*/*") if not p.name.startswith("."))
    assert (newer / "projections.db").stat().st_ino != carried


def test_a_read_only_store_whose_log_is_in_postgres_recalls_from_a_scratch_replica(tmp_path: Path, pg_dsn: str) -> None:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and a read-only bind mount (root in a namespace-capable container)")
    shared = tmp_path / "global"
    host = Cli(shared)
    host.ok("store", "create", "default", "--backend", pg_dsn)
    host.ok("remember", "The family wifi password is kept in the red notebook")
    host.ok("scheduler", "drain")
    before = {k: v for k, v in snapshot(shared).items() if not k.endswith("-shm")}
    memman = [sys.executable, "-m", "memman", "--data-dir", str(shared)]
    hybrid = _in_read_only_mount(shared, [*memman, "recall", "wifi password", "--json"])
    assert hybrid.returncode == 0, hybrid.stderr
    assert "red notebook" in json.loads(hybrid.stdout)["results"][0]["content"]
    Cli(tmp_path / "laptop2").ok("store", "create", "default", "--backend", pg_dsn)
    Cli(tmp_path / "laptop2").ok("remember", "The boat key hangs by the kitchen door")  # another machine writes
    later = _in_read_only_mount(shared, [*memman, "recall", "boat key", "--basic", "--json"])
    assert later.returncode == 0, later.stderr
    assert "kitchen door" in json.loads(later.stdout)["results"][0]["content"]  # the scratch replica caught up
    assert {k: v for k, v in snapshot(shared).items() if not k.endswith("-shm")} == before
