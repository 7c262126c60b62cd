"""The agent hot path without click.

Agents call `remember` and `recall` (also `--as-of` / `--known-at`) on every
turn, and `hook EVENT` on every prompt, tool call and stop, so those three
commands skip importing click and every command module (~20-30 ms of a
~60-160 ms process on this hardware).
The parser below accepts exactly the well-formed invocations of those
commands; anything else (help, unknown or malformed options, bad choices, any
other command) returns None and the click CLI handles it, including its error
messages. tests/memman/test_fastpath.py checks the two paths agree.
Set MEMMAN_NO_FASTPATH=1 to always use click.
"""

from __future__ import annotations

import os
import sys

from events.types import CATEGORIES, SOURCES

_GLOBAL_VALUES = ("--data-dir", "--store")
_GLOBAL_FLAGS = ("-v", "--verbose")
_SPECS: dict[str, tuple[dict[str, object], tuple[str, ...], tuple[str, ...]]] = {
    # command: (value options -> validator, flags, repeatable options)
    "remember": (
        {
            "--cat": CATEGORIES,
            "--imp": range(1, 6),
            "--entities": str,
            "--source": SOURCES,
            "--meta": str,
            "--at": str,
            "--replaces": str,
            "--until": str,
            "--id": str,
        },
        ("--json", "--redact", "--personal", "--project"),
        ("--meta",),
    ),
    "recall": (
        {"--cat": CATEGORIES, "--source": SOURCES, "--limit": range(1, 1001), "--as-of": str, "--known-at": str},
        ("--json", "--basic", "--raw"),
        (),
    ),
    "hook": ({"--agent": ("claude-code", "codex", "openclaw")}, ("--json",), ()),
}
# `hook`'s one argument is a choice (memman.install.hookrun.EVENTS, which a test keeps equal)
HOOK_EVENTS = ("session-start", "user-prompt-submit", "pre-tool-use", "stop", "pre-compact", "session-end", "bootstrap")


class Invocation:
    def __init__(
        self, command: str, positional: str, options: dict[str, object], globals_: dict[str, str], verbose: bool
    ) -> None:
        self.command = command
        self.positional = positional
        self.options = options
        self.globals = globals_
        self.verbose = verbose


def _value(spec: object, raw: str) -> object | None:
    if spec is str:
        return raw
    if isinstance(spec, range):
        try:
            number = int(raw)
        except ValueError:
            return None
        return number if number in spec else None
    return raw if raw in spec else None  # type: ignore[operator]


def parse(argv: list[str]) -> Invocation | None:
    """An Invocation for a well-formed remember/recall call, else None."""
    if os.environ.get("MEMMAN_NO_FASTPATH") == "1":
        return None
    globals_: dict[str, str] = {}
    verbose = False
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name, eq, inline = argv[i].partition("=")
        if name in _GLOBAL_FLAGS and not eq:
            verbose = True
            i += 1
        elif name in _GLOBAL_VALUES:
            if not eq:
                if i + 1 >= len(argv):
                    return None
                inline, i = argv[i + 1], i + 1
            globals_[name] = inline
            i += 1
        else:
            return None
    if i >= len(argv) or argv[i] not in _SPECS:
        return None
    command = argv[i]
    values, flags, repeatable = _SPECS[command]
    options: dict[str, object] = {}
    positional: list[str] = []
    rest = iter(argv[i + 1 :])
    only_positional = False
    for token in rest:
        if only_positional or token == "-" or not token.startswith("-"):
            positional.append(token)
            continue
        if token == "--":
            only_positional = True
            continue
        name, eq, inline = token.partition("=")
        if name in flags and not eq:
            options[name] = True
        elif name in values:
            raw = inline if eq else next(rest, None)
            if raw is None:
                return None
            value = _value(values[name], raw)
            if value is None:
                return None
            if name in repeatable:
                options.setdefault(name, [])
                options[name].append(value)  # type: ignore[attr-defined]
            else:
                options[name] = value
        else:
            return None
    if len(positional) != 1 or ("--personal" in options and "--project" in options):
        return None
    if command == "hook" and positional[0] not in HOOK_EVENTS:
        return None
    return Invocation(command, positional[0], options, globals_, verbose)


def run(call: Invocation) -> int:
    if call.command == "hook":
        return _hook(call)
    from memman.exits import warn
    from memman.scope.service import Scoped
    from memman.stores import resolve_data_dir

    try:
        cwd: str | None = os.getcwd()
    except OSError:  # the working directory was deleted under us
        cwd = None
    with Scoped.at(resolve_data_dir(call.globals.get("--data-dir")), call.globals.get("--store"), cwd) as app:
        try:
            if call.command == "remember":
                return _remember(app, call)
            return _recall(app, call)
        finally:
            for notice in app.notices:
                warn(notice)


def _remember(app, call: Invocation) -> int:  # type: ignore[no-untyped-def]
    from memman.intake import validate
    from memman.output.render import remembered_line, to_json

    o = call.options
    text: str | bytes = sys.stdin.buffer.read() if call.positional == "-" else call.positional
    at, until = o.get("--at"), o.get("--until")
    personal = True if o.get("--personal") else False if o.get("--project") else None
    result = app.remember(
        text,
        personal=personal,
        category=o.get("--cat", "general"),
        importance=o.get("--imp", 3),
        entities=o.get("--entities"),
        source=o.get("--source", "agent"),
        meta=o.get("--meta", []),
        at=validate.moment(at) if at else None,  # type: ignore[arg-type]
        redact=bool(o.get("--redact")),
        replaces=o.get("--replaces"),  # type: ignore[arg-type]
        until=validate.moment(until) if until else None,  # type: ignore[arg-type]
        key=o.get("--id"),  # type: ignore[arg-type]
    )
    sys.stdout.write(to_json(result) + "\n" if o.get("--json") else remembered_line(result) + "\n")
    from memman.scheduler.autodrain import kick

    kick(app.data_dir)
    return 0


def _recall(app, call: Invocation) -> int:  # type: ignore[no-untyped-def]
    from memman.output.render import recall_diagnostics, recall_lines, to_json

    o = call.options
    as_of, known_at = o.get("--as-of"), o.get("--known-at")
    if as_of or known_at:
        from memman.intake import validate
    result = app.recall(
        call.positional,
        limit=o.get("--limit", 10),  # type: ignore[arg-type]
        category=o.get("--cat"),  # type: ignore[arg-type]
        source=o.get("--source"),  # type: ignore[arg-type]
        basic=bool(o.get("--basic")),
        as_of=validate.moment(as_of) if as_of else None,  # type: ignore[arg-type]
        known_at=validate.moment(known_at) if known_at else None,  # type: ignore[arg-type]
    )
    if call.verbose:
        sys.stderr.write(f"memman: {recall_diagnostics(result)}\n")
    sys.stdout.write(to_json(result) + "\n" if o.get("--json") else "\n".join(recall_lines(result, raw=bool(o.get("--raw")))) + "\n")
    return 0


def _hook(call: Invocation) -> int:
    """`memman hook EVENT`, as memman/cli/agent.py answers it: the hook opens
    the stores it needs itself (memman.install.hookrun)."""
    from memman.install import hookrun
    from memman.output.render import to_json
    from memman.stores import resolve_data_dir

    o = call.options
    answer = hookrun.handle(
        call.positional, hookrun.decode(sys.stdin.buffer.read()), resolve_data_dir(call.globals.get("--data-dir")),
        call.globals.get("--store"), o.get("--agent", "claude-code"),  # type: ignore[arg-type]
    )
    if answer is not None or o.get("--json"):
        sys.stdout.write(to_json(answer or {}) + "\n")
    return 0
