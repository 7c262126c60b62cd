"""`install` and `uninstall`: wire memman into coding agents, and take it out again."""

from __future__ import annotations

import sys

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app

TARGETS = ("claude-code", "codex", "openclaw", "nanoclaw")


def _ask(answers: dict[str, str]) -> dict[str, str]:
    from memman.install import wizard

    while (q := wizard.questions(answers)) is not None:
        choice = click.Choice(q.choices) if q.choices else None
        answers[q.key] = click.prompt(
            q.prompt, default=q.default, hide_input=q.secret, type=choice, show_default=bool(q.default), err=True
        )
    return answers


@click.command()
@click.option("--target", "targets", multiple=True, type=click.Choice(TARGETS), help="Agent (repeatable) [detected].")
@click.option("--no-wizard", is_flag=True, help="Ask nothing, even in a terminal.")
@click.option("--llm-base-url", metavar="URL", help="OpenAI-compatible endpoint (key: 'memman config set llm.api_key -').")
@click.option("--llm-model", metavar="NAME", help="LLM model for extraction and enrichment.")
@click.option("--embedder", type=click.Choice(["static", "onnx", "openai", "voyage", "ollama", "hashing"]))
@click.option("--nanoclaw-dir", type=click.Path(file_okay=False, exists=True), help="NanoClaw checkout [cwd].")
@click.option("--mcp", is_flag=True, help="Also register 'memman mcp' as an MCP server (Claude Code, Codex).")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Install the OS drain timer where possible (else memman drains in the background itself).")
@json_option
@pass_app
def install(ctx: AppContext, targets, no_wizard, llm_base_url, llm_model, embedder, nanoclaw_dir, mcp, scheduler, json_) -> None:  # type: ignore[no-untyped-def]
    """Install memman into coding agents: skill, hooks, permissions (Claude
    Code), skill and allow rules (Codex), plugin and bootstrap hook (OpenClaw),
    a container recipe (NanoClaw). Idempotent; works offline with no keys.

    \b
    Example:
      memman install --target claude-code --no-wizard
    """
    from pathlib import Path

    from events.errors import BadInput
    from memman.install import targets as t
    from memman.install import wizard

    chosen = list(dict.fromkeys(targets)) or t.detect()
    if not chosen:
        raise BadInput("no agent found in this HOME (~/.claude, ~/.codex, ~/.openclaw); pass --target")
    answers = {k: v for k, v in (("llm.base_url", llm_base_url), ("llm.model_fast", llm_model), ("embeddings.provider", embedder)) if v}
    if not no_wizard and sys.stdin.isatty() and sys.stderr.isatty():
        answers = _ask(answers)
    settings = wizard.settings_from(answers)  # validated before anything is installed
    for target in chosen:
        t.plan(target, ctx.data_dir, Path(nanoclaw_dir) if nanoclaw_dir else None)  # bad target dirs fail here
    if mcp:
        from memman.cli.mcp_cmd import require_sdk

        require_sdk()  # before anything is installed
    outcomes = [t.install(target, ctx.data_dir, Path(nanoclaw_dir) if nanoclaw_dir else None, mcp=mcp) for target in chosen]
    written = wizard.apply(ctx.data_dir, settings)
    from memman.install import scheduler as worker

    drain = worker.setup(ctx.data_dir, wanted=scheduler)
    found = t.executable()
    capture = _capture_line(ctx.data_dir)
    if json_:
        emit_json({"targets": outcomes, "settings_written": written, "worker": drain, "memman": found,
                   "session_capture": capture})
        return
    for o in outcomes:
        click.echo(f"{o.target}: {o.action}" + (f" ({len(o.paths)} paths)" if o.paths else ""))
        if o.wheel is not None and o.wheel.path:
            click.echo(f"{o.target}: wheel {o.wheel.path}")
        elif o.wheel is not None:
            click.echo(f"memman: warning: {o.target}: could not build memman's wheel ({o.wheel.error});"
                       f" build it with: {o.wheel.command}", err=True)
    if written:
        click.echo(f"config: set {', '.join(written)}")
    click.echo(f"worker: {drain.detail}")
    click.echo(f"session capture: {capture}")
    click.echo(f"memman: {found.path}")
    if found.warning:
        click.echo(f"memman: warning: {found.warning}", err=True)


def _capture_line(data_dir) -> str:  # type: ignore[no-untyped-def]
    """Whether PreCompact / SessionEnd capture sessions, and why (config capture.sessions)."""
    from memman import config

    settings = config.settings_for(data_dir)
    mode = settings.capture.sessions
    if config.capture_enabled(settings):
        how = "with the LLM" if settings.llm.provider != "none" else "by offline rules (strict: user statements only)"
        why = "capture.sessions = on" if mode == "on" else "an LLM is configured"
        return f"on ({why}; the drain extracts memories {how}); 'memman config set capture.sessions off' turns it off"
    if mode == "off":
        return "off (capture.sessions = off); 'memman config set capture.sessions auto' turns it on with an LLM"
    return "off (no LLM configured); 'memman config set capture.sessions on' captures with offline rules"


@click.command()
@click.option("--target", "targets", multiple=True, type=click.Choice(TARGETS), help="Agent (repeatable) [all installed].")
@json_option
@pass_app
def uninstall(ctx: AppContext, targets, json_) -> None:  # type: ignore[no-untyped-def]
    """Remove exactly what 'memman install' added. Memory stores and
    config.toml are never touched.

    \b
    Example:
      memman uninstall --target claude-code
    """
    from memman.install import targets as t

    from memman.install import scheduler as worker

    chosen = list(dict.fromkeys(targets)) or t.installed_targets(ctx.data_dir)
    outcomes = [t.uninstall(target, ctx.data_dir) for target in chosen]
    drain = worker.teardown(ctx.data_dir) if not t.installed_targets(ctx.data_dir) else None
    if json_:
        emit_json({"targets": outcomes, "worker": drain})
        return
    if not outcomes:
        click.echo("nothing installed")
    for o in outcomes:
        click.echo(f"{o.target}: {o.action}")
    if drain is not None and drain.action == "removed":
        click.echo(f"worker: {drain.detail}")


def register(group: click.Group) -> None:
    group.add_command(install)
    group.add_command(uninstall)
