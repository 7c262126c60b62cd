"""memman's command line. The root group is the one place errors become a
line on stderr and an exit code (see `RootGroup.main`)."""

from __future__ import annotations

import os
import sys
import click

from events.errors import MemmanError
from memman import __version__
from memman.cli.context import AppContext


class RootGroup(click.Group):
    """Turns every failure into one line on stderr and an exit code:
    MemmanError -> its exit_code; click usage errors -> 2; anything else -> 1
    (with MEMMAN_DEBUG=1 the traceback is shown instead)."""

    def main(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            _fail("aborted", 130)
        except click.ClickException as exc:
            hint = ""
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            _fail(exc.format_message().replace("\n", " ") + hint, exc.exit_code)
        except MemmanError as exc:
            _fail(str(exc).replace("\n", " "), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:
            if os.environ.get("MEMMAN_DEBUG") == "1":
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc} (run with MEMMAN_DEBUG=1 for details)", 1)
        if isinstance(result, int):
            sys.exit(result)
        sys.exit(0)


def _fail(message: str, code: int) -> None:
    click.echo(f"memman: error: {message}", err=True)
    sys.exit(code)


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", envvar="MEMMAN_DATA_DIR", metavar="DIR", help="Where stores live [~/.memman].")
@click.option("--store", metavar="NAME", help="Store to use [MEMMAN_STORE, then 'store use', then default].")
@click.option("-v", "--verbose", is_flag=True, help="Say more on stderr.")
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
    from memman.cli import audit, events_cmd, graph, io, memory, scheduler, store

    for module in (memory, audit, io, events_cmd, store, scheduler, graph):
        module.register(cli)


_register()


def main() -> None:
    cli.main(prog_name="memman")
