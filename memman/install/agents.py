"""The settings edits for Codex (hooks.json, config.toml) and for MCP
registration (Claude Code's ~/.claude.json, Codex's config.toml).

Codex reads the same hook JSON as Claude Code (session_id, cwd,
hook_event_name, prompt, source, stop_hook_active, ...) and accepts the same
answers (hookSpecificOutput with additionalContext; decision/reason on Stop),
so both call one entry point: the memman-hook.sh shim, `memman hook EVENT`.
Codex's hooks sit behind `[features] codex_hooks = true` in config.toml,
which install sets (and removes again, unless the user had set it).
SessionEnd gets Codex's 3 s cap: memman only starts a detached drain there.

Each editor is `apply(text, created, where) -> text` / `unapply(...)`, as in
targets.py, so install records the original bytes and uninstall restores them.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec

from memman.install import edits, tomledit

Editor = Callable[[str, list[list[str]], str], str]
HOOK_MARKER = "/hooks/memman/memman-hook.sh"
CODEX_HOOKS = (  # (event, memman hook event, timeout s)
    ("SessionStart", "session-start", 10),
    ("UserPromptSubmit", "user-prompt-submit", 5),
    ("Stop", "stop", 5),
    ("PreCompact", "pre-compact", 5),
    ("SessionEnd", "session-end", 3),
)
MCP_NAME = "memman"


def shim_command(shim: Path, data_dir: Path, event: str, agent: str) -> str:
    return (
        f"MEMMAN_PYTHON={shlex.quote(sys.executable)} MEMMAN_DATA_DIR={shlex.quote(str(data_dir))}"
        f" {shlex.quote(str(shim))} {event}" + ("" if agent == "claude-code" else f" --agent {agent}")
    )


def is_our_hook(entry: object) -> bool:
    hooks = entry.get("hooks") if isinstance(entry, dict) else None
    return isinstance(hooks, list) and any(
        isinstance(h, dict) and HOOK_MARKER in str(h.get("command", "")) for h in hooks
    )


def codex_hooks(shim: Path, data_dir: Path) -> tuple[Editor, Editor]:
    def apply(text: str, created: list[list[str]], where: str) -> str:
        for event, name, timeout in CODEX_HOOKS:
            entry = {"hooks": [{"type": "command", "command": shim_command(shim, data_dir, name, "codex"), "timeout": timeout}]}
            text = edits.add_items(text, ["hooks", event], [entry], is_our_hook, created, where)
        return text

    def unapply(text: str, created: list[list[str]], where: str) -> str:
        for event, *_ in CODEX_HOOKS:
            text = edits.drop_ours(text, ["hooks", event], is_our_hook, where)
        return edits.drop_created(text, created, where, only_empty=True)

    return apply, unapply


def mcp_entry(data_dir: Path) -> dict[str, object]:
    """The stdio server, by absolute path: no PATH lookup, the same data dir as the hooks."""
    return {"type": "stdio", "command": sys.executable, "args": ["-P", "-m", "memman", "mcp"],
            "env": {"MEMMAN_DATA_DIR": str(data_dir)}}


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a TOML basic string: JSON's escapes are valid TOML


def codex_config(data_dir: Path, *, mcp: bool) -> tuple[Editor, Editor]:
    def apply(text: str, created: list[list[str]], where: str) -> str:
        text = tomledit.set_key(text, "features", "codex_hooks", "true", created)
        if mcp:
            entry = mcp_entry(data_dir)
            body = [
                f"command = {_toml_string(str(entry['command']))}",
                "args = [" + ", ".join(_toml_string(a) for a in entry["args"]) + "]",  # type: ignore[attr-defined]
                f"env = {{ MEMMAN_DATA_DIR = {_toml_string(str(data_dir))} }}",
            ]
            text = tomledit.set_table(text, f"mcp_servers.{MCP_NAME}", body, created)
        elif [f"mcp_servers.{MCP_NAME}"] in created:  # installed with --mcp before, not now: take it out
            text = tomledit.unset(text, [[f"mcp_servers.{MCP_NAME}"]])
            created.remove([f"mcp_servers.{MCP_NAME}"])
        return text

    def unapply(text: str, created: list[list[str]], where: str) -> str:
        return tomledit.unset(text, created)

    return apply, unapply


def claude_mcp(data_dir: Path) -> tuple[Editor, Editor]:
    """`mcpServers.memman` in ~/.claude.json: what `claude mcp add --scope user` writes."""

    def apply(text: str, created: list[list[str]], where: str) -> str:
        return edits.set_key(text, ["mcpServers", MCP_NAME], mcp_entry(data_dir), created, where)

    def unapply(text: str, created: list[list[str]], where: str) -> str:
        text = edits.drop_created(text, [p for p in created if len(p) > 1], where, only_empty=False)
        return edits.drop_created(text, [p for p in created if len(p) == 1], where, only_empty=True)

    return apply, unapply


class Executable(msgspec.Struct, frozen=True, kw_only=True):
    path: str  # the memman install runs from (hooks and MCP use its python by absolute path)
    on_path: bool  # `memman` on PATH is this one, so the agent's own commands reach the same install
    warning: str | None = None


def executable() -> Executable:
    own = Path(sys.executable).parent / "memman"
    found = shutil.which("memman")
    if found is None:
        return Executable(path=str(own), on_path=False, warning=(
            f"'memman' is not on PATH, so the agent's own memman commands (skill, permissions) will fail;"
            f" add {own.parent} to PATH, or: ln -s {own} ~/.local/bin/memman"))
    if Path(found).resolve() != own.resolve():
        return Executable(path=str(own), on_path=False, warning=(
            f"'memman' on PATH is {found}, not this installation ({own}): the agent's own commands would use that one"))
    return Executable(path=str(own), on_path=True)
