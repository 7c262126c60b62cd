"""`migrate`: move a store's log between SQLite and PostgreSQL."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.command()
@click.option("--store", "store_name", metavar="NAME", help="The store to move (default: the one in use).")
@click.option("--to", "to", required=True, metavar="sqlite|postgresql://...", help="The backend to move the log to.")
@click.option("--dry-run", is_flag=True, help="Say what would be copied; change nothing.")
@json_option
@pass_app
def migrate(ctx: AppContext, store_name, to, dry_run, json_) -> None:  # type: ignore[no-untyped-def]
    """Move a store's log to another backend, keeping its name.

    Copies every event row for row, checks the copy (event count, content
    hash, append-only triggers, contiguous seq), switches the store, then
    replays the projections from the new log and compares them. Idempotent
    and resumable; holds the drain lock; calls no provider. docs/postgres.md

    \b
    Example:
      memman migrate --to postgresql://me@db.internal/memman --dry-run
      memman migrate --store team --to sqlite
    """
    from memman.operations.migrate import migrate as run_migrate

    if store_name:
        ctx.store_flag = store_name
    report = run_migrate(ctx.app, to, dry_run=dry_run, progress=lambda n: ctx.say(f"migrate: {n} events copied"))
    if json_:
        emit_json(report)
    elif dry_run:
        click.echo(f"dry run: {report.copied} of {report.events} events would be copied from {report.source} to {report.target}")
    else:
        click.echo(
            f"migrated {report.store} to {report.target}: {report.events} events ({report.copied} copied now),"
            f" verified, content hash {report.content_hash[:16]} ({report.seconds:.2f}s)"
        )


def register(group: click.Group) -> None:
    group.add_command(migrate)
