"""The wheel NanoClaw's container installs: built from the memman that runs
this install, never fetched by name (PyPI's `memman` is an unrelated project).

`build(dest)` finds the checkout this memman was imported from (the
directory above the `memman` package holding a pyproject.toml that names the
project `memman`), copies the files a wheel needs (pyproject.toml, README,
the packages setuptools finds; no __pycache__, no .venv, no build/) to a
scratch directory, so the checkout is left exactly as it was, and runs
`<this python> -m pip wheel --no-deps -w <dest>` there. pip brings the build
backend (setuptools) into an isolated build environment from the package
index it is configured with.

When it cannot (memman was installed from a wheel, so there is no checkout;
pip is missing; the index is unreachable), nothing is left half-built and the
result carries the one command that builds the wheel by hand.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec

PACKAGES = ("memman", "events", "projections", "workers", "hooks")
FILES = ("pyproject.toml", "README.md", "LICENSE")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv*", "build", "dist", "*.egg-info")
TIMEOUT_S = 600


class Wheel(msgspec.Struct, frozen=True, kw_only=True):
    path: str | None  # the wheel built, or None
    command: str  # what builds it by hand
    error: str = ""  # why it was not built


def checkout() -> Path | None:
    """The source tree this memman runs from, or None (an installed wheel)."""
    import memman

    root = Path(memman.__file__).resolve().parent.parent
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if re.search(r'(?m)^name\s*=\s*"memman"\s*$', text) else None


def command(dest: Path, root: Path | None) -> str:
    source = str(root) if root else "<a memman checkout>"
    return shlex.join([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dest), source])


def build(dest: Path) -> Wheel:
    """Build memman's wheel into `dest` (created by the caller)."""
    root = checkout()
    by_hand = command(dest, root)
    if root is None:
        return Wheel(path=None, command=by_hand, error="memman runs from an installed package, not a checkout")
    with tempfile.TemporaryDirectory(prefix="memman-wheel-") as scratch:
        source, out = Path(scratch) / "src", Path(scratch) / "out"
        source.mkdir()
        for name in FILES:
            if (root / name).is_file():
                shutil.copy2(root / name, source / name)
        for name in PACKAGES:
            shutil.copytree(root / name, source / name, ignore=IGNORED)
        try:
            run = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                capture_output=True, text=True, timeout=TIMEOUT_S, cwd=scratch,
            )
        except subprocess.TimeoutExpired:
            return Wheel(path=None, command=by_hand, error=f"pip did not finish within {TIMEOUT_S} s")
        built = sorted(out.glob("memman-*.whl"))
        if run.returncode != 0 or len(built) != 1:
            last = [line for line in (run.stderr or run.stdout).splitlines() if line.strip()][-1:]
            return Wheel(path=None, command=by_hand, error=f"pip wheel failed: {' '.join(last) or f'exit {run.returncode}'}")
        target = dest / built[0].name
        shutil.move(built[0], target)
    return Wheel(path=str(target), command=by_hand)
