"""Which stores a working directory maps to.

    explicit     --store NAME or MEMMAN_STORE: that one store, nothing else
                 (existing single-store setups keep working unchanged)
    project      the nearest directory, from the working directory up (HOME
                 and / excluded), holding a `.memman` marker or a `.git`;
                 its store is named `<dir name>-<8 hex of its real path>`, or
                 what the marker names (`store = "name"`, or a bare name line)
    personal     the store `memman store use` selected, else `default`:
                 preferences and anything outside a project live here, and
                 recall reads it beside the project store

Outside any project, or with `scope.projects = false` in config.toml, the
personal store is the only one, exactly as before project scoping.
Only the standard library: this runs on every hook and every CLI call.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import msgspec

from memman.stores import Registry, check_name

MARKER = ".memman"
ROOT_FILE = "project.json"  # in a project store's directory: the root it serves
_SLUG = re.compile(r"[^a-z0-9_-]+")
_MARKER_NAME = re.compile(r"""^\s*(?:store\s*=\s*)?["']?([A-Za-z0-9][A-Za-z0-9_-]{0,63})["']?\s*$""")


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    personal: str  # the personal store (or the one explicit store)
    project: str | None = None  # the project's store, None outside a project
    project_root: str | None = None
    reason: str  # how it was chosen, for `memman store which`
    explicit: bool = False

    @property
    def write(self) -> str:
        """Where a memory goes unless it is personal (a preference, or --personal)."""
        return self.project or self.personal

    @property
    def reads(self) -> list[str]:
        """The stores recall searches, project first."""
        return [self.project, self.personal] if self.project and self.project != self.personal else [self.personal]


def project_root(cwd: Path) -> tuple[Path, str] | None:
    """The nearest enclosing project and how it was found ('marker' or 'git')."""
    try:
        here = cwd.resolve()
    except OSError:
        return None
    home = Path(os.environ.get("HOME") or "/nonexistent").resolve()
    for folder in (here, *here.parents):
        if folder == home or folder == folder.parent:
            return None
        if (folder / MARKER).is_file():
            return folder, "marker"
        if (folder / ".git").exists():
            return folder, "git"
    return None


def store_name(root: Path, how: str) -> str:
    if how == "marker":
        try:
            for line in (root / MARKER).read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    found = _MARKER_NAME.match(line)
                    if found:
                        return check_name(found.group(1).lower())
                    break
        except (OSError, UnicodeDecodeError):
            pass
    slug = _SLUG.sub("-", root.name.lower()).strip("-_")[:40] or "project"
    from events.digests import sha256_hex

    digest = sha256_hex(str(root).encode())[:8]
    return f"{slug}-{digest}"


def _projects_on(data_dir: Path) -> bool:
    if not (data_dir / "config.toml").exists():
        return True
    from memman import config

    return config.settings_for(data_dir).scope.projects


def resolve(data_dir: Path, flag: str | None, cwd: Path | str | None) -> Scope:
    if flag:
        return Scope(personal=check_name(flag), reason="--store", explicit=True)
    env = os.environ.get("MEMMAN_STORE")
    if env:
        return Scope(personal=check_name(env), reason="MEMMAN_STORE", explicit=True)
    registry = Registry(data_dir)
    personal = registry.active(None)
    if cwd is None or not _projects_on(data_dir):
        return Scope(personal=personal, reason="personal store (project scoping off)" if cwd else "personal store")
    found = project_root(Path(cwd))
    if found is None:
        return Scope(personal=personal, reason=f"no project at {cwd}: personal store")
    root, how = found
    why = f"{MARKER} marker at {root}" if how == "marker" else f"git root {root}"
    return Scope(personal=personal, project=store_name(root, how), project_root=str(root), reason=why)


def ensure_project_store(registry: Registry, scope: Scope) -> None:
    """Create the project's store on its first write, recording the root it serves."""
    if scope.project is None or registry.exists(scope.project) or registry.path(scope.project).is_dir():
        return
    registry.ensure_data_dir()
    path = registry.path(scope.project)
    path.mkdir(parents=True, exist_ok=True)
    (path / ROOT_FILE).write_bytes(msgspec.json.encode({"root": scope.project_root}))


def root_of(registry: Registry, name: str) -> str | None:
    try:
        return str(msgspec.json.decode((registry.path(name) / ROOT_FILE).read_bytes())["root"])
    except (OSError, msgspec.DecodeError, KeyError, TypeError):
        return None
