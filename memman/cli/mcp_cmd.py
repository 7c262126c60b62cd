"""`memman mcp`: the MCP server over stdio (memman/mcp/)."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, pass_app


@click.command(name="mcp")
@pass_app
def mcp(ctx: AppContext) -> None:
    """Serve memman's tools over MCP on stdin/stdout (remember, recall,
    forget, restore, replace, log, insights, status). Agents start it;
    'memman install --mcp' registers it with Claude Code and Codex. Needs
    the MCP SDK: pip install 'memman[mcp]'.

    \b
    Example:
      memman mcp
      claude mcp add memman -- memman mcp
    """
    require_sdk()
    from memman.mcp.server import serve

    serve(ctx.data_dir, ctx.store_flag)


def require_sdk() -> None:
    """One clear line when the optional SDK is missing (exit 1)."""
    from importlib.util import find_spec

    from events.errors import MemmanError

    if find_spec("mcp") is None or find_spec("pydantic") is None:
        raise MemmanError("memman mcp needs the MCP SDK, which is not installed: pip install 'memman[mcp]'")


def register(group: click.Group) -> None:
    group.add_command(mcp)
