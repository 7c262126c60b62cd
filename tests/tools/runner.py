"""Run a script under tools/ as a user would: a fresh interpreter, with none
of the caller's MEMMAN_ settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTES = ("The billing service timeout is 30 seconds", "Priya prefers Vim for code review")


def run_tool(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / script), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def drained_store(data: Path, texts: Sequence[str] = NOTES) -> None:
    """A real store at `data` ("default") holding `texts`, drained: what the
    benchmark tools time."""
    from memman.operations.maintenance import drain_all
    from memman.service import Memman

    with Memman(data, store="default") as app:
        for text in texts:
            app.remember(text)
    drain_all(data)
