"""Helpers for the integration suite: a snapshot of a directory tree (paths,
bytes, symlink targets, modes) to diff before/after, and running a hook the
way an agent does (the settings.json command through `sh -c`, JSON on stdin)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Cli


def snapshot(root: Path) -> dict[str, tuple[str, object, int]]:
    tree: dict[str, tuple[str, object, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_symlink():
                tree[rel] = ("link", os.readlink(path), mode)
            elif path.is_dir():
                tree[rel] = ("dir", None, mode)
            else:
                tree[rel] = ("file", path.read_bytes(), mode)
    return tree


def run_hook(command: str, payload: bytes, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["sh", "-c", command], input=payload, capture_output=True, env=env, timeout=60)


@pytest.fixture
def home(data_dir: Path) -> Path:
    path = data_dir.parent / "home"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def cli(data_dir: Path) -> Cli:
    return Cli(data_dir)
