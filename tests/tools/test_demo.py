"""`make demo` is the README's first command: the tour must run to the end
offline on the built-in defaults, in a fresh process, as a new user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_demo_tour_runs_to_the_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    env["HOME"] = str(tmp_path / "home")
    env["MEMMAN_SERVER"] = "off"  # no detached server may outlive the test
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo.py")], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert proc.stdout.rstrip().endswith("demo finished: every step ran offline on the built-in defaults.")
