"""Vectors are stored as float16 since compact storage (issue 16), float32
before: a log holding both kinds replays exactly, readers widen both to the
same float32 rows, and the drain stores exactly what it compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from events.errors import StoreCorrupt
from events.log import EventLog
from events.types import MemoryEmbedded, Provenance, Vector
from memman.operations.maintenance import drain_all
from memman.service import Memman
from projections.runner import ProjectionSet
from projections.vectors import VectorsProjector, _cache_path, as_stored, decode_rows, encode, matrix

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
