"""What `memman install` puts where, per agent, and how it is taken back.

    claude-code  ~/.claude/skills/memman/SKILL.md -> hooks/claude-code/SKILL.md   (symlink)
                 ~/.claude/hooks/memman/memman-hook.sh -> hooks/claude-code/...  (symlink)
                 ~/.claude/settings.json: hooks (SessionStart, UserPromptSubmit,
                 PreToolUse for Task|Agent|ExitPlanMode, Stop, PreCompact) and
                 permissions.allow for memman's agent verbs, merged in place
    codex        ~/.codex/skills/memman/SKILL.md, ~/.codex/rules/memman.rules   (symlinks)
    openclaw     ~/.openclaw/extensions/memman -> hooks/openclaw/plugin          (symlink)
                 ~/.openclaw/hooks/memman-bootstrap -> hooks/openclaw/hook        (symlink)
                 ~/.openclaw/openclaw.json: plugins.entries.memman and
                 hooks.internal.entries.memman-bootstrap enabled
    nanoclaw     <checkout>/container/skills/memman/SKILL.md and
                 <checkout>/container/memman/ (Dockerfile snippet, entrypoint,
                 recipe): copies, because a Docker build context cannot follow
                 symlinks out of the checkout; and memman's wheel, built from
                 the checkout memman runs from, in container/memman/wheels/
                 (or, when it cannot be built, the one command that builds it)

Symlinks point into the installed package, so upgrading memman refreshes
them. Every path install creates (files, links, directories) and every JSON
edit is recorded in <data_dir>/install/<target>.json; uninstall removes
exactly those and never touches the memory stores or config.toml.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec

from events.errors import BadInput, NotFound
from memman.install import edits
from memman.install.prime import hooks_dir
from memman.install.wheel import Wheel

TARGETS = ("claude-code", "codex", "openclaw", "nanoclaw")
HOOK_MARKER = "/hooks/memman/memman-hook.sh"
AGENT_VERBS = ("remember", "recall", "replace", "forget", "restore", "status", "guide", "prime", "log", "insights")
CLAUDE_HOOKS = (  # (event, matcher, memman hook event, timeout s)
    ("SessionStart", None, "session-start", 10),
    ("UserPromptSubmit", None, "user-prompt-submit", 5),
    ("PreToolUse", "Task|Agent|ExitPlanMode", "pre-tool-use", 5),
    ("Stop", None, "stop", 5),
    ("PreCompact", None, "pre-compact", 5),
    ("SessionEnd", None, "session-end", 5),
)


class Link(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    source: str  # what it points at (symlink) or copies (copy)
    copy: bool = False


class Manifest(msgspec.Struct, kw_only=True):
    target: str
    python: str
    data_dir: str
    links: list[Link] = []
    created_dirs: list[str] = []
    edits: list[edits.FileEdit] = []


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    target: str
    action: str  # "installed", "updated", "unchanged", "uninstalled", "absent"
    paths: list[str]
    wheel: Wheel | None = None  # nanoclaw: the wheel built from this checkout (or the command to build it)


class NotInstalled(NotFound):
    pass


def home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def claude_dir() -> Path:
    return Path(os.environ.get("CLAUDE_CONFIG_DIR") or home() / ".claude")


def codex_dir() -> Path:
    return Path(os.environ.get("CODEX_HOME") or home() / ".codex")


def openclaw_dir() -> Path:
    return Path(os.environ.get("OPENCLAW_STATE_DIR") or home() / ".openclaw")


def detect() -> list[str]:
    """Agents whose configuration directory exists in this HOME."""
    found = [name for name, d in (("claude-code", claude_dir()), ("codex", codex_dir()), ("openclaw", openclaw_dir())) if d.is_dir()]
    return found


def hook_command(data_dir: Path, event: str) -> str:
    shim = claude_dir() / "hooks" / "memman" / "memman-hook.sh"
    return (
        f"MEMMAN_PYTHON={shlex.quote(sys.executable)} MEMMAN_DATA_DIR={shlex.quote(str(data_dir))}"
        f" {shlex.quote(str(shim))} {event}"
    )


def _is_our_hook(entry: object) -> bool:
    hooks = entry.get("hooks") if isinstance(entry, dict) else None
    return isinstance(hooks, list) and any(
        isinstance(h, dict) and HOOK_MARKER in str(h.get("command", "")) for h in hooks
    )


def _our_permissions() -> list[str]:
    return [f"Bash(memman {verb}:*)" for verb in AGENT_VERBS]


DATA_DIR_ENV = ["env", "MEMMAN_DATA_DIR"]


def _claude_settings(data_dir: Path) -> Callable[[str, list[list[str]], str], str]:
    def apply(text: str, created: list[list[str]], where: str) -> str:
        from memman.stores import resolve_data_dir

        if data_dir != resolve_data_dir("~/.memman"):  # the agent's own `memman` commands must find this data dir too
            text = edits.set_key(text, DATA_DIR_ENV, str(data_dir), created, where)
        for event, matcher, name, timeout in CLAUDE_HOOKS:
            entry: dict[str, object] = {} if matcher is None else {"matcher": matcher}
            entry["hooks"] = [{"type": "command", "command": hook_command(data_dir, name), "timeout": timeout}]
            text = edits.add_items(text, ["hooks", event], [entry], _is_our_hook, created, where)
        ours = set(_our_permissions())
        return edits.add_items(text, ["permissions", "allow"], _our_permissions(), lambda v: v in ours, created, where)

    return apply


def _claude_unapply(text: str, created: list[list[str]], where: str) -> str:
    if DATA_DIR_ENV in created:
        text = edits.drop_created(text, [DATA_DIR_ENV], where, only_empty=False)
    for event, *_ in CLAUDE_HOOKS:
        text = edits.drop_ours(text, ["hooks", event], _is_our_hook, where)
    ours = set(_our_permissions())
    text = edits.drop_ours(text, ["permissions", "allow"], lambda v: v in ours, where)
    return edits.drop_created(text, created, where, only_empty=True)


OPENCLAW_KEYS = (["plugins", "entries", "memman"], ["hooks", "internal", "entries", "memman-bootstrap"])


def _openclaw_settings(data_dir: Path) -> Callable[[str, list[list[str]], str], str]:
    """The plugin gets the absolute memman and the data dir, so it never depends on PATH."""

    def apply(text: str, created: list[list[str]], where: str) -> str:
        from memman.install.agents import executable

        found = executable().path
        plugin = {"enabled": True, "config": {"command": found if Path(found).exists() else "memman", "dataDir": str(data_dir)}}
        text = edits.set_key(text, list(OPENCLAW_KEYS[0]), plugin, created, where)
        return edits.set_key(text, list(OPENCLAW_KEYS[1]), {"enabled": True}, created, where)

    return apply


def _openclaw_unapply(text: str, created: list[list[str]], where: str) -> str:
    return edits.drop_created(text, created, where, only_empty=False)


class Plan(msgspec.Struct, kw_only=True):
    links: list[Link]
    json_files: list[tuple[str, str]]  # (path, which editor): see `editor`


def editor(kind: str, data_dir: Path, *, mcp: bool = False):  # type: ignore[no-untyped-def]
    """(apply, unapply) for one settings file kind."""
    from memman.install import agents

    if kind == "claude":
        return _claude_settings(data_dir), _claude_unapply
    if kind == "openclaw":
        return _openclaw_settings(data_dir), _openclaw_unapply
    if kind == "codex-hooks":
        return agents.codex_hooks(codex_dir() / "hooks" / "memman" / "memman-hook.sh", data_dir)
    if kind == "codex-config":
        return agents.codex_config(data_dir, mcp=mcp)
    if kind == "claude-mcp":
        return agents.claude_mcp(data_dir)
    raise AssertionError(kind)


def claude_json() -> Path:
    """Claude Code's user-scope file (MCP servers live here, not in settings.json)."""
    base = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(base) / ".claude.json" if base else home() / ".claude.json"


def plan(target: str, data_dir: Path, nanoclaw_dir: Path | None, *, mcp: bool = False) -> Plan:
    assets = hooks_dir()
    if target == "claude-code":
        base = claude_dir()
        return Plan(
            links=[
                Link(path=str(base / "skills" / "memman" / "SKILL.md"), source=str(assets / "claude-code" / "SKILL.md")),
                Link(
                    path=str(base / "hooks" / "memman" / "memman-hook.sh"),
                    source=str(assets / "claude-code" / "memman-hook.sh"),
                ),
            ],
            json_files=[(str(base / "settings.json"), "claude")] + ([(str(claude_json()), "claude-mcp")] if mcp else []),
        )
    if target == "codex":
        base = codex_dir()
        return Plan(
            links=[
                Link(path=str(base / "skills" / "memman" / "SKILL.md"), source=str(assets / "codex" / "SKILL.md")),
                Link(path=str(base / "rules" / "memman.rules"), source=str(assets / "codex" / "memman.rules")),
                Link(
                    path=str(base / "hooks" / "memman" / "memman-hook.sh"),
                    source=str(assets / "claude-code" / "memman-hook.sh"),
                ),
            ],
            json_files=[(str(base / "hooks.json"), "codex-hooks"), (str(base / "config.toml"), "codex-config")],
        )
    if target == "openclaw":
        base = openclaw_dir()
        return Plan(
            links=[
                Link(path=str(base / "extensions" / "memman"), source=str(assets / "openclaw" / "plugin")),
                Link(path=str(base / "hooks" / "memman-bootstrap"), source=str(assets / "openclaw" / "hook")),
            ],
            json_files=[(str(base / "openclaw.json"), "openclaw")],
        )
    if target == "nanoclaw":
        root = nanoclaw_dir or Path.cwd()
        if not (root / "container").is_dir():
            raise BadInput(f"{root} is not a NanoClaw checkout (no container/ directory); pass --nanoclaw-dir")
        recipe = assets / "nanoclaw"
        links = [Link(path=str(root / "container" / "skills" / "memman" / "SKILL.md"), source=str(assets / "claude-code" / "SKILL.md"), copy=True)]
        links += [
            Link(path=str(root / "container" / "memman" / name), source=str(recipe / name), copy=True)
            for name in sorted(p.name for p in recipe.iterdir() if p.is_file() and not p.name.startswith("_"))
        ]
        return Plan(links=links, json_files=[])
    raise BadInput(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")


KINDS_BY_NAME = {"settings.json": "claude", "openclaw.json": "openclaw"}  # manifests written before `kind`


def manifest_path(data_dir: Path, target: str) -> Path:
    return data_dir / "install" / f"{target}.json"


def read_manifest(data_dir: Path, target: str) -> Manifest | None:
    try:
        return msgspec.json.decode(manifest_path(data_dir, target).read_bytes(), type=Manifest)
    except FileNotFoundError:
        return None


def _link_ok(link: Link) -> bool:
    path = Path(link.path)
    if link.copy:
        return path.is_file() and path.read_bytes() == Path(link.source).read_bytes()
    return path.is_symlink() and os.readlink(path) == link.source


def _check_free(links: list[Link], previous: Manifest | None) -> None:
    """Refuse before changing anything if a path we need holds something not ours."""
    ours = {l.path for l in previous.links} if previous else set()
    for link in links:
        path = Path(link.path)
        if (path.exists() or path.is_symlink()) and link.path not in ours and not _link_ok(link):
            raise BadInput(f"{path} exists and is not memman's; move it away, then run 'memman install' again")


def _make_dirs(path: Path, created: list[str]) -> None:
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir()
            created.append(str(parent))


def _place(link: Link, created: list[str]) -> None:
    path = Path(link.path)
    _make_dirs(path, created)
    if path.is_symlink() or path.is_file():
        path.unlink()
    if link.copy:
        shutil.copyfile(link.source, path)
        shutil.copymode(link.source, path)
    else:
        path.symlink_to(link.source)


def install(target: str, data_dir: Path, nanoclaw_dir: Path | None = None, *, mcp: bool = False) -> Outcome:
    wanted = plan(target, data_dir, nanoclaw_dir, mcp=mcp)
    previous = read_manifest(data_dir, target)
    _check_free(wanted.links, previous)
    # compute every JSON edit before writing anything: a file we cannot parse changes nothing
    staged: list[tuple[Path, bytes, edits.FileEdit]] = []
    for file, kind in wanted.json_files:
        path = Path(file)
        prior = next((e for e in previous.edits if e.path == file), None) if previous else None
        original, text = edits.read_original(path, "" if kind == "codex-config" else "{}\n")
        created = list(prior.created_keys) if prior else []
        new_text = editor(kind, data_dir, mcp=mcp)[0](text, created, str(path))
        data = new_text.encode()
        staged.append((path, data, edits.FileEdit(
            path=file,
            original=prior.original if prior else original,
            written_sha256=edits.sha256(data),
            created_keys=created,
            kind=kind,
        )))
    wanted_files = {f for f, _ in wanted.json_files}
    for stale in [e for e in (previous.edits if previous else []) if e.path not in wanted_files]:  # e.g. --mcp dropped
        undo = editor(stale.kind or KINDS_BY_NAME[Path(stale.path).name], data_dir)[1]
        edits.restore(stale, lambda text, e=stale, u=undo: u(text, e.created_keys, e.path))
    changed = [l.path for l in wanted.links if not _link_ok(l)]
    changed += [str(p) for p, data, _ in staged if not p.exists() or p.read_bytes() != data]
    created_dirs = list(previous.created_dirs) if previous else []
    for link in wanted.links:
        if not _link_ok(link):
            _place(link, created_dirs)
    for path, data, _ in staged:
        if not path.exists() or path.read_bytes() != data:
            _make_dirs(path, created_dirs)
            edits.write_atomic(path, data, (path.stat().st_mode & 0o777) if path.exists() else 0o600)
    links, wheel = wanted.links, None
    if target == "nanoclaw":
        wheel, built = _nanoclaw_wheel(Path(wanted.links[0].path).parents[2], previous, created_dirs)
        links = [*links, *built]
        changed += [l.path for l in built]
    manifest = Manifest(
        target=target,
        python=sys.executable,
        data_dir=str(data_dir),
        links=links,
        created_dirs=created_dirs,
        edits=[e for _, _, e in staged],
    )
    folder = manifest_path(data_dir, target).parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    edits.write_atomic(manifest_path(data_dir, target), msgspec.json.encode(manifest), 0o600)
    action = "installed" if previous is None else ("updated" if changed else "unchanged")
    return Outcome(target=target, action=action, paths=changed, wheel=wheel)


def _nanoclaw_wheel(container: Path, previous: Manifest | None, created_dirs: list[str]):  # type: ignore[no-untyped-def]
    """Build memman's wheel into <checkout>/container/memman/wheels/, where
    the recipe's Dockerfile installs it from; a wheel an earlier install
    built is replaced. Returns the Wheel and the link recording the file (a
    copy of itself, so uninstall removes it)."""
    from memman.install.wheel import build

    folder = container / "memman" / "wheels"
    for old in (previous.links if previous else []):
        if Path(old.path).parent == folder:
            Path(old.path).unlink(missing_ok=True)
    _make_dirs(folder / "x", created_dirs)
    wheel = build(folder)
    return wheel, ([Link(path=wheel.path, source=wheel.path, copy=True)] if wheel.path else [])


def uninstall(target: str, data_dir: Path) -> Outcome:
    if target not in TARGETS:
        raise BadInput(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")
    manifest = read_manifest(data_dir, target)
    if manifest is None:
        return Outcome(target=target, action="absent", paths=[])
    touched: list[str] = []
    for edit in manifest.edits:
        undo = editor(edit.kind or KINDS_BY_NAME[Path(edit.path).name], data_dir)[1]
        result = edits.restore(edit, lambda text, e=edit, u=undo: u(text, e.created_keys, e.path))
        if result != "absent":
            touched.append(edit.path)
    for link in manifest.links:
        path = Path(link.path)
        if path.is_symlink() or (link.copy and path.is_file()):
            path.unlink()
            touched.append(link.path)
    for folder in sorted(manifest.created_dirs, key=len, reverse=True):
        try:
            Path(folder).rmdir()
        except OSError:
            pass  # something else lives there now: leave it
    manifest_path(data_dir, target).unlink()
    try:
        manifest_path(data_dir, target).parent.rmdir()
    except OSError:
        pass
    return Outcome(target=target, action="uninstalled", paths=touched)


def executable():  # type: ignore[no-untyped-def]
    from memman.install.agents import executable as find

    return find()


def installed_targets(data_dir: Path) -> list[str]:
    return [t for t in TARGETS if manifest_path(data_dir, t).exists()]
