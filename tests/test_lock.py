"""The lock file pins, with hashes, every dependency pyproject.toml declares.

`make demo` and `make test` install only from requirements/dev.lock with
--require-hashes and --no-deps, so a dependency missing from the lock would
break a fresh machine while a hand-made venv hides it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.lock"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    blocks = re.split(r"\n(?=[a-z0-9])", LOCK.read_text())
    for block in blocks:
        match = re.match(r"([a-z0-9][a-z0-9._-]*)==(\S+)", block)
        if match:
            assert "--hash=sha256:" in block, f"{match.group(1)} is pinned without a hash"
            pins[match.group(1).replace("_", "-")] = match.group(2)
    return pins


def test_every_declared_dependency_is_pinned_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    locked = _locked()
    missing = sorted({_name(r) for r in declared} - set(locked))
    assert not missing, f"not in {LOCK.name}; run 'make lock': {missing}"


def test_the_build_backend_is_locked_for_the_no_isolation_install():
    assert "setuptools" in _locked()
