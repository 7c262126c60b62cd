"""Reading history: `log` and `insights show`."""

from __future__ import annotations

import click

from memman.intake import validate
from memman.cli.context import AppContext, echo_text, emit_json, json_option, pass_app, raw_option


def _print_lines(lines, raw: bool = False) -> None:  # type: ignore[no-untyped-def]
    for entry in lines:
        stage = f" {entry.stage}" if entry.stage else ""
        occurred = "" if entry.occurred_at[:19] == entry.recorded_at[:19] else f" (occurred {entry.occurred_at[:19]})"
        echo_text(
            f"{entry.recorded_at[:19]}  #{entry.seq:<6} {entry.actor:<6} {entry.type}{stage}  {entry.summary}{occurred}", raw
        )


@click.command(name="log")
@click.option("--memory", "memory_id", metavar="ID", help="Only events about this memory.")
@click.option("--since", metavar="7d|24h|ISO", help="Only events recorded since then.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@raw_option
@json_option
@pass_app
def log_(ctx: AppContext, memory_id, since, limit, raw, json_) -> None:  # type: ignore[no-untyped-def]
    """The audit trail: who or what changed memory, when, how, from which input.

    \b
    Example:
      memman log --memory 7QX2K9ZB
      memman log --since 24h
    """
    from memman.output.audit import trail

    app = ctx.app
    start = validate.since(since, app.clock()) if since else None
    lines = trail(app, memory_id=memory_id, since=start, limit=limit)
    if json_:
        emit_json({"events": lines})
    elif not lines:
        click.echo("no events")
    else:
        _print_lines(lines, raw)


@click.group()
def insights() -> None:
    """Inspect what the store knows about a memory, protect it, see gc candidates."""


@insights.command(name="show")
@click.argument("memory_id")
@raw_option
@json_option
@pass_app
def insights_show(ctx: AppContext, memory_id, raw, json_) -> None:  # type: ignore[no-untyped-def]
    """Show memory MEMORY_ID and its full history.

    \b
    Example:
      memman insights show 7QX2K9ZB
    """
    from memman.output.audit import history

    found = history(ctx.app, memory_id)
    if json_:
        emit_json(found)
        return
    m = found.memory
    echo_text(f"{m.id}  [{m.status}] {m.category}, importance {m.importance}, source {m.source}", raw)
    echo_text(f"  {m.content}", raw)
    if m.entities:
        echo_text(f"  entities: {', '.join(m.entities)}", raw)
    if m.superseded_by:
        echo_text(f"  superseded by: {m.superseded_by}", raw)
    if m.replaces:
        echo_text(f"  replaces: {m.replaces}", raw)
    if m.forget_reason:
        echo_text(f"  forgotten: {m.forget_reason}", raw)
    echo_text(f"  occurred {m.occurred_at} (valid time), recorded {m.recorded_at} (transaction time)", raw)
    if m.valid_to:
        echo_text(f"  valid until {m.valid_to}", raw)
    echo_text(f"  updated {m.updated_at}", raw)
    click.echo("history:")
    _print_lines(found.events, raw)


def register(group: click.Group) -> None:
    group.add_command(log_)
    group.add_command(insights)
