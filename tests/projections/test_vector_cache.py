"""Recall's flat copy of the vectors: identical to the table, refreshed when
the table changes, and rebuilt when missing, truncated or foreign."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from events.log import EventLog
from events.types import MemoryEmbedded, MemoryPurged, Provenance, Vector
from projections.runner import ProjectionSet
from projections import flatcache
from projections.vectors import (
    CENTER_PRIOR, VectorsProjector, _cache_path, cache_problem, centered, flat, flat_view, matrix, mean_of, refresh,
)

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
    pset.conn.execute("UPDATE vector_rows SET vec = zeroblob(16)")  # would show if the table were read
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


def test_refresh_appends_what_is_new_and_leaves_a_current_cache_alone(tmp_path: Path) -> None:
    """The drain's call after a pass: the rows already in the file are not
    rewritten (their bytes and the file stay), a current file is not touched."""
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    refresh(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    head = flatcache.head_size(4)
    first = path.read_bytes()[head : head + 32]
    stat = path.stat()
    refresh(pset.conn, tmp_path, FP)
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    embed(log, {"C": [0, 0, 1, 0]})
    pset.catch_up()
    refresh(pset.conn, tmp_path, FP)
    assert path.stat().st_ino == stat.st_ino and path.read_bytes()[head : head + 32] == first
    assert matrix(pset.conn, tmp_path, FP, verify=True)[0] == ["A", "B", "C"]
    assert cache_problem(pset.conn, tmp_path, FP) is None
    refresh(pset.conn, tmp_path, "nothing:4")  # no such vector set: nothing to do
    assert not _cache_path(tmp_path, "nothing:4").exists()


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
    assert flatcache.head_size(4) == 4096
    path.write_bytes(bytes(data))
    ids, rows = matrix(pset.conn, tmp_path, FP, verify=True)
    assert ids == ["A", "B"] and rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert cache_problem(pset.conn, tmp_path, FP) is None


# The common component and the numpy-free view (recall's cold path, memman/recall/scan.py).


def test_the_mean_comes_from_the_header_sums_through_appends_as_from_the_rows(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((n, 4)).astype("<f4") for n in (5, 1, 3)]
    names = iter(f"M{n}" for n in range(100))
    for batch in batches:
        embed(log, {next(names): row.tolist() for row in batch})
        pset.catch_up()
        ids, rows, mean = flat(pset.conn, tmp_path, FP)  # appended each time after the first
    everything = np.vstack(batches)
    expected = (everything.mean(axis=0) * (len(everything) / (len(everything) + CENTER_PRIOR))).astype(np.float32)
    assert np.allclose(mean, expected, rtol=1e-6, atol=1e-7) and mean.dtype == np.float32
    assert len(ids) == 9 and np.array_equal(np.asarray(rows), everything)
    _cache_path(tmp_path, FP).unlink()
    assert flat(pset.conn, tmp_path, FP)[2].tolist() == mean.tolist()  # a rebuild's sums: the same mean
    assert mean_of([0.0] * 4, 0) == [0.0] * 4


def test_the_numpy_free_view_equals_the_numpy_reading(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0], "C": [0.5, 0.5, 0.2, 0]})
    pset.catch_up()
    ids, rows, mean = flat(pset.conn, tmp_path, FP)
    view_ids, view_rows, view_mean = flat_view(pset.conn, tmp_path, FP)
    assert view_ids == ids == ["A", "B", "C"]
    assert view_rows is not None and view_rows.shape == (3, 4) and view_rows.format == "f"
    assert view_rows.tolist() == np.asarray(rows).tolist()
    assert view_mean == mean.tolist()


def test_centered_removes_the_common_component_and_renormalises(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0], "C": [0.5, 0.5, 0.2, 0]})
    pset.catch_up()
    ids, rows, mean = centered(pset.conn, tmp_path, FP)
    raw = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0.5, 0.5, 0.2, 0]], dtype=np.float32)
    expected = raw - raw.mean(axis=0) * 3 / (3 + CENTER_PRIOR)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert ids == ["A", "B", "C"] and np.allclose(rows, expected, atol=1e-6)


def test_the_view_builds_a_missing_stale_or_damaged_cache(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    path = _cache_path(tmp_path, FP)
    assert not path.exists()
    first = flat_view(pset.conn, tmp_path, FP)
    assert path.exists() and first[0] == ["A", "B"]
    embed(log, {"C": [0, 0, 1, 0]})  # stale: the row is appended, the mean follows
    pset.catch_up()
    ids, rows, mean = flat_view(pset.conn, tmp_path, FP)
    assert ids == ["A", "B", "C"] and rows is not None and rows.tolist()[2] == [0, 0, 1, 0]
    assert mean == pytest.approx([1 / 23, 1 / 23, 1 / 23, 0], abs=1e-7)
    head = flatcache.head_size(4)
    data = bytearray(path.read_bytes())
    data[head] ^= 0xFF  # a flipped byte in the first row: only the checksum shows it
    path.write_bytes(bytes(data))
    ids, rows, _ = flat_view(pset.conn, tmp_path, FP, verify=True)
    assert rows is not None and rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    path.write_bytes(b"garbage")
    assert flat_view(pset.conn, tmp_path, FP)[0] == ["A", "B", "C"]


def test_damaged_sums_are_a_damaged_cache(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    mean = flat(pset.conn, tmp_path, FP)[2].tolist()
    path = _cache_path(tmp_path, FP)
    data = path.read_bytes()
    at = data.index(b'"sums": "') + 9
    path.write_bytes(data[:at] + (b"B" if data[at : at + 1] != b"B" else b"C") + data[at + 1 :])
    assert cache_problem(pset.conn, tmp_path, FP) is not None
    assert flat_view(pset.conn, tmp_path, FP)[2] == mean  # rebuilt, not trusted
    assert cache_problem(pset.conn, tmp_path, FP) is None


def test_an_old_format_cache_and_its_centred_copy_are_rebuilt_from_the_table(tmp_path: Path) -> None:
    """Format 3 (before query-time centring): a float32 file without sums and
    a `.c32` centred copy beside it. Derived files: the first read rebuilds
    the cache in the current format and removes the centred copy."""
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    stamp = list(pset.conn.execute("SELECT dim, count, last_seq, rewritten_seq FROM vector_sets").fetchone())
    header = {"fingerprint": FP, "stamp": stamp, "dim": 4, "count": 2, "rows": 2, "max_id": 2}
    old = (b"MEMMANVEC3\n" + json.dumps(header).encode() + b"\n").ljust(4096, b" ") + b"\0" * 32 + b"A\nB"
    path, centred_copy = _cache_path(tmp_path, FP), _cache_path(tmp_path, FP, "c32")
    path.write_bytes(old)
    centred_copy.write_bytes(old)
    ids, rows, mean = flat_view(pset.conn, tmp_path, FP)
    assert ids == ["A", "B"] and rows is not None and rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert path.read_bytes().startswith(flatcache.MAGIC) and not centred_copy.exists()


def test_a_wide_vector_gets_a_longer_header(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    wide = [float(n) for n in range(1536)]
    log.append(MemoryEmbedded(fingerprint="wide:1536", dim=1536, provenance=Provenance(implementation="t"),
                              vectors=[Vector(memory_id="A", data=np.asarray(wide, dtype="<f4").tobytes())]))  # fmt: skip
    pset.catch_up()
    assert flatcache.head_size(1536) > 4096
    ids, rows, mean = flat_view(pset.conn, tmp_path, "wide:1536")
    assert ids == ["A"] and rows is not None and rows.tolist() == [wide]
    assert flat_view(pset.conn, tmp_path, "wide:1536")[2] == mean  # read back from the file: the same sums
    assert mean == pytest.approx([v / 21 for v in wide], rel=1e-6)


def test_a_cache_that_cannot_be_written_is_answered_from_memory(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    _cache_path(tmp_path, FP).mkdir()  # in the way of the file (root ignores read-only modes)
    ids, rows, mean = flat_view(pset.conn, tmp_path, FP)
    assert ids == ["A", "B"] and rows is not None and rows.shape == (2, 4)
    assert rows.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert mean == pytest.approx([1 / 22, 1 / 22, 0, 0], abs=1e-7)


def test_no_vectors_gives_an_empty_view(tmp_path: Path) -> None:
    _, pset = setup(tmp_path)
    assert flat_view(pset.conn, tmp_path, FP) == ([], None, [])


def _stored_keys(path: Path) -> list[int]:
    header = flatcache.read_header(path, FP)
    assert header is not None
    raw = flatcache.key_bytes(path, header)
    assert raw is not None
    return np.frombuffer(raw, dtype="<u8").tolist()


def test_each_row_s_index_key_is_stored_through_appends_as_in_a_rebuild(tmp_path: Path) -> None:
    """Format 5: readers of the drain's HNSW index take each row's key from
    the cache instead of hashing every id (~1 s at 1M)."""
    from projections.vectorkeys import key_of

    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    refresh(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    assert _stored_keys(path) == [key_of("A"), key_of("B")]
    embed(log, {"C": [0, 0, 1, 0], "D": [0, 0, 0, 1]})
    pset.catch_up()
    inode = path.stat().st_ino
    refresh(pset.conn, tmp_path, FP)
    assert path.stat().st_ino == inode  # appended
    assert _stored_keys(path) == [key_of(i) for i in "ABCD"]
    appended = path.read_bytes()
    path.unlink()
    assert matrix(pset.conn, tmp_path, FP)[0] == list("ABCD")
    assert path.read_bytes() == appended  # byte for byte what a full rebuild writes


def test_damaged_keys_are_refused_and_a_cache_with_them_is_not_appended_to(tmp_path: Path) -> None:
    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    refresh(pset.conn, tmp_path, FP)
    path = _cache_path(tmp_path, FP)
    header = flatcache.read_header(path, FP)
    assert header is not None
    data = bytearray(path.read_bytes())
    data[header["keys_offset"]] ^= 0xFF
    path.write_bytes(bytes(data))
    assert flatcache.key_bytes(path, header) is None
    embed(log, {"C": [0, 0, 1, 0]})
    pset.catch_up()
    refresh(pset.conn, tmp_path, FP)  # cannot append past damaged keys: rewritten whole
    from projections.vectorkeys import key_of

    assert _stored_keys(path) == [key_of(i) for i in "ABC"]


def test_a_format_4_cache_without_keys_is_rebuilt_from_the_table(tmp_path: Path) -> None:
    """A store written before the keys were stored: the first read rebuilds
    its cache (a derived file) in the current format, rows and ids the same."""
    from projections.vectorkeys import key_of

    log, pset = setup(tmp_path)
    embed(log, {"A": [1, 0, 0, 0], "B": [0, 1, 0, 0]})
    pset.catch_up()
    path = _cache_path(tmp_path, FP)
    refresh(pset.conn, tmp_path, FP)
    header = flatcache.read_header(path, FP)
    assert header is not None
    data = path.read_bytes()
    rows = data[header["head"] : header["keys_offset"]]
    ids = data[header["ids_offset"] :]
    old = {k: v for k, v in header.items() if not k.startswith("keys_")} | {"ids_offset": header["keys_offset"]}
    head = (b"MEMMANVEC4\n" + json.dumps(old, sort_keys=True).encode() + b"\n").ljust(header["head"], b" ")
    path.write_bytes(head + rows + ids)
    assert flatcache.read_header(path, FP) is None  # not this format
    found, view, _ = flat_view(pset.conn, tmp_path, FP)
    assert found == ["A", "B"] and view is not None and view.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert path.read_bytes().startswith(flatcache.MAGIC) and _stored_keys(path) == [key_of("A"), key_of("B")]
