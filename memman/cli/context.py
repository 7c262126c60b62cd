"""What every command receives: the resolved data dir and store, opened lazily."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from memman.exits import warn
from memman.output.render import to_json
from memman.service import Memman
from memman.stores import Registry, resolve_data_dir

if TYPE_CHECKING:
    from memman.scope.service import Scoped

T = TypeVar("T")


class AppContext:
    def __init__(self, *, data_dir: str | None, store: str | None, verbose: bool) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        self.store_flag = store
        self.verbose = verbose
        self._app: Memman | None = None
        self._scoped: Scoped | None = None

    @property
    def scoped(self) -> Scoped:
        """The agent verbs over the project store and the personal one, from this cwd (memman/scope/)."""
        if self._scoped is None:
            from pathlib import Path

            from memman.scope.service import Scoped

            try:
                cwd: Path | None = Path.cwd()
            except OSError:  # the working directory was deleted under us
                cwd = None
            self._scoped = Scoped.at(self.data_dir, self.store_flag, cwd)
        return self._scoped

    @property
    def app(self) -> Memman:
        """The one store other commands act on: --store / MEMMAN_STORE, else
        this directory's project store once it exists, else the personal store."""
        if self._app is None:
            scope = self.scoped.scope
            store = scope.personal
            if scope.project and Registry(self.data_dir).exists(scope.project):
                store = scope.project
            self._app = Memman(self.data_dir, store)
        return self._app

    def say(self, message: str) -> None:
        """A diagnostic line on stderr, shown with -v/--verbose."""
        if self.verbose:
            click.echo(f"memman: {message}", err=True)

    def close(self) -> None:
        if self._scoped is not None:
            for notice in self._scoped.notices:
                warn(notice)
            self._scoped.close()
        if self._app is not None:
            for notice in self._app.notices:
                warn(notice)
            self._app.close()


pass_app = click.make_pass_decorator(AppContext)


def json_option(f: Callable[..., T]) -> Callable[..., T]:
    return click.option("--json", "json_", is_flag=True, help="Print one JSON document.")(f)


def raw_option(f: Callable[..., T]) -> Callable[..., T]:
    return click.option(
        "--raw", is_flag=True, help="Print memory text exactly as stored (control and escape characters included)."
    )(f)


def echo_text(text: str, raw: bool = False, *, lines: bool = False) -> None:
    """Human-facing output made inert for a terminal (memman.output.sanitize) unless
    `raw`. One line (a newline inside shows as \\x0a), or with `lines` each
    line of a block we formatted ourselves (e.g. indented JSON)."""
    from memman.output.sanitize import for_terminal

    if raw:
        click.echo(text)
    elif lines:
        click.echo("\n".join(for_terminal(line) for line in text.split("\n")))
    else:
        click.echo(for_terminal(text))


def emit_json(value: object) -> None:
    click.echo(to_json(value))
