"""`remember` through the warm server appends exactly once, whatever happens
to the reply: the client chooses a retry key, the server's append records
it, and the client's in-process retry after a lost reply carries the same
key (memman/intake/retry.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import apsw

from events.backends import open_log
from events.types import MemoryRemembered
from tests.server.conftest import Warm

REMEMBERED = re.compile(r"remembered ([0-9A-Z]{26}) \(pending\)\n")

# The real server, whose reply to a command never leaves: it dies right after
# the command ran (after the append), as a crash or a kill -9 at that moment would.
DIES_BEFORE_REPLYING = (
    "import os, sys\n"
    "from memman.server import wire\n"
    "send = wire.send\n"
    "def dying(conn, *frames):\n"
    "    if len(frames) == 3:  # header, stdout, stderr: a command's reply\n"
    "        os._exit(9)\n"
    "    send(conn, *frames)\n"
    "wire.send = dying\n"
    "sys.argv = ['memman.server', '--data-dir', sys.argv[1]]\n"
    "from memman.server.__main__ import main\n"
    "sys.exit(main())\n"
)


def _remembered(data_dir: Path, text: str) -> list[MemoryRemembered]:
    log = open_log(data_dir / "stores" / "default")
    try:
        return [r.event for r in log.read(types=["memory.remembered"]) if r.event.text == text]  # type: ignore[attr-defined]
    finally:
        log.close()


def test_remember_is_served_and_prints_what_a_cold_one_prints(warm: Warm) -> None:
    warm.start()
    proc = warm.run("remember", "The pager rotation changes on Mondays")
    assert proc.returncode == 0 and proc.stderr == b""
    match = REMEMBERED.fullmatch(proc.stdout.decode())
    assert match is not None, proc.stdout
    assert warm.status()["served"] == 1
    [event] = _remembered(warm.data_dir, "The pager rotation changes on Mondays")
    assert event.memory_id == match.group(1) and event.key is not None and event.key.startswith("req:")
    cold = warm.run("remember", "The pager rotation changes on Fridays", MEMMAN_SERVER="off")
    assert REMEMBERED.fullmatch(cold.stdout.decode())
    [plain] = _remembered(warm.data_dir, "The pager rotation changes on Fridays")
    assert plain.key is None  # no server involved: nothing to retry, no key recorded


def test_a_server_killed_after_the_append_before_the_reply_leaves_one_memory(warm: Warm) -> None:
    server = subprocess.Popen(
        [sys.executable, "-P", "-c", DIES_BEFORE_REPLYING, str(warm.data_dir)],
        env=warm.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        warm.wait_until(lambda: warm.status()["running"], "the dying server to listen")
        proc = warm.run("remember", "The staging database is restored nightly", "--json")
        assert server.wait(timeout=60) == 9  # it ran the command, then died without replying
    finally:
        if server.poll() is None:
            server.kill()
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    printed = proc.stdout.decode()
    [event] = _remembered(warm.data_dir, "The staging database is restored nightly")
    assert f'"id":"{event.memory_id}"' in printed and '"already":false' in printed


def test_a_client_that_gives_up_while_the_server_waits_for_the_lock_leaves_one_memory(warm: Warm) -> None:
    """The server's append waits on the log's write lock (a drain, say) past
    the client's timeout; the client retries in-process, which waits on the
    same lock. When the lock is released both append: one memory."""
    warm.start()
    log_path = warm.data_dir / "stores" / "default" / "log.db"
    holder = apsw.Connection(str(log_path))
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Timer(3.0, lambda: holder.execute("COMMIT"))
    released.start()
    try:
        proc = warm.run("remember", "Backups are verified every Sunday", MEMMAN_SERVER_TIMEOUT_S="1")
    finally:
        released.join()
        holder.close()
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    match = REMEMBERED.fullmatch(proc.stdout.decode())
    assert match is not None, proc.stdout
    warm.wait_until(lambda: warm.status()["served"] == 1, "the server to finish its append")
    [event] = _remembered(warm.data_dir, "Backups are verified every Sunday")
    assert event.memory_id == match.group(1)


def test_remember_from_stdin_is_answered_in_process(warm: Warm) -> None:
    warm.start()
    proc = warm.run("remember", "-", input=b"The on-call handbook lives in the wiki")
    assert proc.returncode == 0 and REMEMBERED.fullmatch(proc.stdout.decode())
    assert warm.status()["served"] == 0
    assert len(_remembered(warm.data_dir, "The on-call handbook lives in the wiki")) == 1
    assert os.path.exists(warm.sock)
