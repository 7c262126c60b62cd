"""`graph link|unlink|related|stats|rebuild`: the four graphs between memories.
Manual edges survive every replay and rebuild."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app
from memman.output.render import one_line, short


@click.group()
def graph() -> None:
    """Edges between memories: temporal, entity, semantic, causal, manual."""


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


@graph.command(name="related")
@click.argument("memory_id")
@click.option("--edge", "edge_type", type=click.Choice(["temporal", "entity", "semantic", "causal", "story", "related"]), help="Only this edge type.")
@click.option("--depth", type=click.IntRange(1, 5), default=1, show_default=True)
@json_option
@pass_app
def graph_related(ctx: AppContext, memory_id, edge_type, depth, json_) -> None:  # type: ignore[no-untyped-def]
    """Memories linked to MEMORY_ID, breadth-first up to --depth hops.

    \b
    Example:
      memman graph related 7QX2K9ZB --edge causal --depth 2
    """
    from memman.operations.graph import related

    found = related(ctx.app, memory_id, edge_type=edge_type, depth=depth)
    if json_:
        emit_json({"related": found})
    elif not found:
        click.echo("no related memories")
    else:
        for n in found:
            click.echo(f"{'  ' * (n.depth - 1)}{short(n.id)}  {n.edge_type:<8} {n.weight:.2f}  {one_line(n.content, 120)}")


@graph.command(name="stats")
@json_option
@pass_app
def graph_stats(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Edge counts by type, manual edges, coverage and mean degree.

    \b
    Example:
      memman graph stats
    """
    from memman.operations.graph import stats

    s = stats(ctx.app)
    if json_:
        emit_json(s)
        return
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.edges.items())) or "none"
    click.echo(f"edges: {kinds} (manual {s.manual}); policy {s.policy}")
    click.echo(f"{s.linked} of {s.memories} active memories linked; mean degree {s.mean_degree}")


@graph.command(name="rebuild")
@click.option("--dry-run", is_flag=True, help="Compute and report, append nothing.")
@click.option("--stale-only", is_flag=True, help="Only if the edges were derived under another policy.")
@click.option("--llm", is_flag=True, help="Let the configured LLM re-derive causal edges and stale enrichment.")
@json_option
@pass_app
def graph_rebuild(ctx: AppContext, dry_run, stale_only, llm, json_) -> None:  # type: ignore[no-untyped-def]
    """Re-derive every inferred edge under the configured [graph] policy, by
    walking the store in order (no model calls unless --llm). Manual edges
    are kept.

    \b
    Example:
      memman config set graph.semantic_threshold 0.7 && memman graph rebuild
    """
    from memman.operations.graph import rebuild

    def progress(done: int, total: int) -> None:
        if not json_:
            click.echo(f"\rrebuilding edges: {done}/{total}", nl=done == total, err=True)

    report = rebuild(ctx.app, dry_run=dry_run, stale_only=stale_only, llm=llm, progress=progress)
    if json_:
        emit_json(report)
        return
    if report.skipped:
        click.echo(f"edges are current under policy {report.policy}; nothing to do")
        return
    verb = "would derive" if dry_run else "derived"
    click.echo(
        f"{verb} {sum(report.after.values())} edges for {report.memories} memories under policy {report.policy}"
        f" in {report.seconds:.2f}s: " + ", ".join(f"{k} {report.before.get(k, 0)} -> {v}" for k, v in sorted(report.after.items()))
    )


def register(group: click.Group) -> None:
    group.add_command(graph)
