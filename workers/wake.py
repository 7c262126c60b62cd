"""Wake an idle worker when a shared log gains events.

A store on PostgreSQL notifies the channel `memman_log` whenever an append
commits (a statement trigger, no extra round trip for writers). `LogWaker`
LISTENs on every such store of a data dir, so `scheduler serve` on any
machine starts a pass as soon as a teammate remembers something, instead of
waiting for its interval. SQLite stores have no server to listen to: for
them `wait` is a plain sleep and `scheduler trigger` remains the nudge.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from events.backends import backend_of
from events.errors import BackendUnavailable


class LogWaker:
    def __init__(self, directories: list[Path]) -> None:
        self.conns: list[Any] = []
        for directory in directories:
            dsn = backend_of(directory)
            if dsn is not None:
                self._listen(dsn)

    def _listen(self, dsn: str) -> None:
        from events.backends.dsn import redact
        from events.backends.postgres import NOTIFY_CHANNEL, connect

        try:
            conn = connect(dsn, where=redact(dsn))
        except BackendUnavailable:
            return  # the pass itself reports the unreachable server; the loop still polls
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self.conns.append(conn)

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds; True if a shared log was appended to."""
        if not self.conns:
            time.sleep(timeout)
            return False
        import psycopg

        share = timeout / len(self.conns)
        woken = False
        for conn in self.conns:
            try:
                woken = any(True for _ in conn.notifies(timeout=share)) or woken
            except psycopg.OperationalError:
                time.sleep(share)  # the server went away; the next pass says so
        return woken

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.conns = []
