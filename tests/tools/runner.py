"""Run a script under tools/ as a user would: a fresh interpreter, with none
of the caller's MEMMAN_ settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_tool(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / script), *args], capture_output=True, text=True, env=env, timeout=timeout
    )
