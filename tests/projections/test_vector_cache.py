"""Recall's flat copy of the vectors: identical to the table, refreshed when
the table changes, and rebuilt when missing, truncated or foreign."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from events.log import EventLog
from events.types import MemoryEmbedded, MemoryPurged, Provenance, Vector
from projections.runner import ProjectionSet
from projections.vectors import VectorsProjector, _cache_path, cache_problem, centered, centered_view, matrix

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


def test_new_rows_are_appended_in_place_and_equal_a_full_rebuild(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    inode = path.stat().st_ino
    embed(log, {"C": [0, 0, 1, 0]})
    embed(log, {"D": [0, 0, 0, 1], "E": [1, 1, 0, 0]})
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert path.stat().st_ino == inode  # appended, not rewritten through a new file
    assert ids == ["A", "B", "C", "D", "E"]
    assert rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]]
    assert matrix(pset.conn, tmp_path, FP, verify=True)[0] == ids  # the chained row checksum holds
    assert cache_problem(pset.conn, tmp_path, FP) is None
    path.unlink()
    rebuilt_ids, rebuilt = matrix(pset.conn, tmp_path, FP)
    assert rebuilt_ids == ids and rebuilt.tolist() == rows.tolist()


def test_a_reembedded_or_purged_row_rewrites_the_cache_whole(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    inode = _cache_path(tmp_path, FP).stat().st_ino
    embed(log, {"A": [0, 0, 0, 1], "C": [0, 0, 1, 0]})  # A re-embedded in place: the copy of A is stale
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert _cache_path(tmp_path, FP).stat().st_ino != inode
    assert ids == ["A", "B", "C"] and rows.tolist() == [[0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]]
    log.append(MemoryPurged(purged=["B"], reason="test"))  # type: ignore[list-item]
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert ids == ["A", "C"] and rows.tolist() == [[0, 0, 0, 1], [0, 0, 1, 0]]


def test_a_cache_caught_half_appended_is_rebuilt(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0]})
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    head = path.read_bytes()[:4096]
    embed(log, {"B": [0, 1, 0, 0]})
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    data = bytearray(path.read_bytes())
    data[:4096] = head  # the rows and ids were written, the header not yet (a crash in between)
    path.write_bytes(bytes(data))
    ids, rows = matrix(pset.conn, tmp_path, FP, verify=True)
    assert ids == ["A", "B"] and rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert cache_problem(pset.conn, tmp_path, FP) is None


# The numpy-free reading of the centred copy (recall's cold path, memman/recall/scan.py).


def test_the_numpy_free_view_of_the_centred_cache_equals_centered(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0], "C": [0.5, 0.5, 0.2, 0]})
    pset.catch_up()
    ids, rows, mean = centered(pset.conn, tmp_path, FP)
    view_ids, view_rows, view_mean = centered_view(pset.conn, tmp_path, FP)
    assert view_ids == ids == ["A", "B", "C"]
    assert view_rows is not None and view_rows.shape == (3, 4) and view_rows.format == "f"
    assert view_rows.tolist() == rows.tolist()
    assert view_mean == mean.tolist()


def test_the_view_builds_a_missing_stale_or_damaged_centred_cache(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    path = _cache_path(tmp_path, FP, "c32")
    assert not path.exists()
    first = centered_view(pset.conn, tmp_path, FP)
    assert path.exists() and first[0] == ["A", "B"]
    embed(log, {"C": [0, 0, 1, 0]})  # the mean moved: the old copy is stale
    pset.catch_up()
    ids, rows, mean = centered_view(pset.conn, tmp_path, FP)
    assert ids == ["A", "B", "C"] and rows is not None
    assert rows.tolist() == centered(pset.conn, tmp_path, FP)[1].tolist()
    data = bytearray(path.read_bytes())
    data[4096] ^= 0xFF  # a flipped byte in the first row: only the checksum shows it
    path.write_bytes(bytes(data))
    ids, rows, _ = centered_view(pset.conn, tmp_path, FP, verify=True)
    assert rows is not None and rows.tolist() == centered(pset.conn, tmp_path, FP)[1].tolist()
    path.write_bytes(b"garbage")
    assert centered_view(pset.conn, tmp_path, FP)[0] == ["A", "B", "C"]


def test_a_cache_that_cannot_be_written_is_answered_from_memory(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    _cache_path(tmp_path, FP, "c32").mkdir()  # in the way of the file (root ignores read-only modes)
    ids, rows, mean = centered_view(pset.conn, tmp_path, FP)
    assert ids == ["A", "B"] and rows is not None and rows.shape == (2, 4)
    assert rows.tolist() == centered(pset.conn, tmp_path, FP)[1].tolist()
    assert mean == centered(pset.conn, tmp_path, FP)[2].tolist()


def test_no_vectors_gives_an_empty_view(tmp_path: Path) -> None:
    _, pset = setup(tmp_path)
    assert centered_view(pset.conn, tmp_path, FP) == ([], None, [])
