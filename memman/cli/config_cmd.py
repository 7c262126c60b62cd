"""`config show|get|set|unset|path`: the settings in <data_dir>/config.toml.
Secrets (`api_key`) are redacted in everything printed."""

from __future__ import annotations

import sys

import click

from memman.cli.context import AppContext, emit_json, json_option, pass_app

_store = click.option("--for-store", "for_store", metavar="NAME", help="Per-store override for this store.")


@click.group(name="config")
def config_group() -> None:
    """Settings in <data_dir>/config.toml (mode 0600; secrets redacted)."""


@config_group.command(name="show")
@_store
@json_option
@pass_app
def config_show(ctx: AppContext, for_store, json_) -> None:  # type: ignore[no-untyped-def]
    """The effective settings (defaults, file, then per-store overrides).

    \b
    Example:
      memman config show --for-store project-x
    """
    from memman import config
    from memman.stores import check_name

    values = config.redacted(config.settings_for(ctx.data_dir, check_name(for_store) if for_store else None))
    if json_:
        emit_json(values)
        return
    for section, fields in values.items():
        for field, value in fields.items():
            click.echo(f"{section}.{field} = {value!r}" if isinstance(value, str) else f"{section}.{field} = {value}")


@config_group.command(name="get")
@click.argument("key")
@_store
@json_option
@pass_app
def config_get(ctx: AppContext, key, for_store, json_) -> None:  # type: ignore[no-untyped-def]
    """One setting's effective value (secrets print as ********).

    \b
    Example:
      memman config get scheduler.interval_s
    """
    from memman import config
    from memman.stores import check_name

    value = config.get(ctx.data_dir, key, check_name(for_store) if for_store else None)
    if json_:
        emit_json({"key": key, "value": value})
    else:
        click.echo(value)


@config_group.command(name="set")
@click.argument("key")
@click.argument("value")
@_store
@json_option
@pass_app
def config_set(ctx: AppContext, key, value, for_store, json_) -> None:  # type: ignore[no-untyped-def]
    """Validate and store one setting; VALUE - reads it from stdin. Secrets
    (api_key) are only read from stdin: a key on the command line would sit
    in shell history and in every process listing.

    \b
    Example:
      memman config set recall.inject true
      printf %s "$OPENAI_API_KEY" | memman config set llm.api_key -
    """
    from memman import config
    from memman.stores import check_name

    from events.errors import BadInput

    key_field = key.partition(".")[2]
    if value == "-":
        try:
            value = sys.stdin.buffer.read().decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise BadInput(f"the value on stdin is not valid UTF-8 (byte {exc.start}); send UTF-8 text") from None
    elif key_field in config.SECRET_FIELDS and value:
        raise BadInput(f"{key} is a secret: pass it on stdin, never in argv: printf %s \"$KEY\" | memman config set {key} -")
    typed = config.set_value(ctx.data_dir, key, value, check_name(for_store) if for_store else None)
    shown = config.REDACTED if key_field in config.SECRET_FIELDS and typed else typed
    if json_:
        emit_json({"key": key, "value": shown, "store": for_store})
    else:
        click.echo(f"{key} = {shown}" + (f" (store {for_store})" if for_store else ""))


@config_group.command(name="unset")
@click.argument("key")
@_store
@json_option
@pass_app
def config_unset(ctx: AppContext, key, for_store, json_) -> None:  # type: ignore[no-untyped-def]
    """Remove a setting from the file (its default applies again).

    \b
    Example:
      memman config unset recall.inject
    """
    from memman import config
    from memman.stores import check_name

    config.unset(ctx.data_dir, key, check_name(for_store) if for_store else None)
    if json_:
        emit_json({"key": key, "unset": True, "store": for_store})
    else:
        click.echo(f"{key} unset")


@config_group.command(name="path")
@json_option
@pass_app
def config_path(ctx: AppContext, json_) -> None:  # type: ignore[no-untyped-def]
    """Where the config file is.

    \b
    Example:
      memman config path
    """
    from memman import config

    path = config.config_path(ctx.data_dir)
    if json_:
        emit_json({"path": str(path), "exists": path.exists()})
    else:
        click.echo(path)


def register(group: click.Group) -> None:
    group.add_command(config_group)
