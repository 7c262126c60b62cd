"""`rederive`: re-run LLM enrichment for memories derived under another prompt or model."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.command(name="rederive")
@click.option("--all", "everything", is_flag=True, help="Re-derive every active memory, not only stale ones.")
@click.option("--dry-run", is_flag=True, help="Only list what is stale; no LLM call, no event.")
@json_option
@pass_app
def rederive(ctx: AppContext, everything, dry_run, json_) -> None:  # type: ignore[no-untyped-def]
    """Re-enrich memories whose prompt version or model is no longer the
    configured one (needs llm.provider). An unchanged configuration makes no call.

    \b
    Example:
      memman rederive --dry-run
    """
    from memman.rederive import rederive as run

    report = run(ctx.app, ctx.data_dir, everything=everything, dry_run=dry_run)
    if json_:
        emit_json(report)
        return
    for item in report.items[:20]:
        click.echo(f"{item.memory_id}  {item.why}")
    verb = "would re-derive" if dry_run else "re-derived"
    count = report.stale if dry_run else report.rederived
    click.echo(
        f"{report.store}: {verb} {count} of {report.stale} stale ({report.prompt}, model {report.model};"
        f" {report.llm_calls} call(s), {report.tokens_in + report.tokens_out} tokens, {report.seconds:.2f}s)"
    )


def register(group: click.Group) -> None:
    group.add_command(rederive)
