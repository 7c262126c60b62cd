"""`memman` skips the interpreter's teardown after a command (memman/entry.py
`_leave`): the output still arrives whole, exit codes are unchanged, and an
atexit callback or a live non-daemon thread makes it exit the ordinary way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _run(code: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_large_output_arrives_whole_through_a_pipe(memman) -> None:  # type: ignore[no-untyped-def]
    text = "The ingest pipeline note " + "x" * 60_000
    memman("remember", text)
    run = memman("recall", "ingest pipeline note", "--json")
    assert run.code == 0
    assert text in run.out and run.out.endswith("\n")


def test_exit_codes_are_unchanged(memman) -> None:  # type: ignore[no-untyped-def]
    assert memman("recall", "anything").code == 0
    assert memman("recall", "--limit", "0", "x").code == 2
    assert memman("forget", "01ARZ3NDEKTSV4RRFFQ69G5FAV").code == 3


def test_an_atexit_callback_still_runs(data_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
        "sys.argv = ['memman', 'recall', 'anything']\n"
        "from memman.entry import main\n"
        "main()\n"
    )
    assert _run(code, data_dir).returncode == 0
    assert marker.read_text() == "yes"


def test_a_live_thread_is_waited_for(data_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "done"
    code = (
        "import sys, threading, time\n"
        f"def work():\n    time.sleep(0.3)\n    open({str(marker)!r}, 'w').write('done')\n"
        "threading.Thread(target=work).start()\n"
        "sys.argv = ['memman', 'recall', 'anything']\n"
        "from memman.entry import main\n"
        "main()\n"
    )
    assert _run(code, data_dir).returncode == 0
    assert marker.read_text() == "done"
