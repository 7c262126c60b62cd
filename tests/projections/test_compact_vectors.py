"""Vectors are stored as float16 since compact storage (issue 16), float32
before: a log holding both kinds replays exactly, readers widen both to the
same float32 rows, and the drain stores exactly what it compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from events.errors import StoreCorrupt
from events.log import EventLog
from events.types import MemoryEmbedded, MemoryPurged, Provenance, Vector
from memman.operations.maintenance import _dump, drain_all
from memman.service import Memman
from projections.runner import ProjectionSet
from projections.vectors import VectorsProjector, _cache_path, as_stored, decode_rows, encode, matrix, stamp

FP = "test:4"
OLD = [0.1, 0.2, 0.3, 0.9]  # not exactly representable in float16: a float32 row must come back unrounded
NEW = [0.7, -0.1, 0.0, 0.7]


def _embed(log: EventLog, memory_id: str, data: bytes) -> None:
    vector = Vector(memory_id=memory_id, data=data)  # type: ignore[arg-type]
    log.append(MemoryEmbedded(fingerprint=FP, dim=4, vectors=[vector], provenance=Provenance(implementation="t")))


def _setup(tmp_path: Path) -> tuple[EventLog, ProjectionSet]:
    log = EventLog(tmp_path / "log.db")
    return log, ProjectionSet(tmp_path / "vectors.db", [VectorsProjector()], log)


def _table(pset: ProjectionSet) -> list[tuple]:  # type: ignore[type-arg]
    return pset.conn.execute("SELECT id, memory_id, fingerprint, dim, vec, seq FROM vectors ORDER BY id").fetchall()


def test_an_old_float32_vector_and_a_new_float16_one_read_back_as_stored(tmp_path: Path) -> None:
    log, pset = _setup(tmp_path)
    _embed(log, "OLD", np.asarray(OLD, dtype="<f4").tobytes())  # as memman wrote it before
    _embed(log, "NEW", encode(np.asarray(NEW, dtype=np.float32)))
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert ids == ["OLD", "NEW"]
    assert rows[0].tobytes() == np.asarray(OLD, dtype="<f4").tobytes()  # exact: float32 stays float32
    assert rows[1].tobytes() == as_stored(np.asarray([NEW]))[0].tobytes()  # the float16 value, widened
    assert [len(r[4]) for r in _table(pset)] == [16, 8]


def test_a_mixed_log_replays_byte_for_byte(tmp_path: Path) -> None:
    log, pset = _setup(tmp_path)
    _embed(log, "OLD", np.asarray(OLD, dtype="<f4").tobytes())
    _embed(log, "NEW", encode(np.asarray(NEW, dtype=np.float32)))
    pset.catch_up()
    before = _table(pset)
    cached = matrix(pset.conn, tmp_path, FP)[1].tobytes()
    pset.replay()
    _cache_path(tmp_path, FP).unlink(missing_ok=True)
    assert _table(pset) == before
    assert matrix(pset.conn, tmp_path, FP)[1].tobytes() == cached


def test_a_vector_of_the_wrong_length_is_reported_as_corrupt() -> None:
    with pytest.raises(StoreCorrupt, match="neither float16 nor float32"):
        decode_rows([b"\x00" * 8, b"\x00" * 5], 4)
    assert decode_rows([], 4).shape == (0, 4)


def test_rounding_is_what_storing_does() -> None:
    rows = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    stored = decode_rows([encode(r) for r in rows], 4)
    assert stored.tobytes() == as_stored(rows).tobytes()
    assert np.abs(stored - rows).max() < 2e-3 * np.abs(rows).max()


def test_the_drain_stores_float16_and_keeps_in_memory_what_a_replay_reads(app: Memman, data_dir: Path) -> None:
    for text in ("The billing service timeout is 45s", "Dana owns the auth service"):
        app.remember(text)
    drain_all(data_dir)
    db = app.fresh()
    fingerprint = db.setting("embedder")
    assert fingerprint is not None
    stored = db.vectors.conn.execute("SELECT dim, length(vec) FROM vectors").fetchall()
    assert stored and all(size == dim * 2 for dim, size in stored)
    ids, rows = matrix(db.vectors.conn, db.directory, fingerprint)
    assert np.array_equal(rows, as_stored(rows))  # every cached row is a float16 value


def test_rows_name_their_set_by_number_and_a_replay_numbers_them_the_same(tmp_path: Path) -> None:
    """Version 4: a row holds its set's number, not the fingerprint and the
    dimension; the `vectors` view reads as the old table did, a second
    fingerprint (an embedder swap) gets the next number, a purge and a
    re-embedding keep the stamp's meaning, and a replay builds the same rows."""
    log, pset = _setup(tmp_path)
    _embed(log, "A", encode(np.asarray(NEW, dtype=np.float32)))
    log.append(MemoryEmbedded(fingerprint="other:2", dim=2, provenance=Provenance(implementation="t"),
                              vectors=[Vector(memory_id="A", data=encode(np.asarray([0.6, 0.8], dtype=np.float32)))]))  # fmt: skip
    _embed(log, "B", encode(np.asarray(OLD, dtype=np.float32)))
    _embed(log, "A", encode(np.asarray(OLD, dtype=np.float32)))  # re-embedded in place
    log.append(MemoryPurged(purged=["B"], reason="test"))
    pset.catch_up()
    assert pset.conn.execute("SELECT n, fingerprint, dim, count FROM vector_sets ORDER BY n").fetchall() == [
        (1, FP, 4, 1), (2, "other:2", 2, 1),
    ]  # fmt: skip
    assert [(r[1], r[2], r[3], r[5]) for r in _table(pset)] == [("A", FP, 4, 4), ("A", "other:2", 2, 2)]
    assert pset.conn.execute("SELECT count(*) FROM vectors WHERE fingerprint=?", (FP,)).fetchone() == (1,)
    assert stamp(pset.conn, FP) == (4, 1, 5, 5)  # the purge moved last_seq and rewritten_seq
    before = {t: _dump(pset.conn, t) for t in VectorsProjector.tables}
    pset.replay()
    assert {t: _dump(pset.conn, t) for t in VectorsProjector.tables} == before


def test_a_store_with_the_old_vectors_table_is_rebuilt_when_opened(tmp_path: Path) -> None:
    log, pset = _setup(tmp_path)
    _embed(log, "A", encode(np.asarray(NEW, dtype=np.float32)))
    pset.catch_up()
    pset.conn.execute(  # what version 3 left on disk, with a stale row to prove the rebuild
        "DROP VIEW vectors; DROP TABLE vector_rows; DROP TABLE vector_sets;"
        "CREATE TABLE vectors (id INTEGER PRIMARY KEY, memory_id TEXT NOT NULL, fingerprint TEXT NOT NULL,"
        " dim INTEGER NOT NULL, vec BLOB NOT NULL, seq INTEGER NOT NULL, UNIQUE (fingerprint, memory_id));"
        "CREATE TABLE vector_sets (fingerprint TEXT PRIMARY KEY, dim INTEGER NOT NULL, count INTEGER NOT NULL,"
        " last_seq INTEGER NOT NULL, rewritten_seq INTEGER NOT NULL DEFAULT 0);"
        f"INSERT INTO vectors VALUES (1, 'STALE', '{FP}', 4, zeroblob(8), 1);"
        "UPDATE checkpoints SET version = 3 WHERE name = 'vectors'"
    )
    pset.close()
    again = ProjectionSet(tmp_path / "vectors.db", [VectorsProjector()], log)
    again.catch_up()
    assert again.conn.execute("SELECT version FROM checkpoints WHERE name = 'vectors'").fetchone() == (4,)
    assert [r[1] for r in _table(again)] == ["A"]
    ids, _ = matrix(again.conn, tmp_path, FP)
    assert ids == ["A"]
