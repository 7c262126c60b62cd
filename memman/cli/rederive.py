"""`rederive`: re-run LLM enrichment for memories derived under another prompt or model."""

from __future__ import annotations

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app


@click.command(name="rederive")
@click.option("--all", "everything", is_flag=True, help="Re-derive every active memory, not only stale ones.")
@click.option("--dry-run", is_flag=True, help="Only list what is stale; no LLM call, no event.")
@click.option("--from-inputs", is_flag=True, help="Re-derive everything from the original inputs into a shadow store and compare.")
@click.option("--cut-over", is_flag=True, help="With --from-inputs: make the shadow the store (the old one is archived).")
@click.option("--keep-shadow", is_flag=True, help="With --from-inputs: keep the shadow store to inspect with --store.")
@json_option
@pass_app
def rederive(ctx: AppContext, everything, dry_run, from_inputs, cut_over, keep_shadow, json_) -> None:  # type: ignore[no-untyped-def]
    """Re-enrich memories whose prompt version or model is no longer the
    configured one (needs llm.provider). An unchanged configuration makes no call.
    With --from-inputs, re-run extraction and reconciliation too, from the
    original inputs, into a shadow store; compare; --cut-over switches to it.

    \b
    Example:
      memman rederive --dry-run
      memman rederive --from-inputs            # compare only
      memman rederive --from-inputs --cut-over
    """
    if (cut_over or keep_shadow) and not from_inputs:
        raise click.UsageError("--cut-over and --keep-shadow go with --from-inputs")
    if from_inputs:
        _from_inputs(ctx, cut_over, keep_shadow, json_)
        return
    from memman.operations.rederive import rederive as run

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


def _from_inputs(ctx: AppContext, cut_over: bool, keep_shadow: bool, json_: bool) -> None:
    from memman.operations.shadow import rederive_from_inputs

    report = rederive_from_inputs(ctx.app, cut_over=cut_over, keep_shadow=keep_shadow)
    if json_:
        emit_json(report)
        return
    for content in report.only_live:
        click.echo(f"- {content}")
    for content in report.only_rederived:
        click.echo(f"+ {content}")
    live = ", ".join(f"{k} {v}" for k, v in sorted(report.live.items()))
    new = ", ".join(f"{k} {v}" for k, v in sorted(report.rederived.items()))
    click.echo(f"{report.store}: {report.commands_copied} inputs re-derived in {report.seconds:.2f}s; now {live}; re-derived {new}")
    if report.cut_over:
        click.echo(f"cut over: the re-derived store is now {report.store}; the old one is kept as {report.archived_as}")
    elif report.kept_shadow:
        click.echo(f"shadow kept as store {report.shadow}; cut over with --cut-over")


def register(group: click.Group) -> None:
    group.add_command(rederive)
