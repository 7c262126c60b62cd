"""`events list|show|replay|verify`: the operator's view of the log."""

from __future__ import annotations

import click
import msgspec

from events.errors import BadInput
from memman.intake import validate
from memman.cli.context import AppContext, echo_text, emit_json, json_option, pass_app, raw_option


@click.group()
def events() -> None:
    """Read the event log; replay and verify projections."""


@events.command(name="list")
@click.option("--type", "type_", metavar="TYPE", help="Only this event type, e.g. memory.remembered.")
@click.option("--since", metavar="7d|24h|ISO", help="Only events recorded since then.")
@click.option("--memory", "memory_id", metavar="ID", help="Only events about this memory.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@raw_option
@json_option
@pass_app
def events_list(ctx: AppContext, type_, since, memory_id, limit, raw, json_) -> None:  # type: ignore[no-untyped-def]
    """List events, oldest first (the newest LIMIT).

    \b
    Example:
      memman events list --type memory.reconciled --since 24h
    """
    from events.types import EVENT_CLASSES
    from memman.output.audit import line

    app = ctx.app
    if type_ and type_ not in EVENT_CLASSES:
        raise click.BadParameter(f"unknown event type {type_!r}; known: {', '.join(EVENT_CLASSES)}", param_hint="--type")
    log = app.db.log
    start = validate.since(since, app.clock()) if since else None
    if memory_id:
        records = log.for_memory(app.resolve(memory_id))
    elif start is not None:
        records = log.between(start)
    else:
        records = list(log.read(types=[type_] if type_ else None))
    records = [
        r for r in records if (not type_ or r.type == type_) and (start is None or r.recorded_at >= start)
    ][-limit:]
    lines = [line(r) for r in records]
    if json_:
        emit_json({"events": lines})
    else:
        for entry in lines:
            echo_text(f"#{entry.seq:<6} {entry.recorded_at[:19]}  {entry.type:<18} {entry.actor:<6} {entry.summary}", raw)


@events.command(name="show")
@click.argument("ref")
@raw_option
@json_option
@pass_app
def events_show(ctx: AppContext, ref, raw, json_) -> None:  # type: ignore[no-untyped-def]
    """Show one event in full, by SEQ or by event ID.

    \b
    Example:
      memman events show 42
    """
    log = ctx.app.db.log
    rec = log.get(int(ref)) if ref.isdigit() else log.get_by_id(ref)
    if json_:
        emit_json(rec)
    else:
        echo_text(msgspec.json.format(msgspec.json.encode(rec), indent=2).decode(), raw, lines=True)


@events.command(name="replay")
@click.option("--projection", "projections", multiple=True, metavar="NAME", help="Only this projection (repeatable).")
@click.option("--server", is_flag=True, help="Rebuild the server projections in PostgreSQL from this machine's replica.")
@json_option
@pass_app
def events_replay(ctx: AppContext, projections, server, json_) -> None:  # type: ignore[no-untyped-def]
    """Rebuild projections from the log (no LLM or embedding calls).

    With --server (a store on PostgreSQL), rebuild the projections kept inside
    PostgreSQL, which recall reads with `postgres.reads = server`, from this
    machine's replica (caught up first); from then on every worker keeps them.

    \b
    Example:
      memman events replay
      memman events replay --projection vectors
      memman events replay --server
    """
    if server:
        _replay_server(ctx, projections, json_)
        return
    from memman.operations.maintenance import replay

    def progress(applied: int, seq: int) -> None:
        ctx.say(f"replay: {applied} events applied, at seq {seq}")

    report = replay(ctx.app, list(projections) or None, progress=progress)
    if json_:
        emit_json(report)
    else:
        rate = report.events_applied / report.seconds if report.seconds else 0
        click.echo(
            f"replayed {', '.join(report.projections)}: {report.events_applied} events applied"
            f" in {report.seconds:.2f}s ({rate:,.0f}/s)"
        )


def _replay_server(ctx: AppContext, projections, json_) -> None:  # type: ignore[no-untyped-def]
    from memman.operations.server import replay_server

    if projections:
        raise BadInput("--server rebuilds every server projection; leave out --projection")
    report = replay_server(ctx.app)
    if json_:
        emit_json(report)
    else:
        rows = ", ".join(f"{name} {count}" for name, count in report.rows.items())
        click.echo(f"rebuilt the server projections in {report.server} at seq {report.seq} ({rows} rows) in {report.seconds:.2f}s")


@events.command(name="verify")
@json_option
@pass_app
def events_verify(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Check every event's checksum and the log's structure, then rebuild
    into a scratch copy and report any difference from the live projections.
    Exit 5 if the log is damaged (never repaired: it is the source of truth),
    1 if only the projections differ (replay repairs them).

    \b
    Example:
      memman events verify
    """
    from memman.operations.maintenance import verify

    report = verify(ctx.app)
    if json_:
        emit_json(report)
    else:
        for problem in report.log_problems:
            click.echo(f"log: {problem}")
        for diff in report.differences:
            click.echo(f"{diff.table}: {diff.detail}")
        verdict = "ok" if report.ok else "CORRUPT" if report.log_problems else "MISMATCH"
        click.echo(f"{verdict}: {report.store} verified in {report.seconds:.2f}s")
        if report.fix:
            click.echo(f"fix: {report.fix}")
    if report.log_problems:
        raise SystemExit(5)
    if not report.ok:
        raise SystemExit(1)


def register(group: click.Group) -> None:
    group.add_command(events)
