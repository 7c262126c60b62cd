"""The drain's vector set past the HNSW threshold (workers/vectors/indexedset.py):
rows read from the flat cache on demand, statuses from the inactive
memories. It must answer exactly what the in-memory set (workers/vectors/vectorset.py)
answers with the same index attached, through adds, re-embeds and removals,
so a drain derives the same events either way; and it is used only when the
in-memory set would have attached the index."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from memman.operations.maintenance import drain_all
from memman.service import Memman
from projections import flatcache
from workers import drain
from tests.workers.clustered import clustered
from workers.vectors import annindex
from workers.vectors.annindex import AnnIndex
from workers.vectors.cacherows import CacheRows
from workers.vectors.indexedset import IndexedVectorSet
from workers.vectors.vectorset import VectorSet

DIM = 32
FP = "test:32"


def _clustered(n: int) -> tuple[list[str], np.ndarray]:
    return clustered(n, DIM, seed=11, clusters=30, spread=0.3)


class _Recorded(AnnIndex):
    """An index that remembers what was added to it, in order."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.log: list[tuple[str, bytes]] = []

    def add_many(self, memory_ids: list[str], rows: np.ndarray, keys: np.ndarray | None = None) -> None:
        self.log.extend(zip(memory_ids, (np.asarray(r, dtype=np.float32).tobytes() for r in rows)))
        super().add_many(memory_ids, rows, keys)


def _index(ids: list[str], rows: np.ndarray) -> _Recorded:
    """A saved index's stand-in: every row but the last 40 (added since)."""
    ann = _Recorded(DIM)
    ann.add_many(ids[:-40], rows[:-40])
    return ann


def _pair(tmp_path: Path, n: int = 600) -> tuple[VectorSet, IndexedVectorSet, list[str], np.ndarray]:
    ids, rows = _clustered(n)
    inactive = set(ids[5::7])  # superseded or forgotten before the drain
    path = tmp_path / "vectors.f32"
    flatcache.write(path, FP, (DIM, n, 9, 0), ids, rows)
    memory = VectorSet.of(DIM, ids, rows, set(ids) - inactive)
    memory.attach(_index(ids, rows))
    base = CacheRows.open(path, FP, (DIM, n, 9, 0))
    assert base is not None
    indexed = IndexedVectorSet(DIM, base, inactive, n - len(inactive))
    indexed.attach(_index(ids, rows))
    return memory, indexed, ids, rows


def _queries(rows: np.ndarray, count: int, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    queries = rows[:count] + 0.2 * noise
    return (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)


def _same(memory: VectorSet, indexed: IndexedVectorSet, queries: np.ndarray, ids: list[str]) -> None:
    for q in queries:
        for k in (1, 5, 16):
            assert indexed.top(q, k) == memory.top(q, k)  # ids, exact scores and their order
        assert indexed.top(q, 8, min_similarity=0.5) == memory.top(q, 8, min_similarity=0.5)
    for memory_id in [*ids, "unknown"]:
        want, got = memory.get(memory_id), indexed.get(memory_id)
        assert (got is None) == (want is None), memory_id
        if want is not None:
            assert got is not None and got.tobytes() == want.tobytes()
            assert float(got @ queries[0]) == float(want @ queries[0])


def test_attaching_adds_the_same_rows_in_the_same_order(tmp_path: Path) -> None:
    memory, indexed, ids, rows = _pair(tmp_path)
    assert memory.ann is not None and indexed.ann is not None
    assert len(indexed.ann) == len(memory.ann) and indexed.ann.added == memory.ann.added
    assert isinstance(indexed.ann, _Recorded) and isinstance(memory.ann, _Recorded)
    assert indexed.ann.log == memory.ann.log  # the same rows, in the same order (HNSW's graph depends on it)
    held = np.asarray(indexed.ann.index.contains(indexed._base.keys))  # type: ignore[attr-defined]
    assert held.tolist() == np.asarray(memory.ann.index.contains(indexed._base.keys)).tolist()  # type: ignore[attr-defined]
    assert [bool(h) for h in held[-40:]] == [i not in indexed._inactive for i in ids[-40:]]  # the active ones added


def test_it_answers_what_the_in_memory_set_answers_through_a_drains_changes(tmp_path: Path) -> None:
    memory, indexed, ids, rows = _pair(tmp_path)
    _same(memory, indexed, _queries(rows, 40, 1), ids)
    fresh = _queries(rows[100:], 30, 2)
    for step, vector in enumerate(fresh):  # what a drain does: new memories, retirements, re-embeds
        for vectors in (memory, indexed):
            vectors.add(f"new{step:03d}", vector)
            vectors.remove(ids[step * 3])  # active, inactive or already removed
            if step % 5 == 0:
                vectors.add(ids[step * 7 + 1], vector)  # a row re-embedded in place (or an inactive one re-added)
            if step % 4 == 0:
                vectors.remove(f"new{step - 4:03d}")  # one the drain added, retired again
        _same(memory, indexed, _queries(rows[step:], 3, 3 + step), [*ids, f"new{step:03d}"])
    assert len(indexed) <= len(memory)


def test_reading_the_cache_refuses_another_stamp_or_damaged_ids_and_never_reads_a_rewrite(tmp_path: Path) -> None:
    ids, rows = _clustered(50)
    path = tmp_path / "vectors.f32"
    flatcache.write(path, FP, (DIM, 50, 9, 0), ids, rows)
    assert CacheRows.open(path, FP, (DIM, 50, 10, 0)) is None  # the set moved on since
    assert CacheRows.open(path, "other:32", (DIM, 50, 9, 0)) is None
    assert CacheRows.open(tmp_path / "missing.f32", FP, (DIM, 50, 9, 0)) is None
    base = CacheRows.open(path, FP, (DIM, 50, 9, 0))
    assert base is not None and base.position(int(base.keys[7])) == 7 and base.position(12345) is None
    assert base.positions([int(base.keys[3]), 99, int(base.keys[0])]).tolist() == [3, -1, 0]
    flatcache.write(path, FP, (DIM, 50, 11, 11), ids, -rows)  # a purge or re-embed rewrites the file (a rename)
    assert base.rows([3]).tobytes() == rows[3].tobytes()  # the open file is the one that was checked
    header = flatcache.read_header(path, FP)
    assert header is not None
    with path.open("r+b") as f:
        f.seek(header["ids_offset"])
        f.write(b"X")
    assert CacheRows.open(path, FP, (DIM, 50, 11, 11)) is None


TEXTS = [
    "The billing service timeout is 30s", "Priya prefers Helix for code review",
    "We chose Postgres over MySQL because of JSONB", "The checkout project deploys to us-east-1",
    "Dana owns the auth service", "Run database migrations with alembic upgrade head",
    "The payments API retry limit is 5", "The search cluster runs OpenSearch 2.11",
    "The billing service timeout is now 45s", "Priya switched to Zed for code review",
    "Dana no longer owns the auth service; Omar does", "The search cluster runs OpenSearch 2.13",
]


def _derived(app: Memman) -> list[object]:
    """Every derived event, ids numbered by first appearance (the digest of
    tools/drain_digest.py: decisions, candidates, similarities, edges)."""
    import sys

    import msgspec

    root = str(Path(__file__).resolve().parents[2] / "tools")
    sys.path.insert(0, root)
    try:
        from drain_digest import _normal
    finally:
        sys.path.remove(root)
    names: dict[str, str] = {}
    types = ["facts.extracted", "memory.reconciled", "memory.embedded", "edges.inferred"]
    return [_normal(msgspec.to_builtins(r.event, enc_hook=bytes), names) for r in app.db.log.read(types=types)]


def _drain_in_passes(data_dir: Path) -> list[object]:
    start = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
    with Memman(data_dir) as app:
        for first in range(0, len(TEXTS), 3):
            for n, text in enumerate(TEXTS[first : first + 3], start=first):
                app.remember(text, at=start + timedelta(minutes=7 * n))
            drain_all(data_dir)
        return _derived(app)


def test_a_drain_past_the_threshold_reads_rows_on_demand_and_derives_the_same_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(annindex, "MIN_ROWS", 3)
    monkeypatch.setattr(annindex, "SAVE_AFTER", 1)
    real = drain.indexed_vectors
    used: list[IndexedVectorSet] = []

    def counted(db: object, embedder: object) -> IndexedVectorSet | None:
        found = real(db, embedder)  # type: ignore[arg-type]
        if found is not None:
            used.append(found)
        return found

    monkeypatch.setattr(drain, "indexed_vectors", lambda db, embedder: None)
    in_memory = _drain_in_passes(tmp_path / "in-memory")
    monkeypatch.setattr(drain, "indexed_vectors", counted)
    assert _drain_in_passes(tmp_path / "indexed") == in_memory
    assert len(used) >= 2  # every pass after the one that saved the first index
    assert any(r["decisions"] and r["decisions"][0]["candidates"] for r in in_memory if "decisions" in r)  # type: ignore[index,operator]


def test_the_in_memory_set_decides_near_the_threshold(app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows less inactive memories below the threshold: the in-memory set
    (which counts exactly) is loaded, and it decides whether to attach."""
    for text in TEXTS[:6]:
        app.remember(text)
    drain_all(data_dir)
    fingerprint = app.db.setting("embedder")
    assert fingerprint is not None
    rows = app.db.vectors.conn.execute("SELECT count FROM vector_sets").fetchone()[0]
    inactive = len(app.db.main.conn.execute(drain.INACTIVE_SQL).fetchall())
    app.remember(TEXTS[6])  # a pending input: counted as not active until drained
    monkeypatch.setattr(annindex, "SAVE_AFTER", 1)
    monkeypatch.setattr(annindex, "MIN_ROWS", rows - inactive - 1)
    drain_all(data_dir)  # builds and saves the index (the in-memory set, no index saved before)
    from workers.drain import bind_embedder, indexed_vectors

    embedder = bind_embedder(app.db)
    app.db.catch_up()
    assert isinstance(indexed_vectors(app.db, embedder), IndexedVectorSet)
    monkeypatch.setattr(annindex, "MIN_ROWS", app.db.vectors.conn.execute("SELECT count FROM vector_sets").fetchone()[0] + 1)
    assert indexed_vectors(app.db, embedder) is None


def test_a_large_stores_float16_cache_gives_the_same_rows_and_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From flatcache.HALF_ROWS rows on, the cache holds float16 rows (the
    stored vectors' own precision): read back widened, exactly."""
    monkeypatch.setattr(flatcache, "HALF_ROWS", 100)
    ids, rows = _clustered(400)
    rows = rows.astype(np.float16).astype(np.float32)  # what storing them rounds to
    path = tmp_path / "vectors.f32"
    flatcache.write(path, FP, (DIM, 400, 9, 0), ids, rows)
    header = flatcache.read_header(path, FP)
    assert header is not None and header["dtype"] == flatcache.FLOAT16
    base = CacheRows.open(path, FP, (DIM, 400, 9, 0))
    assert base is not None and base.rows([3, 0, 399]).tobytes() == rows[[3, 0, 399]].tobytes()
    inactive = set(ids[::9])
    memory = VectorSet.of(DIM, ids, rows, set(ids) - inactive)
    memory.attach(_index(ids, rows))
    indexed = IndexedVectorSet(DIM, base, inactive, 400 - len(inactive))
    indexed.attach(_index(ids, rows))
    _same(memory, indexed, _queries(rows, 20, 5), ids)
