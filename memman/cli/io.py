"""`import` and `export` (JSON Lines)."""

from __future__ import annotations

import sys

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.command(name="import")
@click.argument("file", type=click.File("rb"))
@click.option("--redact", is_flag=True, help="Mask secrets in the texts instead of refusing the file.")
@json_option
@pass_app
def import_(ctx: AppContext, file, redact, json_) -> None:  # type: ignore[no-untyped-def]
    """Import memories from FILE.jsonl (- for stdin); all lines or none.
    Idempotent: a re-run (say, after a kill) appends only the lines not yet
    imported and reports "N new, M already imported".

    Each line: {"text": ..., "at": ISO, "until": ISO, "cat": ..., "imp": 1-5,
    "entities": [...], "source": ..., "meta": {...}, "id": KEY}; only text
    is required ("at" is when it was true or said, "until" when it stops
    being true; "id" is the line's idempotency key, default its content).
    A line holding a likely secret fails the import unless --redact;
    <private>...</private> sections are dropped.

    \b
    Example:
      memman import history.jsonl && memman scheduler drain
    """
    from memman.transfer import import_jsonl

    report = import_jsonl(ctx.app, file, redact=redact)
    if json_:
        emit_json(report)
    else:
        click.echo(
            f"imported {report.imported} into {report.store} in {report.seconds:.2f}s: {report.imported} new,"
            f" {report.already} already imported (pending until drained)"
        )


@click.command()
@click.option("--what", type=click.Choice(["memories", "events"]), default="memories", show_default=True)
@click.option("--all", "include_all", is_flag=True, help="Memories: include forgotten and superseded ones.")
@pass_app
def export(ctx: AppContext, what, include_all) -> None:  # type: ignore[no-untyped-def]
    """Export memories (importable as-is) or the raw event log, as JSON Lines.

    \b
    Example:
      memman export > memories.jsonl
      memman export --what events > log.jsonl
    """
    from memman.transfer import export_events, export_memories

    lines = export_events(ctx.app) if what == "events" else export_memories(ctx.app, include_all=include_all)
    out = sys.stdout.buffer
    for line in lines:
        out.write(line + b"\n")
    out.flush()


def register(group: click.Group) -> None:
    group.add_command(import_)
    group.add_command(export)
