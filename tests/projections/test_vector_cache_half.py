"""The flat cache's float16 rows in a large vector set (flatcache.HALF_ROWS
rows on; lowered here): the same values as the table's, widened exactly,
half the bytes; a set crossing the threshold is rewritten once, then
appended to; a set float16 cannot hold exactly keeps float32 rows; a
format-5 file (float32 only) is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from events.log import EventLog
from events.types import MemoryEmbedded, Provenance, Vector
from projections import flatcache
from projections.runner import ProjectionSet
from projections.vectors import VectorsProjector, _cache_path, cache_problem, flat, flat_view, matrix, mean_of

FP = "test:4"


def embed(log: EventLog, pairs: dict[str, list[float]], dtype: str = "<f2") -> None:
    """Vectors stored as the drain stores them (float16), or as float32 (a log written before)."""
    vectors = [Vector(memory_id=k, data=np.asarray(v, dtype=dtype).tobytes()) for k, v in pairs.items()]  # type: ignore[arg-type]
    log.append(MemoryEmbedded(fingerprint=FP, dim=4, vectors=vectors, provenance=Provenance(implementation="t")))


def setup(tmp_path: Path) -> tuple[EventLog, ProjectionSet]:
    log = EventLog(tmp_path / "log.db")
    return log, ProjectionSet(tmp_path / "vectors.db", [VectorsProjector()], log)


def rows_of(n: int, seed: int = 0) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    return {f"m{seed}-{i}": rng.standard_normal(4).astype(np.float16).astype(float).tolist() for i in range(n)}


def header(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    found = flatcache.read_header(_cache_path(tmp_path, FP), FP)
    assert found is not None
    return found


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flatcache, "HALF_ROWS", 4)


def test_a_large_set_keeps_float16_rows_that_read_back_as_the_table_s(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    pairs = rows_of(5)
    embed(log, pairs)
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert ids == list(pairs) and rows.dtype == np.float32 and rows.tolist() == list(pairs.values())
    h = header(tmp_path)
    assert h["dtype"] == "<f2" and h["half_exact"] is True
    assert h["keys_offset"] - h["head"] == 5 * 4 * 2  # two bytes a value
    found, view, mean = flat_view(pset.conn, tmp_path, FP)
    assert found == ids and view is not None and view.format == "H" and view.shape == (5, 4)
    assert flatcache.widen(view).tolist() == rows.tolist()
    expected = mean_of(np.asarray(list(pairs.values()), dtype=np.float64).sum(axis=0).tolist(), 5)
    assert mean == expected and flat(pset.conn, tmp_path, FP)[2].tolist() == expected
    assert matrix(pset.conn, tmp_path, FP, verify=True)[0] == ids and cache_problem(pset.conn, tmp_path, FP) is None


def test_a_set_crossing_the_threshold_is_rewritten_once_then_appended_to(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    first, second, third = rows_of(3, 1), rows_of(2, 2), rows_of(3, 3)
    embed(log, first)
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    assert header(tmp_path)["dtype"] == "<f4" and header(tmp_path)["half_exact"] is None  # below: float32, unchecked
    embed(log, second)
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert header(tmp_path)["dtype"] == "<f2"
    inode = path.stat().st_ino
    embed(log, third)
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP, verify=True)
    assert path.stat().st_ino == inode and header(tmp_path)["dtype"] == "<f2"  # appended in place, still float16
    assert ids == [*first, *second, *third] and rows.tolist() == [*first.values(), *second.values(), *third.values()]
    path.unlink()
    assert matrix(pset.conn, tmp_path, FP)[1].tolist() == rows.tolist()  # a full rebuild: the same


def test_a_set_float16_cannot_hold_keeps_float32_rows_and_is_appended_to(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [0.1, 0.2, 0.3, 0.4], "B": [1, 0, 0, 0]}, dtype="<f4")
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    embed(log, rows_of(3))
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert header(tmp_path)["dtype"] == "<f4" and header(tmp_path)["half_exact"] is False
    assert rows[0].tolist() == np.asarray([0.1, 0.2, 0.3, 0.4], dtype=np.float32).tolist()  # not rounded
    inode = _cache_path(tmp_path, FP).stat().st_ino
    embed(log, rows_of(2, 5))
    pset.catch_up()
    assert len(matrix(pset.conn, tmp_path, FP, verify=True)[0]) == 7
    assert _cache_path(tmp_path, FP).stat().st_ino == inode  # appended: the check is not repeated per drain


def test_a_float16_file_meeting_a_float32_vector_is_rewritten_as_float32(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, rows_of(5))
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    assert header(tmp_path)["dtype"] == "<f2"
    embed(log, {"Z": [0.1, 0.2, 0.3, 0.4]}, dtype="<f4")
    pset.catch_up()
    ids, rows = matrix(pset.conn, tmp_path, FP)
    assert header(tmp_path)["dtype"] == "<f4" and header(tmp_path)["half_exact"] is False
    assert ids[-1] == "Z" and rows[-1].tolist() == np.asarray([0.1, 0.2, 0.3, 0.4], dtype=np.float32).tolist()


def test_a_format_5_cache_is_rebuilt_in_this_format(tmp_path: Path) -> None:
    """A store whose cache was written before float16 rows: its first read
    rebuilds it (a derived file), as float16 when the set is large."""
    log, pset = setup(tmp_path)
    pairs = rows_of(5)
    embed(log, pairs)
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    h = header(tmp_path)
    data = path.read_bytes()
    wide = np.frombuffer(data[h["head"] : h["keys_offset"]], dtype="<f2").astype("<f4").tobytes()
    old = {k: v for k, v in h.items() if k not in ("dtype", "half_exact")}
    shift = len(wide) - (h["keys_offset"] - h["head"])
    old.update(keys_offset=h["keys_offset"] + shift, ids_offset=h["ids_offset"] + shift)
    head = (b"MEMMANVEC5\n" + json.dumps(old, sort_keys=True).encode() + b"\n").ljust(h["head"], b" ")
    path.write_bytes(head + wide + data[h["keys_offset"] :])
    assert flatcache.read_header(path, FP) is None  # not this format
    found, view, _ = flat_view(pset.conn, tmp_path, FP)
    assert found == list(pairs) and view is not None and flatcache.widen(view).tolist() == list(pairs.values())
    assert path.read_bytes().startswith(flatcache.MAGIC) and header(tmp_path)["dtype"] == "<f2"


def test_a_header_with_an_unknown_row_type_is_a_damaged_cache(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, rows_of(5))
    pset.catch_up()
    matrix(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"dtype": "<f2"', b'"dtype": "<f8"', 1))
    assert flatcache.read_header(path, FP) is None
    assert matrix(pset.conn, tmp_path, FP)[1].tolist() == list(rows_of(5).values())  # rebuilt
    assert header(tmp_path)["dtype"] == "<f2"
