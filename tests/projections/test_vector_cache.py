"""Recall's flat copy of the vectors: identical to the table, refreshed when
the table changes, and rebuilt when missing, truncated or foreign."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from events.log import EventLog
from events.types import MemoryEmbedded, Provenance, Vector
from projections.runner import ProjectionSet
from projections.vectors import VectorsProjector, _cache_path, matrix

FP = "test:4"


def embed(log: EventLog, pairs: dict[str, list[float]], fingerprint: str = FP) -> None:
    vectors = [Vector(memory_id=k, data=np.asarray(v, dtype="<f4").tobytes()) for k, v in pairs.items()]  # type: ignore[arg-type]
    log.append(MemoryEmbedded(fingerprint=fingerprint, dim=4, vectors=vectors, provenance=Provenance(implementation="t")))


def setup(tmp_path: Path) -> tuple[EventLog, ProjectionSet]:
    log = EventLog(tmp_path / "log.db")
    return log, ProjectionSet(tmp_path / "vectors.db", [VectorsProjector()], log)


def test_the_cache_equals_the_table_and_follows_changes(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert ids == ["A", "B"] and rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert _cache_path(tmp_path, FP).exists()

    embed(log, {"B": [0, 0, 1, 0], "C": [0, 0, 0, 1]})  # B re-embedded, C new
    embed(log, {"Z": [1, 1, 0, 0]}, fingerprint="other:4")  # another fingerprint is separate
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert ids == ["A", "B", "C"]
    assert rows.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    assert matrix(pset.conn, tmp_path, "other:4")[0] == ["Z"]


def test_a_current_cache_is_read_without_touching_the_table(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0]})
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    pset.conn.execute("UPDATE vectors SET vec = zeroblob(16)")  # would show if the table were read
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert rows.tolist() == [[1, 0, 0, 0]]


def test_a_damaged_or_foreign_cache_is_rebuilt(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    path = _cache_path(tmp_path, FP)
    for damage in (b"", b"garbage\n", path.read_bytes()[:40] if path.exists() else b"x"):
        matrix(pset.conn, tmp_path, FP)
        path.write_bytes(damage)
        ids, rows = matrix(pset.conn, tmp_path, FP)
        assert ids == ["A", "B"] and rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]


def test_no_vectors_gives_an_empty_matrix(tmp_path: Path) -> None:
    _, pset = setup(tmp_path)
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert ids == [] and rows.size == 0
