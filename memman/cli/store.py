"""`store list|create|use|remove` and `status`."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app
from memman.output.results import StoreInfo


@click.group()
def store() -> None:
    """Manage named stores (one per project, plus a personal one; see 'store which')."""


@store.command(name="list")
@json_option
@pass_app
def store_list(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """List stores; * marks the one in use.

    \b
    Example:
      memman store list
    """
    from memman.stores import Registry

    registry = Registry(ctx.data_dir)
    active = registry.active(ctx.store_flag)
    infos = [
        StoreInfo(name=name, active=name == active, memories=None, path=str(registry.path(name)))
        for name in registry.names()
    ]
    if json_:
        emit_json({"stores": infos})
    elif not infos:
        click.echo("no stores yet (the default store is created on first remember)")
    else:
        for info in infos:
            click.echo(f"{'*' if info.active else ' '} {info.name}")


@store.command(name="which")
@click.option("--cwd", "cwd", type=click.Path(file_okay=False, exists=True), help="Resolve for this directory [the current one].")
@json_option
@pass_app
def store_which(ctx: AppContext, cwd, json_) -> None:  # type: ignore[no-untyped-def]
    """Which stores this directory maps to: the project store (git root or
    .memman marker), the personal store, where a new memory goes and what
    recall searches. --store / MEMMAN_STORE override it all.

    \b
    Example:
      memman store which
      memman store which --cwd ~/src/other-repo --json
    """
    from memman.scope.resolve import resolve

    scope = resolve(ctx.data_dir, ctx.store_flag, cwd or _cwd())
    info = {
        "project": scope.project,
        "project_root": scope.project_root,
        "personal": scope.personal,
        "writes": scope.write,
        "preferences": scope.personal,
        "recall": scope.reads,
        "reason": scope.reason,
        "explicit": scope.explicit,
    }
    if json_:
        emit_json(info)
        return
    click.echo(f"project:  {scope.project or '-'}" + (f"  ({scope.project_root})" if scope.project_root else ""))
    click.echo(f"personal: {scope.personal}")
    click.echo(f"writes:   {scope.write} (preferences and --personal: {scope.personal})")
    click.echo(f"recall:   {', '.join(scope.reads)}")
    click.echo(f"because:  {scope.reason}")


def _cwd() -> str | None:
    import os

    try:
        return os.getcwd()
    except OSError:
        return None


@store.command(name="create")
@click.argument("name")
@click.option(
    "--backend",
    default="sqlite",
    show_default=True,
    metavar="sqlite|postgresql://...",
    help="Where the log lives: a local SQLite file, or a PostgreSQL database a team shares (docs/postgres.md).",
)
@click.option(
    "--reads",
    type=click.Choice(["replica", "server"]),
    default="replica",
    show_default=True,
    help="PostgreSQL only: recall from this machine's local replica, or from the server projections (no replica).",
)
@json_option
@pass_app
def store_create(ctx: AppContext, name, backend, reads, json_) -> None:  # type: ignore[no-untyped-def]
    """Create store NAME, its log in SQLite (default) or PostgreSQL.

    The PostgreSQL URL is kept in the store's backend.dsn (mode 0600) and never
    printed; other machines join the same store by creating it with the same URL.
    With --reads server this machine's recall reads the projections kept in
    PostgreSQL by the store's workers, so it never replays the log.

    \b
    Example:
      memman store create project-x
      memman store create team --backend postgresql://me@db.internal/memman
      memman store create team --backend postgresql://me@db.internal/memman --reads server
    """
    from events.errors import BadInput
    from memman.stores import Registry

    if reads == "server" and backend == "sqlite":
        raise BadInput("--reads server needs a store on PostgreSQL (--backend postgresql://...); nothing was created")
    path, shown = Registry(ctx.data_dir).create(name, backend=backend)
    if reads == "server":
        _server_reads(ctx, name, path)
    if json_:
        emit_json({"store": name, "path": str(path), "backend": shown, "reads": reads})
    else:
        click.echo(f"created store {name}" + ("" if shown == "sqlite" else f" on {shown}")
                   + (", recall reads the server projections" if reads == "server" else ""))


def _server_reads(ctx: AppContext, name: str, path) -> None:  # type: ignore[no-untyped-def]
    """Record `postgres.reads = server` for the store and make sure its
    database has server projections for the workers to keep (a store
    that cannot get them is not left half made)."""
    import shutil

    from memman.config import set_value
    from projections.server import mirror
    from projections.store import StoreDB

    try:
        db = StoreDB(path)
        try:
            mirror.setup(db)
        finally:
            db.close()
        set_value(ctx.data_dir, "postgres.reads", "server", store=name)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


@store.command(name="use")
@click.argument("name")
@pass_app
def store_use(ctx: AppContext, name) -> None:  # type: ignore[no-untyped-def]
    """Make NAME the store commands use by default.

    \b
    Example:
      memman store use project-x
    """
    from memman.stores import Registry

    Registry(ctx.data_dir).use(name)
    click.echo(f"using store {name}")


@store.command(name="remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def store_remove(ctx: AppContext, name, yes) -> None:  # type: ignore[no-untyped-def]
    """Delete store NAME and all its history (asks first unless --yes).

    \b
    Example:
      memman store remove scratch --yes
    """
    from memman.stores import Registry

    registry = Registry(ctx.data_dir)
    registry.require(name, create_default=False)
    if not yes and not click.confirm(f"delete store {name!r} and its whole history?"):
        click.echo(f"kept store {name}")
        raise SystemExit(1)
    registry.remove(name)
    click.echo(f"removed store {name}")


@click.command()
@json_option
@pass_app
def status(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Counts by status and category, backlog, checkpoints vs log head, sizes.

    \b
    Example:
      memman status --json
    """
    from memman.operations.maintenance import status as store_status

    s = store_status(ctx.app)
    if json_:
        emit_json(s)
        return
    click.echo(f"store {s.store} at {s.path}")
    if s.backend != "sqlite" and s.bytes:
        click.echo(f"  log on {s.backend}; local replica was {s.replica_lag} events behind (now caught up)")
    elif s.backend != "sqlite":
        click.echo(f"  log on {s.backend}; this machine reads the server projections (no local replica)")
    if s.server_lag is not None:
        behind = ", ".join(f"{k} {v}" for k, v in sorted(s.server_lag.items()))
        click.echo(f"  server projections: events behind the log: {behind} (kept by the store's workers)")
    click.echo(f"  memories: {', '.join(f'{k} {v}' for k, v in sorted(s.by_status.items())) or 'none'}")
    if s.by_category:
        click.echo(f"  active by category: {', '.join(f'{k} {v}' for k, v in sorted(s.by_category.items()))}")
    click.echo(f"  backlog: {s.backlog} (failed {s.failed}, dead {s.dead})" + (f", oldest {s.oldest_pending}" if s.oldest_pending else ""))
    click.echo(f"  log: {s.events} events, head #{s.log_head}; checkpoints " + ", ".join(f"{k} #{v}" for k, v in s.checkpoints.items()))
    click.echo(f"  embedder: {s.embedder or 'not bound yet'}; {s.vectors} vectors; {s.edges} edges")
    if s.retention is not None:
        r = s.retention
        last = f"last {r.last_gc.at[:19]} retired {r.last_gc.retired}" if r.last_gc else "never run"
        cadence = f"every {r.gc_every_h:g}h, next {r.next_gc[:19]}" if r.next_gc else "scheduled gc off"
        pending = "; [retention] changed, recorded at the next drain" if r.configured_differs else ""
        click.echo(f"  retention: {r.protected} protected, {r.candidates} gc candidates; gc {last}, {cadence}{pending}")
    click.echo("  files: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in s.bytes.items()))
    from memman.install.prime import worker_line

    click.echo(f"  drain worker: {worker_line(ctx.data_dir)}")


def register(group: click.Group) -> None:
    group.add_command(store)
    group.add_command(status)
