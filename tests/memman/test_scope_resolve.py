"""Which stores a directory maps to: the nearest marker or git root below
HOME, a stable valid name per project root, a marker's own name, and the
explicit choices that override everything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from events.errors import BadInput
from memman.scope.resolve import project_root, resolve, store_name
from memman.stores import check_name


def test_the_nearest_marker_or_git_root_wins_and_home_is_never_a_project(data_dir: Path, tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    (home / ".git").mkdir(parents=True)  # dotfiles in git must not make every directory one project
    assert project_root(home / "notes") is None
    outer = tmp_path / "mono"
    inner = outer / "packages" / "api"
    (outer / ".git").mkdir(parents=True)
    inner.mkdir(parents=True)
    assert project_root(inner) == (outer.resolve(), "git")
    (inner / ".memman").write_text("")
    (inner / "src").mkdir()
    assert project_root(inner / "src") == (inner.resolve(), "marker")


def test_names_are_valid_stable_and_distinct_per_root(tmp_path: Path) -> None:
    a, b = tmp_path / "x" / "My Repo!", tmp_path / "y" / "My Repo!"
    name = store_name(a, "git")
    assert check_name(name) == name and name.startswith("my-repo-")
    assert store_name(a, "git") == name and store_name(b, "git") != name


def test_a_marker_names_its_store_after_comments(tmp_path: Path) -> None:
    (tmp_path / ".memman").write_text('# team store\n\nstore = "Team-API"\n')
    assert store_name(tmp_path, "marker") == "team-api"
    (tmp_path / ".memman").write_text("shared_notes\n")
    assert store_name(tmp_path, "marker") == "shared_notes"
    (tmp_path / ".memman").write_text("not a name at all!\n")
    assert store_name(tmp_path, "marker").startswith(tmp_path.name.lower()[:10])


def test_explicit_choices_override_the_project(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    assert resolve(data_dir, None, tmp_path).project is not None
    assert resolve(data_dir, "solo", tmp_path).reads == ["solo"]
    monkeypatch.setenv("MEMMAN_STORE", "env-store")
    assert resolve(data_dir, None, tmp_path).reads == ["env-store"]
    monkeypatch.setenv("MEMMAN_STORE", "Bad Name")
    with pytest.raises(BadInput):
        resolve(data_dir, None, tmp_path)
