"""memman's command line. The root group is the one place errors become a
line on stderr and an exit code (see `RootGroup.main`)."""

from __future__ import annotations

import sys

import click

from memman import __version__
from memman.cli.context import AppContext
from memman.exits import fail, run_guarded


# click >= 8.2 raises this for a group called without a subcommand.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class RootGroup(click.Group):
    """Turns every failure into one line on stderr and an exit code (see
    memman.exits); click's usage errors exit 2 with a pointer to --help."""

    def main(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["standalone_mode"] = False

        def invoke() -> int | None:
            try:
                result = super(RootGroup, self).main(*args, **kwargs)
            except click.exceptions.Exit as exc:
                return exc.exit_code
            except click.Abort:
                fail("aborted", 130)
            except _NO_ARGS_IS_HELP as exc:  # a bare group: its help is the answer, not an error
                click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
                return 0
            except click.ClickException as exc:
                hint = ""
                if isinstance(exc, click.UsageError) and exc.ctx is not None:
                    hint = f" (see '{exc.ctx.command_path} --help')"
                fail(exc.format_message() + hint, exc.exit_code)
            return result if isinstance(result, int) else 0

        sys.exit(run_guarded(invoke))


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", envvar="MEMMAN_DATA_DIR", metavar="DIR", help="Where stores live [~/.memman].")
@click.option("--store", metavar="NAME", help="Store to use [MEMMAN_STORE, then 'store use', then default].")
@click.option("-v", "--verbose", is_flag=True, help="Diagnostics on stderr (recall stats, progress).")
@click.version_option(__version__, "--version", prog_name="memman")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, store: str | None, verbose: bool) -> None:
    """memman: persistent memory for LLM agents.

    Remember durable facts, decisions and preferences; recall them in later
    sessions. Writes are instant and local; a background drain turns text
    into memories (facts, entities, embeddings, graph edges).

    \b
    Start with:
      memman remember "Chose SQLite: zero deps, embeddable" --cat decision
      memman scheduler drain
      memman recall "why sqlite"
    """
    ctx.obj = AppContext(data_dir=data_dir, store=store, verbose=verbose)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    from memman.cli import embed  # noqa: I001 - embedder status/swap/reembed
    from memman.cli import agent, audit, config_cmd, doctor, erasure, events_cmd, graph, install, io, lifecycle, mcp_cmd, memory, migrate, rederive, scheduler, server_cmd, store

    for module in (embed, memory, audit, lifecycle, erasure, io, events_cmd, store, scheduler, graph, config_cmd, install, agent, doctor, rederive, server_cmd, mcp_cmd, migrate):
        module.register(cli)


_register()


def main() -> None:
    """The click entry point; `memman.entry:main` tries the fast path first."""
    cli.main(prog_name="memman")
