"""`server status|start|stop`: the warm recall server (memman/server/)."""

from __future__ import annotations

import os
import time

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app
from memman.output.results import ServerState

START_WAIT_S = 20.0


@click.group()
def server() -> None:
    """The warm server that answers recall, remember and hooks in a few milliseconds.

    It starts by itself on the first recall, remember or hook that wants it,
    keeps the store open, follows the log on every request, and exits after
    MEMMAN_SERVER_IDLE_S (900 s) without one. MEMMAN_SERVER=off disables it.
    """


def _state(data_dir: str, op: str = "status") -> ServerState:
    import msgspec

    from memman.server import client, wire

    answer = client.control(data_dir, op)
    sock = wire.paths(data_dir, os.environ)[0]
    if answer is None:
        return ServerState(running=False, socket=sock)
    names = ("pid", "version", "uptime_s", "served", "idle_timeout_s", "rss_mb", "stores_kept", "stores_opened", "stores_reused")
    fields = {k: answer.get(k) for k in names}
    return msgspec.convert({"running": True, "socket": sock, **fields}, ServerState)


def _show(state: ServerState, json_: bool) -> None:
    if json_:
        emit_json(state)
    elif not state.running:
        click.echo(f"not running ({state.socket})")
    else:
        click.echo(
            f"running: pid {state.pid}, up {state.uptime_s:.0f} s, {state.served} requests served, "
            f"{state.rss_mb:.0f} MB RSS, exits after {state.idle_timeout_s:.0f} s idle ({state.socket})"
        )


@server.command(name="status")
@json_option
@pass_app
def server_status(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Whether the warm server of this data dir runs, and how it is doing.

    \b
    Example:
      memman server status --json
    """
    _show(_state(str(ctx.data_dir)), json_)


@server.command(name="start")
@json_option
@pass_app
def server_start(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Start the warm server now (recall and hooks also start it on demand).

    \b
    Example:
      memman server start
    """
    from memman.server import spawn, wire
    from memman.server.errors import ServerUnavailable

    data_dir = str(ctx.data_dir)
    state = _state(data_dir)
    if not state.running:
        run_dir = wire.run_dir(os.environ)
        if spawn.start(data_dir) is None:
            raise ServerUnavailable(
                f"cannot start the warm server: {run_dir} must be a directory only you can enter; "
                f"fix with 'chmod 700 {run_dir}' (recall works without the server)"
            )
        deadline = time.monotonic() + START_WAIT_S
        while not state.running and time.monotonic() < deadline:
            time.sleep(0.05)
            state = _state(data_dir)
        if not state.running:
            log = wire.paths(data_dir, os.environ)[2]
            raise ServerUnavailable(f"the warm server did not come up within {START_WAIT_S:.0f} s; see {log}")
    _show(state, json_)


@server.command(name="stop")
@json_option
@pass_app
def server_stop(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Stop the warm server of this data dir (the next recall runs cold).

    \b
    Example:
      memman server stop
    """
    state = _state(str(ctx.data_dir), "stop")
    if json_:
        emit_json({"stopped": state.running, "pid": state.pid})
    else:
        click.echo(f"stopped pid {state.pid}" if state.running else "not running")


def register(group: click.Group) -> None:
    group.add_command(server)
