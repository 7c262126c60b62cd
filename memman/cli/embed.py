"""`embed status|swap|reembed`: which embedder a store uses, and switching it."""

from __future__ import annotations

import sys

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.group()
def embed() -> None:
    """The store's embedder: status, online swap, offline re-embed.

    See docs/embeddings.md for providers, the ONNX model and quality figures.
    """


class _Bar:
    """A progress bar on stderr (redrawn in place on a terminal, else a final line)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = (0, 0)

    def __call__(self, done: int, total: int) -> None:
        self.last = (done, total)
        if self.tty:
            width = 30
            filled = width * done // total if total else width
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
            sys.stderr.flush()

    def close(self) -> None:
        done, total = self.last
        if self.tty:
            sys.stderr.write("\n")
        else:
            sys.stderr.write(f"{self.label}: {done:,}/{total:,} memories\n")


@embed.command(name="status")
@json_option
@pass_app
def embed_status(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """The bound embedder, credentials (never the key), vector coverage per
    fingerprint and any swap in progress.

    \b
    Example:
      memman embed status --json
    """
    from memman.operations.embed import status

    result = status(ctx.app)
    if json_:
        emit_json(result)
        return
    click.echo(f"store {result.store}: bound to {result.bound or 'nothing yet (first drain binds it)'}")
    click.echo(f"configured: {result.configured}")
    for c in result.credentials:
        click.echo(f"credential {c.provider} ({c.role}): {c.source}")
    for c in result.coverage:
        click.echo(f"coverage {c.fingerprint}: {c.covered}/{c.active} active memories ({c.vectors} vectors)")
    if result.swap:
        click.echo(f"swap in progress to {result.swap.to}: {result.swap.covered}/{result.swap.active}; "
                   "'memman embed swap --resume' continues it")


def _report(result, json_: bool) -> None:  # type: ignore[no-untyped-def]
    if json_:
        emit_json(result)
    elif result.action == "already bound":
        click.echo(f"{result.store}: already bound to {result.to}; nothing to do")
    elif result.action == "aborted":
        click.echo(f"{result.store}: swap to {result.to} aborted; still bound to {result.from_}")
    else:
        click.echo(f"{result.store}: now bound to {result.to} ({result.embedded} memories embedded, "
                   f"{result.seconds:.2f}s)")


@embed.command(name="swap")
@click.option("--to", "to", metavar="PROVIDER[:MODEL]", help="Target embedder, e.g. voyage or openai:text-embedding-3-small.")
@click.option("--resume", is_flag=True, help="Continue the swap in progress.")
@click.option("--abort", is_flag=True, help="Drop the swap in progress (the store stays on its embedder).")
@click.option("--batch", type=click.IntRange(1, 100_000), default=256, show_default=True, help="Memories per batch.")
@json_option
@pass_app
def embed_swap(ctx: AppContext, to, resume, abort, batch, json_) -> None:  # type: ignore[no-untyped-def]
    """Switch the store to another embedder online: backfill embeddings in
    batches while recall keeps using the current one, then cut over at once.
    Resumable after a crash (--resume); abortable (--abort).

    \b
    Example:
      memman embed swap --to openai:text-embedding-3-small
    """
    from events.errors import BadInput
    from memman.operations.embed import swap

    if sum(map(bool, (to, resume, abort))) != 1:
        raise BadInput("give exactly one of --to PROVIDER[:MODEL], --resume or --abort")
    bar = _Bar("swap") if not abort else None
    try:
        result = swap(ctx.app, to, resume=resume, abort=abort, batch=batch, progress=bar)
    finally:
        if bar is not None and bar.last != (0, 0):
            bar.close()
    _report(result, json_)


@embed.command(name="reembed")
@click.option("--to", "to", metavar="PROVIDER[:MODEL]", help="Target embedder [the configured one].")
@json_option
@pass_app
def embed_reembed(ctx: AppContext, to, json_) -> None:  # type: ignore[no-untyped-def]
    """Re-embed every active memory in one pass (holding the drain lock), then
    bind the store to the new embedder. Progress goes to stderr.

    \b
    Example:
      memman embed reembed --to static
    """
    from memman.operations.embed import reembed

    bar = _Bar("reembed")
    try:
        result = reembed(ctx.app, to, progress=bar)
    finally:
        if bar.last != (0, 0):
            bar.close()
    _report(result, json_)


def register(group: click.Group) -> None:
    group.add_command(embed)
