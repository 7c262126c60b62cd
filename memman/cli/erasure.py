"""`purge`: erase memories' content everywhere, keep a tombstone."""

from __future__ import annotations

import sys

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app
from memman.exits import fail


@click.command()
@click.argument("memory_ids", nargs=-1, metavar="[ID]...")
@click.option("--match", metavar="TEXT", help="Purge every memory whose text contains TEXT (case-insensitive).")
@click.option("--reason", default="", help="Why (kept in the tombstone; say it without the content).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_app
def purge(ctx: AppContext, memory_ids, match, reason, yes, json_) -> None:  # type: ignore[no-untyped-def]
    """Destroy the content of memories for good: their texts, facts,
    enrichment, vectors, edges, index entries and caches, in the log and
    every derived file, leaving a content-free 'memory.purged' tombstone
    (who, when, reason, which ids). Unlike forget, this cannot be undone.
    A memory split from a longer text is purged with that text and the
    other memories drawn from it. Asks for confirmation unless --yes.
    A protected memory is purged only when its ID is named: --match, or
    sharing an input with a named memory, refuses and names it instead.

    \b
    Example:
      memman purge 7QX2K9ZB --reason "user asked to delete it"
      memman purge --match "hunter2" --yes
    """
    from memman.erasure.purge import plan, purge as run_purge

    chosen = plan(ctx.app, list(memory_ids), match)
    if not yes and not sys.stdin.isatty():
        fail(f"purge destroys {len(chosen.memories)} memories for good; confirm on a terminal or pass --yes", 2)
    if not yes:
        click.echo(f"purge {len(chosen.memories)} memories from store {chosen.store}:", err=True)
        for p in chosen.memories:
            click.echo(f"  {p.id[-8:]} [{p.status}{', protected' if p.protected else ''}] {p.content}", err=True)
        if not click.confirm("Destroy their content for good? This cannot be undone", default=False, err=True):
            fail("purge not confirmed; nothing changed", 1)
    report = run_purge(ctx.app, chosen, reason=reason)
    if json_:
        emit_json(report)
        return
    click.echo(f"purged {len(report.purged)} memories from {report.store}: {report.rewritten} events rewritten, tombstone #{report.tombstone_seq}")
    for name, count in report.related.items():
        click.echo(f"  also purged {count} from {name}")
    for path in report.remaining:
        click.echo(f"  warning: {path} still holds purged text (open in another process?)", err=True)


def register(group: click.Group) -> None:
    group.add_command(purge)
