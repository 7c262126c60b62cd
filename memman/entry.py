"""The `memman` executable: the fast path for the agent hot path, click for the rest."""

from __future__ import annotations

import sys


def main() -> None:
    import os

    # numpy's BLAS would use both cores for the small products memman does,
    # which doubles CPU and slows them (PERF_NOTES); set before numpy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
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
