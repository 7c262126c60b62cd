"""`graph link|unlink`: manual edges, which survive every replay and rebuild."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.group()
def graph() -> None:
    """Edges between memories."""


@graph.command(name="link")
@click.argument("src")
@click.argument("dst")
@click.option("--type", "edge_type", default="related", show_default=True, help="Edge type, e.g. causal.")
@click.option("--weight", type=float, default=1.0, show_default=True)
@click.option("--meta", multiple=True, metavar="K=V", help="Edge metadata, repeatable.")
@json_option
@pass_app
def graph_link(ctx: AppContext, src, dst, edge_type, weight, meta, json_) -> None:  # type: ignore[no-untyped-def]
    """Link memory SRC to memory DST.

    \b
    Example:
      memman graph link 7QX2K9ZB 3MZT8Q1A --type causal --weight 0.9
    """
    result = ctx.app.link(src, dst, edge_type, weight, list(meta))
    if json_:
        emit_json(result)
    else:
        click.echo(f"linked {src} -{edge_type}-> {dst}")


@graph.command(name="unlink")
@click.argument("src")
@click.argument("dst")
@click.option("--type", "edge_type", default="related", show_default=True)
@json_option
@pass_app
def graph_unlink(ctx: AppContext, src, dst, edge_type, json_) -> None:  # type: ignore[no-untyped-def]
    """Remove the edge SRC -TYPE-> DST.

    \b
    Example:
      memman graph unlink 7QX2K9ZB 3MZT8Q1A --type causal
    """
    result = ctx.app.unlink(src, dst, edge_type)
    if json_:
        emit_json(result)
    else:
        click.echo(f"unlinked {src} -{edge_type}-> {dst}")


def register(group: click.Group) -> None:
    group.add_command(graph)
