"""`prime`, `guide` and `hook`: what agents read at session start, the
behavioural policy, and the one entry point every hook shim calls."""

from __future__ import annotations

import sys

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.command()
@click.option("--compacted", is_flag=True, help="Add the re-recall hint for a compacted conversation.")
@json_option
@pass_app
def prime(ctx: AppContext, compacted, json_) -> None:  # type: ignore[no-untyped-def]
    """What an agent session starts with: store status, the guide, and after
    a compaction a hint to recall again. Read-only.

    \b
    Example:
      memman prime
    """
    from memman.install.prime import prime as build

    import os

    primer = build(ctx.data_dir, ctx.store_flag, compacted=compacted, cwd=os.getcwd())
    if json_:
        emit_json(primer)
    else:
        click.echo(primer.text)


@click.command()
@json_option
def guide(json_) -> None:  # type: ignore[no-untyped-def]
    """The behavioural policy for agents: when to recall, what is worth
    remembering, one fact per call, corrections through replace, no secrets.

    \b
    Example:
      memman guide
    """
    from memman.install.prime import guide_text

    if json_:
        emit_json({"guide": guide_text()})
    else:
        click.echo(guide_text(), nl=False)


@click.command()
@click.argument("event", type=click.Choice(["session-start", "user-prompt-submit", "pre-tool-use", "stop", "pre-compact", "session-end", "bootstrap"]))
@click.option("--agent", type=click.Choice(["claude-code", "codex", "openclaw"]), default="claude-code", show_default=True,
              help="Who calls (Claude Code and Codex send and read the same JSON).")
@json_option
@pass_app
def hook(ctx: AppContext, event, agent, json_) -> None:  # type: ignore[no-untyped-def]
    """Answer one agent hook: read the agent's JSON on stdin, print the JSON
    it expects (nothing when there is nothing to say; --json prints {}).
    Called by the shims that 'memman install' puts in place.

    \b
    Example:
      memman hook session-start \\
        <<< '{"hook_event_name": "SessionStart", "cwd": "/tmp"}'
    """
    from memman.install import hookrun

    answer = hookrun.handle(event, hookrun.decode(sys.stdin.buffer.read()), ctx.data_dir, ctx.store_flag, agent)
    if answer is not None or json_:
        emit_json(answer or {})


def register(group: click.Group) -> None:
    for command in (prime, guide, hook):
        group.add_command(command)
