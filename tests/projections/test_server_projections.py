"""The server projections (projections/server/) keep the projector contract
in PostgreSQL: built incrementally (after every event, as workers do) they
equal a rebuild from scratch row for row and equal the replica's rows; a
failure mid-batch changes nothing, checkpoint included; two workers
advancing at once never apply a range twice. All against the session's
embedded PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from events.backends import record_backend
from events.errors import MemmanError
from events.log import EventLog
from events.types import MemoryPurged, MemoryRemembered
from projections.server import mirror
from projections.server.tables import tables
from projections.store import StoreDB
from tests.projections.test_projectors import write_history

ORDER = {"proj_memories": "id", "proj_edges": "src, dst, edge_type", "proj_settings": "setting",
         "proj_vectors": "fingerprint, memory_id"}  # fmt: skip


def open_store(directory: Path, dsn: str) -> StoreDB:
    directory.mkdir(parents=True, exist_ok=True)
    record_backend(directory, dsn)
    return StoreDB(directory)


@pytest.fixture
def machine(tmp_path: Path, pg_dsn: str) -> Iterator[StoreDB]:
    db = open_store(tmp_path / "one", pg_dsn)
    try:
        yield db
    finally:
        db.close()


def server_rows(dsn: str) -> dict[str, list[tuple]]:
    out = {}
    with psycopg.connect(dsn) as conn:
        for t in tables(None):
            cols = ", ".join(t.columns)
            out[t.table] = conn.execute(f"SELECT {cols} FROM {t.table} ORDER BY {ORDER[t.table]}").fetchall()
    return out


def server_checkpoints(dsn: str) -> dict[str, tuple[int, int]]:
    with psycopg.connect(dsn) as conn:
        return {n: (s, v) for n, s, v in conn.execute("SELECT name, seq, version FROM proj_checkpoints")}


def replica_rows(db: StoreDB) -> dict[str, list[tuple]]:
    """The replica's rows as the server keeps them (vectors as pgvector text)."""
    out = {}
    for t in tables(None):
        conn = getattr(db, t.source).conn
        rows = [tuple(r) for r in t.rows(conn, None)]
        out[t.table] = sorted(rows, key=lambda r: (r[1], r[0]) if t.table == "proj_vectors" else r[:3])
    return out


def normalised(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Vectors compared as numbers (pgvector prints float4; the replica float32 via repr)."""
    out = dict(rows)
    out["proj_vectors"] = [
        (*r[:3], [round(float(x), 5) for x in str(r[3]).strip("[]").split(",")], r[4]) for r in rows["proj_vectors"]
    ]
    out["proj_edges"] = sorted(rows["proj_edges"])
    return out


def test_incremental_equals_rebuild_and_the_replica(tmp_path: Path, machine: StoreDB, pg_dsn: str) -> None:
    mirror.setup(machine)
    scratch = EventLog(tmp_path / "src.db")
    write_history(scratch)
    log = machine.log
    for rec in scratch.read():  # advance after every event, as a worker after each pass
        log.append(rec.event, causation=rec.causation, stage=rec.stage, actor=rec.actor, occurred_at=rec.occurred_at)
        machine.catch_up()
        mirror.advance(machine)
    log.append(MemoryPurged(purged=["D"], reason="test"))
    machine.catch_up()
    mirror.advance(machine)
    incremental = server_rows(pg_dsn)
    assert all(incremental.values()), "the history must exercise every server table"
    assert "D" not in {r[0] for r in incremental["proj_memories"]}
    assert {n: s for n, (s, _) in server_checkpoints(pg_dsn).items()} == dict.fromkeys(
        ["memories", "graph", "settings", "vectors"], log.head()
    )
    assert normalised(incremental) == normalised(replica_rows(machine))
    fresh = open_store(tmp_path / "two", pg_dsn)  # another machine rebuilds them from its own new replica
    try:
        mirror.rebuild(fresh)
    finally:
        fresh.close()
    assert server_rows(pg_dsn) == incremental


def test_the_bound_fingerprint_has_an_hnsw_index(machine: StoreDB, tmp_path: Path, pg_dsn: str) -> None:
    scratch = EventLog(tmp_path / "src.db")
    write_history(scratch)
    for rec in scratch.read():
        machine.log.append(rec.event, causation=rec.causation, stage=rec.stage, occurred_at=rec.occurred_at)
    mirror.rebuild(machine)
    with psycopg.connect(pg_dsn) as conn:
        indexes = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'proj_vectors'")]
    assert [d for d in indexes if "hnsw" in d and "'test:8b'" in d and "vector(8)" in d]


def test_a_failure_mid_batch_changes_nothing(tmp_path: Path, machine: StoreDB, pg_dsn: str) -> None:
    mirror.setup(machine)
    machine.log.append(MemoryRemembered(memory_id="A", text="first memory"))
    machine.catch_up()
    mirror.advance(machine)
    before, marks = server_rows(pg_dsn), server_checkpoints(pg_dsn)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # the server refuses one row of the next batch
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.content = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;"
            "CREATE TRIGGER refuse BEFORE INSERT ON proj_memories FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    machine.log.append(MemoryRemembered(memory_id="B", text="second memory"))
    machine.log.append(MemoryRemembered(memory_id="C", text="poison"))
    machine.catch_up()
    with pytest.raises(MemmanError):
        mirror.advance(machine)
    after = server_rows(pg_dsn)
    assert after["proj_memories"] == before["proj_memories"]
    assert server_checkpoints(pg_dsn)["memories"] == marks["memories"]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("DROP TRIGGER refuse ON proj_memories")
    mirror.advance(machine)  # the next pass redoes the range
    assert [r[0] for r in server_rows(pg_dsn)["proj_memories"]] == ["A", "B", "C"]
    assert server_checkpoints(pg_dsn)["memories"][0] == machine.log.head()


def test_a_projection_another_worker_holds_is_skipped_not_applied_twice(machine: StoreDB, pg_dsn: str) -> None:
    mirror.setup(machine)
    machine.log.append(MemoryRemembered(memory_id="A", text="first memory"))
    machine.catch_up()
    with psycopg.connect(pg_dsn) as other:  # another worker is advancing `memories` right now
        other.execute("SELECT 1 FROM proj_checkpoints WHERE name = 'memories' FOR UPDATE")
        done = mirror.advance(machine)
        assert "memories" not in done and "settings" in done
        other.rollback()
    assert mirror.advance(machine) == {"memories": 1}
    assert mirror.advance(machine) == {}  # nothing new: nothing copied again


def test_two_workers_advancing_at_once(tmp_path: Path, pg_dsn: str) -> None:
    scratch = EventLog(tmp_path / "src.db")
    write_history(scratch)
    first, second = open_store(tmp_path / "a", pg_dsn), open_store(tmp_path / "b", pg_dsn)
    try:
        mirror.setup(first)
        records = list(scratch.read())
        errors: list[BaseException] = []

        def work(db: StoreDB, stop: threading.Event) -> None:
            try:
                while not stop.is_set():
                    db.catch_up()
                    mirror.advance(db)
            except BaseException as exc:  # noqa: BLE001 (reported by the test)
                errors.append(exc)

        stop = threading.Event()
        workers = [threading.Thread(target=work, args=(db, stop)) for db in (first, second)]
        writer = open_store(tmp_path / "w", pg_dsn)
        for w in workers:
            w.start()
        for rec in records:
            writer.log.append(rec.event, causation=rec.causation, stage=rec.stage, occurred_at=rec.occurred_at)
        stop.set()
        for w in workers:
            w.join()
        writer.close()
        assert errors == []
        first.catch_up()
        mirror.advance(first, wait=True)
        together = server_rows(pg_dsn)
        assert normalised(together) == normalised(replica_rows(first))
        mirror.rebuild(second)
        assert server_rows(pg_dsn) == together
    finally:
        first.close()
        second.close()


def test_lag_and_enabled(machine: StoreDB, pg_dsn: str) -> None:
    assert not mirror.enabled(machine) and mirror.lag(machine) is None
    machine.log.append(MemoryRemembered(memory_id="A", text="first memory"))
    mirror.setup(machine)
    assert mirror.enabled(machine) and set(mirror.lag(machine).values()) == {1}  # type: ignore[union-attr]
    machine.catch_up()
    mirror.advance(machine)
    assert set(mirror.lag(machine).values()) == {0}  # type: ignore[union-attr]
