"""`scheduler drain|serve|trigger|start|stop|status|interval|install|uninstall`
and `scheduler queue ...`: the background worker and its operations."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app

WAIT_S = 600  # the automatic drain's own bound (memman/scheduler/autodrain.py MAX_SECONDS)


@click.group()
def scheduler() -> None:
    """The background worker that turns remembered text into memories."""


@scheduler.command(name="drain")
@click.option("--store", "stores", multiple=True, metavar="NAME", help="Only this store (repeatable; default: all).")
@click.option("--limit", type=click.IntRange(1, None), help="At most this many inputs per store.")
@click.option(
    "--wait", "wait_s", type=click.IntRange(0, 86_400), metavar="SECONDS",
    help=f"When another drain (the automatic one, a timer's) is on a store, wait this long for it, then drain what is left [{WAIT_S}].",
)
@click.option("--no-wait", is_flag=True, help="Fail at once (exit 4) when another drain is running.")
@click.option("--background", is_flag=True, hidden=True, help="The automatic drain memman starts itself.")
@json_option
@pass_app
def scheduler_drain(ctx: AppContext, stores, limit, wait_s, no_wait, background, json_) -> None:  # type: ignore[no-untyped-def]
    """Process every store's pending work once (extract, reconcile, embed,
    link). One drain at a time per store: when another drain is running (the
    automatic drain after a write, say), this one waits for it (bounded by
    --wait) and then drains what is left.

    \b
    Example:
      memman scheduler drain
      memman scheduler drain --wait 30
      memman scheduler drain --no-wait      # exit 4 if a drain is running
    """
    import time

    from memman.exits import warn
    from memman.maintenance import drain_all
    from memman.scheduler import state
    from memman.stores import check_name

    if background:
        from memman.scheduler.autodrain import run_background

        run_background(ctx.data_dir, say=lambda line: click.echo(line))
        return
    if no_wait and wait_s is not None:
        from events.errors import BadInput

        raise BadInput("use either --wait SECONDS or --no-wait, not both")
    if state.is_stopped(ctx.data_dir):
        state.refuse_write(ctx.data_dir)

    def progress(store: str, done: int, total: int) -> None:
        ctx.say(f"drain {store}: {done}/{total}")

    def waiting(store: str, pid: str) -> None:
        click.echo(f"memman: waiting for the drain running on store '{store}' (pid {pid}) ...", err=True)

    started = time.perf_counter()
    reports = drain_all(
        ctx.data_dir,
        stores=[check_name(s) for s in stores] or None,
        limit=limit,
        progress=progress,
        wait_s=0 if no_wait else (WAIT_S if wait_s is None else wait_s),
        on_wait=waiting,
    )
    state.record_pass(ctx.data_dir, "drain", reports, seconds=time.perf_counter() - started)
    for r in reports:
        if r.skipped:
            warn(f"{r.store}: {r.skipped} inputs left pending, not tried: a provider failed repeatedly"
                 " (circuit open); the next drain after its cool-down retries them")
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



_platform = click.option(
    "--platform", type=click.Choice(["systemd", "launchd"]), help="Unit flavour [launchd on macOS, else systemd]."
)


def _echo_units(result, json_: bool) -> None:  # type: ignore[no-untyped-def]
    if json_:
        emit_json(result)
        return
    for unit in result.units:
        click.echo(f"# {unit.path}\n{unit.text}")
    if result.action != "rendered":
        click.echo(f"{result.action} ({result.platform}): {', '.join(result.files) or 'nothing to remove'}")


@scheduler.command(name="install")
@_platform
@click.option("--dry-run", is_flag=True, help="Print the unit files; change nothing.")
@json_option
@pass_app
def scheduler_install(ctx: AppContext, platform, dry_run, json_) -> None:  # type: ignore[no-untyped-def]
    """Install the OS timer that drains every `scheduler.interval_s` seconds
    (a systemd user timer, or a launchd agent on macOS). Idempotent.

    \b
    Example:
      memman scheduler install --dry-run
    """
    from memman.scheduler import ops

    _echo_units(ops.install_units(ctx.data_dir, platform=platform, dry_run=dry_run), json_)


@scheduler.command(name="uninstall")
@_platform
@json_option
@pass_app
def scheduler_uninstall(ctx: AppContext, platform, json_) -> None:  # type: ignore[no-untyped-def]
    """Remove the OS timer that `scheduler install` added (the stores are untouched).

    \b
    Example:
      memman scheduler uninstall
    """
    from memman.scheduler import ops

    _echo_units(ops.uninstall_units(ctx.data_dir, platform=platform), json_)


def _state_command(name: str, running: bool, doc: str):  # type: ignore[no-untyped-def]
    @scheduler.command(name=name, help=doc)
    @json_option
    @pass_app
    def command(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
        from memman.scheduler import ops

        result = ops.set_running(ctx.data_dir, running)
        if json_:
            emit_json(result)
        else:
            click.echo(f"scheduler {result.state}" + ("" if result.changed else " (already)"))

    return command


scheduler_start = _state_command(
    "start",
    True,
    "Allow writes and drains again after 'scheduler stop'.\n\n\b\nExample:\n  memman scheduler start",
)
scheduler_stop = _state_command(
    "stop",
    False,
    "Make the data dir recall-only: writes and drains are refused, a running\n"
    "'serve' pauses within a second; recall keeps working.\n\n\b\nExample:\n  memman scheduler stop",
)


@scheduler.command(name="status")
@json_option
@pass_app
def scheduler_status(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """State, interval, OS units, last drain heartbeat and backlog per store.

    \b
    Example:
      memman scheduler status
    """
    from memman.scheduler import ops

    s = ops.status(ctx.data_dir)
    if json_:
        emit_json(s)
        return
    beat = s.heartbeat
    click.echo(f"state: {s.state}   interval: {s.interval_s}s   units: {s.units or 'not installed'}")
    click.echo(f"worker: {s.worker_detail}")
    click.echo(
        f"last drain: {beat.at} ({beat.mode}, {beat.processed} processed, {beat.remaining} remaining)"
        if beat
        else "last drain: never"
    )
    for store, count in sorted(s.backlog.items()):
        click.echo(f"{store}: {count} pending, {s.dead[store]} dead")
    if s.oldest_pending:
        click.echo(f"oldest pending: {s.oldest_pending}")


@scheduler.command(name="interval")
@click.option("--seconds", type=int, required=True, help="Seconds between drains (10..604800).")
@json_option
@pass_app
def scheduler_interval(ctx: AppContext, seconds, json_) -> None:  # type: ignore[no-untyped-def]
    """Set how often the scheduler drains; reloads the OS timer if installed.

    \b
    Example:
      memman scheduler interval --seconds 120
    """
    from memman.scheduler import ops

    reloaded = ops.set_interval(ctx.data_dir, seconds)
    if json_:
        emit_json({"interval_s": seconds, "reloaded": reloaded is not None})
    else:
        click.echo(f"interval {seconds}s" + (f" (reloaded {reloaded.platform} units)" if reloaded else ""))


@scheduler.command(name="trigger")
@json_option
@pass_app
def scheduler_trigger(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Drain now: wake a running 'serve' loop, or run one pass here.

    \b
    Example:
      memman scheduler trigger
    """
    from memman.scheduler import ops

    result = ops.trigger(ctx.data_dir)
    if json_:
        emit_json(result)
    elif result.how == "drained here":
        click.echo(f"drained here: {result.processed} processed, {result.remaining} remaining")
    else:
        click.echo(result.how)


@scheduler.command(name="serve")
@click.option("--interval", type=click.IntRange(1, 7 * 24 * 3600), help="Seconds between passes [scheduler.interval_s].")
@click.option("--once", is_flag=True, help="One pass, then exit (what the OS timer runs).")
@json_option
@pass_app
def scheduler_serve(ctx: AppContext, interval, once, json_) -> None:  # type: ignore[no-untyped-def]
    """Run the drain loop in the foreground (PID 1 in a container). Pauses
    while stopped; exits cleanly on SIGTERM or SIGINT.

    \b
    Example:
      memman scheduler serve --interval 60
    """
    from memman.scheduler.serve import Loop, run_pass

    if once:
        report = run_pass(ctx.data_dir, "once")
        if json_:
            emit_json(report)
        else:
            click.echo(f"{report.reason}: {report.processed} processed, {report.remaining} remaining")
        return
    loop = Loop(ctx.data_dir, interval=interval, say=lambda m: click.echo(f"memman: {m}", err=True))
    loop.run()
    if json_:
        emit_json({"passes": loop.passes, "exit": "clean"})


@scheduler.group(name="queue")
def scheduler_queue() -> None:
    """The drain queue: pending, failed and dead-lettered inputs."""


def _echo_items(found, json_: bool) -> None:  # type: ignore[no-untyped-def]
    if json_:
        emit_json({"items": found})
        return
    if not found:
        click.echo("queue is empty")
    for i in found:
        error = f"  {i.last_stage}: {i.last_error}" if i.last_error else ""
        click.echo(f"{i.seq:>8}  {i.state:<8} attempts={i.attempts}  {i.memory_id[-8:]}  {i.queued_at}{error}")


_limit = click.option("--limit", type=click.IntRange(1, 1_000_000), default=100, show_default=True)


@scheduler_queue.command(name="list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(["pending", "failed", "dead", "done", "stale", "purged"]),
    help="Only these states (repeatable) [pending, failed, dead].",
)
@_limit
@json_option
@pass_app
def queue_list(ctx: AppContext, states, limit, json_) -> None:  # type: ignore[no-untyped-def]
    """List queue items, oldest first.

    \b
    Example:
      memman scheduler queue list --state pending
    """
    from memman.scheduler import queue

    _echo_items(queue.items(ctx.app, tuple(states) or queue.OPEN, limit), json_)


@scheduler_queue.command(name="failed")
@_limit
@json_option
@pass_app
def queue_failed(ctx: AppContext, limit, json_) -> None:  # type: ignore[no-untyped-def]
    """List failed (waiting for a retry) and dead-lettered items.

    \b
    Example:
      memman scheduler queue failed
    """
    from memman.scheduler import queue

    _echo_items(queue.items(ctx.app, ("failed", "dead"), limit), json_)


@scheduler_queue.command(name="show")
@click.argument("seq", type=click.IntRange(1, 2**63 - 1))
@json_option
@pass_app
def queue_show(ctx: AppContext, seq, json_) -> None:  # type: ignore[no-untyped-def]
    """One queue item by its input seq: state, text and what the drain recorded.

    \b
    Example:
      memman scheduler queue show 42
    """
    from memman.scheduler import queue

    detail = queue.show(ctx.app, seq)
    if json_:
        emit_json(detail)
        return
    _echo_items([detail.item], False)
    click.echo(f"text: {detail.item.text}")
    for d in detail.history:
        click.echo(f"  {d.seq:>8}  {d.type:<18} {d.stage or '-'}" + (f"  {d.error}" if d.error else ""))


def _queue_action(name: str, doc: str):  # type: ignore[no-untyped-def]
    @scheduler_queue.command(name=name, help=doc)
    @click.argument("seqs", nargs=-1, type=click.IntRange(1, 2**63 - 1))
    @click.option("--all-failed", is_flag=True, help="Every failed item.")
    @click.option("--all-dead", is_flag=True, help="Every dead-lettered item.")
    @click.option("--reason", default="", help="Why (recorded in the event).")
    @json_option
    @pass_app
    def command(ctx: AppContext, seqs, all_failed, all_dead, reason, json_) -> None:  # type: ignore[no-untyped-def]
        from events.errors import BadInput
        from memman.scheduler import queue

        if sum((bool(seqs), all_failed, all_dead)) > 1:
            raise BadInput("use just one of SEQ..., --all-failed or --all-dead")
        every = "failed" if all_failed else "dead" if all_dead else None
        result = getattr(queue, name)(ctx.app, list(seqs), every, reason)
        if json_:
            emit_json(result)
        else:
            click.echo(f"{result.action} {len(result.items)} item(s): {', '.join(map(str, result.items))}")

    return command


queue_retry = _queue_action(
    "retry",
    "Give failed or dead items one more attempt now (a work.retried event).\n\n"
    "\b\nExample:\n  memman scheduler queue retry --all-dead",
)
queue_purge = _queue_action(
    "purge",
    "Stop retrying failed or dead items (a work.purged event); their text stays\n"
    "in the log and keyword-recallable.\n\n\b\nExample:\n  memman scheduler queue purge 42",
)


def register(group: click.Group) -> None:
    group.add_command(scheduler)
