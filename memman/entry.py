"""The `memman` executable: the fast path for the agent hot path, click for the rest."""

from __future__ import annotations

import sys


def _load_msgspec_without_typing_extensions() -> None:
    """msgspec imports typing_extensions when it is installed (httpx's anyio
    installs it), and that import costs ~10 ms (it pulls in inspect) of a
    ~60 ms `remember`. msgspec falls back to `typing`, which is all memman's
    types use, so hide the module while msgspec loads, then un-hide it: later
    imports of typing_extensions work as usual (tests/memman/test_entry.py)."""
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # makes `import` raise ImportError
    try:
        import msgspec  # noqa: F401
    finally:
        del sys.modules["typing_extensions"]


def main() -> None:
    import os

    # numpy's BLAS would use both cores for the small products memman does,
    # which doubles CPU and slows them (docs/measured-costs.md); set before numpy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    argv = sys.argv[1:]
    attempt = _warm(argv)
    if attempt is not None and attempt.reply is not None:
        code, out, err = attempt.reply
        sys.stdout.buffer.write(out)
        sys.stderr.buffer.write(err)
        _leave(code)
    if attempt is not None and attempt.stdin is not None:  # consumed by the attempt: hand it on
        import io

        sys.stdin = io.TextIOWrapper(io.BytesIO(attempt.stdin), encoding="utf-8")
    if attempt is not None and attempt.spawn:
        from memman.server.spawn import start

        start(attempt.data_dir)
    try:
        if attempt is not None and attempt.request is not None:  # the same key as the forwarded try
            from memman.intake.retry import keyed

            with keyed(attempt.request):
                code = run(argv)
        else:
            code = run(argv)
    except SystemExit as exc:  # click exits by itself
        if exc.code is not None and not isinstance(exc.code, int):
            raise  # a message to print: the interpreter's own exit does it
        code = exc.code or 0
    _leave(code)


def _leave(code: int) -> None:
    """Exit with `code`, skipping the interpreter's teardown when nothing
    needs it: freeing every module and object of a process that imported
    numpy costs ~10-15 ms of a ~100 ms cold recall (docs/scale.md). Skipped
    only after stdout and stderr flushed cleanly, with no atexit callback
    registered and no other non-daemon thread alive; otherwise the ordinary
    exit runs them. Every store connection is closed by then (the service
    closes its databases before `run` returns)."""
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the ordinary exit reports it as before
        sys.exit(code)
    if _teardown_needed():
        sys.exit(code)
    os._exit(code)


def _teardown_needed() -> bool:
    import atexit

    pending = getattr(atexit, "_ncallbacks", None)  # CPython; without it, never skip
    if pending is None or pending():
        return True
    threading = sys.modules.get("threading")
    if threading is None:
        return False
    main_thread = threading.main_thread()
    return any(t is not main_thread and not t.daemon for t in threading.enumerate())


def _first_undecodable(argv: list[str]) -> int | None:
    """The 1-based position of the first argument that is not valid UTF-8
    (bytes the locale could not decode reach us as lone surrogates)."""
    for position, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return position
    return None


def _warm(argv: list[str]):  # type: ignore[no-untyped-def]
    """Ask the warm server (memman/server/) first; None when argv has
    bytes that are not UTF-8, which the in-process path reports."""
    import os

    from memman.server import wire

    if wire.disabled(os.environ) or wire.served_command(argv) is None:
        return None  # remember and the rest: nothing more to import
    if _first_undecodable(argv) is not None:
        return None
    from memman.server.client import forward

    return forward(argv)


def run(argv: list[str]) -> int:
    """Run one invocation in this process: the fast path for well-formed
    remember/recall, click for everything else. The warm server calls this too."""
    position = _first_undecodable(argv)
    if position is not None:
        from memman.exits import fail

        fail(f"argument {position} is not valid UTF-8; send UTF-8 text", 2)
    _load_msgspec_without_typing_extensions()
    from memman.fastpath import parse

    call = parse(argv)
    if call is None:
        from memman.cli import cli

        cli.main(args=argv, prog_name="memman")
        return 0
    from memman.exits import run_guarded
    from memman.fastpath import run as run_fast

    return run_guarded(lambda: run_fast(call))
