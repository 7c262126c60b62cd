"""The `memman` executable: the fast path for the agent hot path, click for the rest."""

from __future__ import annotations

import sys


def main() -> None:
    from memman.fastpath import parse

    argv = sys.argv[1:]
    call = parse(argv)
    if call is None:
        from memman.cli import main as click_main

        click_main()
        return
    from memman.exits import run_guarded
    from memman.fastpath import run

    sys.exit(run_guarded(lambda: run(call)))
