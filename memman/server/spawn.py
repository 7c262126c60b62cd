"""Start a detached warm server for one data dir.

posix_spawn in a new session, with stdin closed and output to the server's
log: the caller neither waits for it nor inherits its fate, and importing
subprocess (~8 ms) is avoided on the hot path. Two callers racing both spawn;
the server's file lock lets one of them run and the other exit at once.
"""

from __future__ import annotations

import os
import sys

from memman.server import wire


def start(data_dir: str) -> int | None:
    """Spawn a server for `data_dir`; its pid, or None when it could not be spawned."""
    if not wire.ensure_run_dir(os.environ):
        return None
    log = wire.paths(data_dir, os.environ)[2]
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    try:
        return os.posix_spawn(
            sys.executable,
            # -P: `-m` would otherwise put the caller's working directory first on
            # sys.path, and a memman/ directory there (another checkout, or a
            # hostile repository) would be what the server imports and runs
            [sys.executable, "-P", "-m", "memman.server", "--data-dir", data_dir],
            env,
            file_actions=actions,
            setsid=True,
        )
    except OSError:
        return None
