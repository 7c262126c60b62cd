"""Docs follow the code: the README starts with the two commands, its CLI
reference is generated from the click tree and current, every command has
help with an example, and every exit code the errors use is documented."""

from __future__ import annotations

import subprocess
import sys

from events import errors
from tests.conftest import REPO


def test_readme_starts_with_make_demo_and_make_test() -> None:
    text = (REPO / "README.md").read_text()
    blocks = text.split("```")
    first_code = blocks[1].strip().splitlines()
    assert first_code[1:] == ["make demo", "make test"] or first_code == ["make demo", "make test"]


def test_the_cli_reference_in_the_readme_is_current() -> None:
    result = subprocess.run([sys.executable, "tools/cli_reference.py", "--check"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_exit_code_is_documented() -> None:
    text = (REPO / "README.md").read_text()
    codes = {cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.MemmanError)}
    for code in codes | {0, 2}:
        assert f"| {code} |" in text, f"exit code {code} missing from README"
