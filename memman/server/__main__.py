"""`python -m memman.server --data-dir DIR [--idle-s N]`: run the warm server
in the foreground (memman.server.spawn starts it detached)."""

from __future__ import annotations

import argparse
import os
import sys

from memman.server import wire
from memman.server.daemon import DEFAULT_IDLE_S, Server


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m memman.server")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--idle-s", type=float, default=float(os.environ.get("MEMMAN_SERVER_IDLE_S", DEFAULT_IDLE_S)))
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    data_dir = wire.data_dir_of(["--data-dir", args.data_dir], os.environ)
    return Server(data_dir, max(1.0, args.idle_s)).run()


if __name__ == "__main__":
    sys.exit(main())
