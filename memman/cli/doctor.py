"""`doctor`: is this installation healthy, and how to fix what is not."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app

_MARK = {"pass": "ok  ", "warn": "warn", "fail": "FAIL"}


@click.command()
@click.option("--online", is_flag=True, help="Also check that remote providers answer.")
@json_option
@pass_app
def doctor(ctx: AppContext, online, json_) -> None:  # type: ignore[no-untyped-def]
    """Check the log, projections, vectors, backlog, drain heartbeat, config,
    file modes and agent hooks; a fix for each problem. Exits 5 if a store's
    log is damaged or missing, 1 on any other fail.

    \b
    Example:
      memman doctor --json
    """
    from memman.operations.doctor import run

    report = run(ctx.data_dir, online=online)
    if json_:
        emit_json(report)
    else:
        for c in report.checks:
            where = f"[{c.store}] " if c.store else ""
            click.echo(f"{_MARK[c.status]}  {c.name:<12} {where}{c.detail}" + (f"\n      fix: {c.fix}" if c.fix and c.status != "pass" else ""))
    if any(c.status == "fail" and c.name == "log" for c in report.checks):
        raise click.exceptions.Exit(5)
    if not report.ok:
        raise click.exceptions.Exit(1)


def register(group: click.Group) -> None:
    group.add_command(doctor)
