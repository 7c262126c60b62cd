"""The retention lifecycle: `insights protect|unprotect|candidates` and `gc`."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


def _echo_changed(result, json_: bool) -> None:  # type: ignore[no-untyped-def]
    if json_:
        emit_json(result)
    else:
        click.echo(f"{result.action} {result.id} ({result.status})")


@click.command(name="protect")
@click.argument("memory_id")
@json_option
@pass_app
def insights_protect(ctx: AppContext, memory_id, json_) -> None:  # type: ignore[no-untyped-def]
    """Protect memory MEMORY_ID: gc never retires it, its importance never
    decays, and no reconciler (rules or LLM) supersedes or retires it.

    \b
    Example:
      memman insights protect 7QX2K9ZB
    """
    _echo_changed(ctx.app.protect(memory_id), json_)


@click.command(name="unprotect")
@click.argument("memory_id")
@json_option
@pass_app
def insights_unprotect(ctx: AppContext, memory_id, json_) -> None:  # type: ignore[no-untyped-def]
    """Undo 'insights protect' for memory MEMORY_ID.

    \b
    Example:
      memman insights unprotect 7QX2K9ZB
    """
    _echo_changed(ctx.app.unprotect(memory_id), json_)


def _candidate_lines(items) -> None:  # type: ignore[no-untyped-def]
    from memman.output.render import one_line, short

    for c in items:
        click.echo(f"{short(c.id)}  {c.figures.effective:5.2f}  [{c.category}] {one_line(c.content, 70)}")
        click.echo(f"          {c.reason}")


@click.command(name="candidates")
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True)
@json_option
@pass_app
def insights_candidates(ctx: AppContext, limit, json_) -> None:  # type: ignore[no-untyped-def]
    """What 'memman gc' would retire now and why: effective importance
    (importance x decay + boost) below [retention] gc_below, lowest first,
    with the figures; immune memories are counted by reason.

    \b
    Example:
      memman insights candidates --limit 10
    """
    from memman.lifecycle.ops import candidates

    found = candidates(ctx.app, limit)
    if json_:
        emit_json(found)
        return
    immune = ", ".join(f"{why} {n}" for why, n in found.immune.items()) or "none"
    click.echo(f"{found.total} candidate(s) among {found.considered} active memories (immune: {immune})")
    _candidate_lines(found.candidates)


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would be retired; write nothing.")
@json_option
@pass_app
def gc(ctx: AppContext, dry_run, json_) -> None:  # type: ignore[no-untyped-def]
    """Retire every gc candidate now, as forget events (undo one with
    'memman restore ID'). The scheduler runs this every [retention]
    gc_every_h hours.

    \b
    Example:
      memman gc --dry-run
      memman gc && memman restore 7QX2K9ZB
    """
    from memman.lifecycle.ops import gc as run_gc

    report = run_gc(ctx.app, dry_run=dry_run)
    if json_:
        emit_json(report)
        return
    verb = "would retire" if dry_run else "retired"
    click.echo(f"{verb} {len(report.retired)} memories in {report.store}" + ("" if dry_run or not report.retired else "; 'memman restore ID' undoes one"))
    _candidate_lines(report.retired)


def register(group: click.Group) -> None:
    insights = group.commands["insights"]
    assert isinstance(insights, click.Group)
    for command in (insights_protect, insights_unprotect, insights_candidates):
        insights.add_command(command)
    group.add_command(gc)
