"""`scheduler drain`: one pass of the background worker."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.group()
def scheduler() -> None:
    """The background worker that turns remembered text into memories."""


@scheduler.command(name="drain")
@click.option("--store", "stores", multiple=True, metavar="NAME", help="Only this store (repeatable; default: all).")
@click.option("--limit", type=click.IntRange(1, None), help="At most this many inputs per store.")
@json_option
@pass_app
def scheduler_drain(ctx: AppContext, stores, limit, json_) -> None:  # type: ignore[no-untyped-def]
    """Process every store's pending work once (extract, reconcile, embed,
    link). One drain at a time per data dir.

    \b
    Example:
      memman scheduler drain
    """
    from memman.maintenance import drain_all
    from memman.stores import check_name

    def progress(store: str, done: int, total: int) -> None:
        ctx.say(f"drain {store}: {done}/{total}")

    reports = drain_all(
        ctx.data_dir, stores=[check_name(s) for s in stores] or None, limit=limit, progress=progress
    )
    if json_:
        emit_json({"stores": reports})
        return
    if not reports:
        click.echo("no stores to drain")
    for r in reports:
        rate = r.processed / r.seconds if r.seconds else 0.0
        click.echo(
            f"{r.store}: {r.completed} derived, {r.failed} failed, {r.dead} dead-lettered, {r.remaining} remaining"
            f" ({r.seconds:.2f}s, {rate:,.0f}/s)"
        )


def register(group: click.Group) -> None:
    group.add_command(scheduler)
