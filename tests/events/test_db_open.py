"""Processes that open a brand-new store at once (a hook and a recall started
together, a worker beside the CLI) race to switch its files to WAL; SQLite
answers the loser BUSY at once, without its busy handler. `connect` must wait
for the winner, never report the store locked (without the retry, ~7% of
such opens failed here)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

OPEN = """
import sys, time
from pathlib import Path
from events.db import connect
from events.errors import StoreLocked
path, start = Path(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    pass
try:
    connect(path).execute("CREATE TABLE IF NOT EXISTS t(x)")
    print("ok")
except StoreLocked:
    print("locked")
"""


def test_processes_opening_a_new_file_at_once_all_get_it(tmp_path: Path) -> None:
    outcomes: list[str] = []
    for round_ in range(20):
        start = time.time() + 0.3
        procs = [subprocess.Popen([sys.executable, "-c", OPEN, str(tmp_path / f"new-{round_}.db"), str(start)],
                                  stdout=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
        outcomes += [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outcomes.count("ok") == len(outcomes), outcomes
