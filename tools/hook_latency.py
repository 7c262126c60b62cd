"""Hook latency per event, through the real hook commands `memman install`
writes (sh + shim + interpreter + memman), cold (MEMMAN_SERVER=off) and warm
(the per-user server answering), against a store of 30 drained memories
inside a git project. Prints median and p90 per event, and a bare
`python -c pass` measured in the same run for scale.

    .venv/bin/python tools/hook_latency.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.inject_calibration import MEMORIES  # noqa: E402

EVENTS = {
    "SessionStart": {"source": "startup"},
    "UserPromptSubmit (relevant)": {"prompt": "which database did we pick for the cache and why"},
    "UserPromptSubmit (unrelated)": {"prompt": "write a haiku about autumn"},
    "PreToolUse": {"tool_name": "Task", "tool_input": {"prompt": "x"}},
    "Stop": {"stop_hook_active": False},
    "PreCompact": {"trigger": "auto"},
    "SessionEnd": {"reason": "exit"},
}


def _ms(argv: list[str], payload: bytes, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, input=payload, capture_output=True, env=env, check=True, timeout=60)
    return (time.perf_counter() - started) * 1000


def _stats(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[max(0, int(round(0.9 * len(values))) - 1)]
    return f"{statistics.median(values):7.0f} {p90:7.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home, data, project = root / "home", root / "data", root / "project"
        (home / ".claude").mkdir(parents=True)
        (project / ".git").mkdir(parents=True)
        env = {**os.environ, "HOME": str(home), "MEMMAN_DATA_DIR": str(data), "MEMMAN_AUTODRAIN": "0"}
        memman = [sys.executable, "-m", "memman"]
        for text, cat in MEMORIES:
            subprocess.run([*memman, "remember", text, "--cat", cat], env=env, cwd=project, check=True, capture_output=True)
        subprocess.run([*memman, "scheduler", "drain"], env=env, check=True, capture_output=True)
        subprocess.run([*memman, "install", "--target", "claude-code", "--no-wizard", "--no-scheduler"], env=env,
                       check=True, capture_output=True)
        settings = json.loads((home / ".claude" / "settings.json").read_text())
        commands = {e: h["command"] for e, entries in settings["hooks"].items() for x in entries for h in x["hooks"]}
        baseline = [_ms([sys.executable, "-c", "pass"], b"", env) for _ in range(runs)]
        print(f"load average {os.getloadavg()[0]:.1f}; {runs} runs each; ms")
        print(f"{'event':32} {'cold median':>11} {'p90':>7}   {'warm median':>11} {'p90':>7}")
        print(f"{'python -c pass':32} {_stats(baseline)}")
        for mode in ("cold", "warm"):
            env["MEMMAN_SERVER"] = "off" if mode == "cold" else "on"
            if mode == "warm":
                subprocess.run([*memman, "server", "start"], env=env, check=False, capture_output=True)
            for event, fields in EVENTS.items():
                name = event.split(" ")[0]
                payload = json.dumps({"session_id": "bench", "cwd": str(project), "hook_event_name": name,
                                      "transcript_path": "/tmp/t.jsonl", **fields}).encode()
                EVENTS[event] = {**fields, f"_{mode}": [_ms(["sh", "-c", commands[name]], payload, env) for _ in range(runs)]}
        subprocess.run([*memman, "server", "stop"], env=env, check=False, capture_output=True)
        for event, fields in EVENTS.items():
            print(f"{event:32} {_stats(fields['_cold'])}   {_stats(fields['_warm'])}")


if __name__ == "__main__":
    main()
