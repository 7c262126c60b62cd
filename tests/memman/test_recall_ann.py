"""Vector candidates from the drain's HNSW index for large stores
(memman/recall/ann.py). The thresholds are lowered here so a store of a
hundred memories takes the index path a store of 50k takes with the shipped
ones: its answers must be the exact scan's (the index is asked for more
neighbours than the store has rows, so only the arithmetic differs), a
memory embedded after the index was saved must still be found, and without
an index file recall scans exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.recall import ann, recall
from memman.service import Memman
from projections import flatcache
from workers.vectors import annindex

TOPICS = ["billing", "deploys", "editors", "databases", "lunch", "travel", "hiring", "security"]
TEXTS = [f"Note {n} about {TOPICS[n % len(TOPICS)]}: detail number {n * 7} for the {TOPICS[(n * 3) % len(TOPICS)]} team" for n in range(90)]
QUERIES = ["how do we ship code to production", "billing team details", "who is hiring", "security review notes"]


@pytest.fixture
def app(data_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(annindex, "MIN_ROWS", 20)  # the drain keeps and saves an index for this small store
    monkeypatch.setattr(annindex, "SAVE_AFTER", 20)
    with Memman(data_dir) as service:
        for text in TEXTS[:60]:
            service.remember(text)
        drain_all(data_dir)  # a drain attaches the index when the store holds MIN_ROWS vectors as it starts
        for text in TEXTS[60:]:
            service.remember(text)
        service.remember("Deployments go through GitHub Actions on every merge to main")
        drain_all(data_dir)
        yield service


def _index_files(data_dir: Path) -> list[Path]:
    return list((data_dir / "stores" / "default").glob("vectors-*.hnsw"))


def _results(app: Memman, query: str) -> list[tuple[str, float, int | None]]:
    return [(h.id, round(h.score, 3), h.signals.vector_rank) for h in recall(app.fresh(), app.store, query).results]


def test_the_index_path_answers_as_the_exact_scan(app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _index_files(data_dir)
    exact = [_results(app, q) for q in QUERIES]
    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    loaded: list[object] = []
    real = ann._load
    monkeypatch.setattr(ann, "_load", lambda *a: loaded.append(real(*a)) or loaded[-1])
    assert [_results(app, q) for q in QUERIES] == exact
    assert loaded and all(isinstance(n, ann.Neighbourhood) for n in loaded)  # the index answered, not the scan
    assert any(rank is not None for r in exact for _, _, rank in r)


def test_a_memory_embedded_after_the_index_was_saved_is_found(app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = {p: p.stat().st_mtime_ns for p in _index_files(data_dir)}
    new = app.remember("Quarterly penetration test of the payment gateway found two issues").id
    drain_all(data_dir)  # one row: below SAVE_AFTER, so the saved index lacks it
    assert {p: p.stat().st_mtime_ns for p in _index_files(data_dir)} == saved
    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    found = {i: rank for i, _, rank in _results(app, "security audit of payments")}
    assert new in found and found[new] is not None  # by the vector channel


def test_without_an_index_file_recall_scans(app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = [_results(app, q) for q in QUERIES]
    for path in _index_files(data_dir):
        path.unlink()
    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    assert [_results(app, q) for q in QUERIES] == exact


def test_a_damaged_flat_cache_falls_back_to_the_scan_which_rebuilds_it(
    app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = [_results(app, q) for q in QUERIES]
    [cache] = (data_dir / "stores" / "default").glob("vectors-*.f32")
    head = flatcache.head_size(256)
    data = bytearray(cache.read_bytes())
    data[head : head + 1024] = b"\xff" * 1024  # NaNs over the first row (256 float32)
    cache.write_bytes(bytes(data))
    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    loaded: list[object] = []
    real = ann._load
    monkeypatch.setattr(ann, "_load", lambda *a: loaded.append(real(*a)) or loaded[-1])
    assert [_results(app, q) for q in QUERIES] == exact
    assert loaded and b"\xff" * 1024 not in cache.read_bytes()  # the index path saw it; the scan rebuilt the cache


def test_row_keys_reuse_a_prefix_and_recompute_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a drain appended rows, the warm server hashes only the new ids
    (hashing 1M ids costs ~2 s); keys are a pure function of the ids either way."""
    from projections import vectorkeys
    from projections.vectorkeys import key_of

    first = ann.RowKeys.of(["a", "b"], None)
    hashed: list[str] = []
    monkeypatch.setattr(vectorkeys, "key_of", lambda i: hashed.append(i) or key_of(i))
    grown = ann.RowKeys.of(["a", "b", "c"], first)
    assert hashed == ["c"] and grown.keys.tolist() == [key_of(i) for i in "abc"]
    other = ann.RowKeys.of(["b", "a", "c"], first)  # not a prefix (a rebuilt cache): all hashed again
    assert hashed == ["c", "b", "a", "c"] and other.keys.tolist() == [key_of(i) for i in "bac"]
    assert ann.RowKeys.of(["a"], first).keys.tolist() == [key_of("a")]  # fewer rows: recomputed


def _loads(monkeypatch: pytest.MonkeyPatch) -> list[ann.Neighbourhood | None]:
    loaded: list[ann.Neighbourhood | None] = []
    real = ann._load
    monkeypatch.setattr(ann, "_load", lambda *a: loaded.append(real(*a)) or loaded[-1])
    return loaded


def test_the_index_path_reads_rows_and_keys_from_the_file_not_the_mapping(
    app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows it scores are read with pread (the mapping's pages never
    become the server's resident memory) and each row's key comes from the
    cache: no id is hashed on load, and the answers are the exact scan's."""
    from projections import vectorkeys

    exact = [_results(app, q) for q in QUERIES]
    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    mapped: list[object] = []
    real_matrix = ann._matrix
    monkeypatch.setattr(ann, "_matrix", lambda rows: mapped.append(rows) or real_matrix(rows))
    hashed: list[str] = []
    real_key = vectorkeys.key_of
    monkeypatch.setattr(vectorkeys, "key_of", lambda i: hashed.append(i) or real_key(i))
    loaded: list[tuple[ann.Neighbourhood | None, list[str]]] = []
    real_load = ann._load

    def load(*args: object) -> ann.Neighbourhood | None:
        hashed.clear()
        loaded.append((real_load(*args), list(hashed)))  # type: ignore[arg-type]
        return loaded[-1][0]

    monkeypatch.setattr(ann, "_load", load)
    assert [_results(app, q) for q in QUERIES] == exact
    [(near, hashed_on_load)] = loaded
    assert isinstance(near, ann.Neighbourhood) and isinstance(near.source, ann.RowFile)
    assert not mapped and not hashed_on_load  # no row read through the mapping, no id hashed
    assert near.keys.tolist() == sorted(real_key(i) for i in near.row_keys.ids)


def test_a_cache_file_that_does_not_hold_the_mapped_ids_is_not_read(app: Memman, data_dir: Path) -> None:
    """A rewrite since the rows were mapped (another file, other rows): the
    file is refused, and recall reads the rows it mapped."""
    db = app.fresh()
    [cache] = (data_dir / "stores" / "default").glob("vectors-*.f32")
    fingerprint = db.vectors.conn.execute("SELECT fingerprint FROM vector_sets").fetchone()[0]
    header = flatcache.read_header(cache, fingerprint)
    assert header is not None
    ids = (cache.read_bytes()[header["ids_offset"] :]).decode().split("\n")
    assert ann.RowFile.open(cache, fingerprint, ids) is not None
    assert ann.RowFile.open(cache, fingerprint, ids[:-1]) is None
    assert ann.RowFile.open(cache, fingerprint, [*ids[1:], ids[0]]) is None
    assert ann.RowFile.open(cache, "other:256", ids) is None


def test_a_drain_after_a_recall_is_seen_by_the_next_recall_on_the_same_handle(
    app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the warm server: one store handle keeps the index's
    Neighbourhood; a drain appends rows (and their keys) to the cache, and
    the next recall loads again from the appended file."""
    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    loaded = _loads(monkeypatch)
    db = app.fresh()
    before = recall(db, app.store, "security audit of payments").results
    new = app.remember("Quarterly penetration test of the payment gateway found two issues").id
    drain_all(data_dir)
    found = {h.id: h.signals.vector_rank for h in recall(app.fresh(), app.store, "security audit of payments").results}
    assert before and new in found and found[new] is not None
    assert len(loaded) == 2 and all(isinstance(n, ann.Neighbourhood) and isinstance(n.source, ann.RowFile) for n in loaded)
    assert new in loaded[1].row_keys.ids and new not in loaded[0].row_keys.ids


def test_the_drain_records_which_rows_its_saved_index_lacks_and_an_older_stamp_still_works(
    app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved stamp says which flat-cache rows the index lacks (the rows
    it was checked against, and every row appended since), so recall does
    not ask the index about every key; an index saved before the stamp said
    so is asked, with the same answer."""
    import json

    from projections.vectorkeys import key_of

    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    new = app.remember("Quarterly penetration test of the payment gateway found two issues").id
    drain_all(data_dir)  # one row appended after the save: the index lacks it
    [index] = _index_files(data_dir)
    meta = index.with_name(index.name + ".json")
    stamp = json.loads(meta.read_text())
    db = app.fresh()
    fingerprint = stamp["fingerprint"]
    loaded = annindex.AnnIndex.load(index, fingerprint, stamp["dim"], stamp["rewritten_seq"], view=True)
    assert loaded is not None
    [cache] = (data_dir / "stores" / "default").glob("vectors-*.f32")
    header = flatcache.read_header(cache, fingerprint)
    assert header is not None
    ids = cache.read_bytes()[header["ids_offset"] :].decode().split("\n")
    asked = [i for i, m in enumerate(ids) if not loaded.index.contains(key_of(m))]  # type: ignore[attr-defined]
    assert stamp["rows"] < len(ids) and asked and (lacking := loaded.lacking(len(ids))) is not None
    assert sorted(lacking.tolist()) == asked
    recorded = ann._load(db, fingerprint, ids, memoryview(b""), [0.0] * stamp["dim"])
    meta.write_text(json.dumps({k: v for k, v in stamp.items() if k not in ("rows", "lacking", "lacking_crc32")}))
    older = ann._load(db, fingerprint, ids, memoryview(b""), [0.0] * stamp["dim"])
    assert recorded is not None and older is not None
    assert recorded.unindexed.tolist() == older.unindexed.tolist() == [ids.index(new)]  # the lacking rows that are active


def _scores(app: Memman, query: str) -> list[tuple[str, float, float | None]]:
    """Every result's id, score and vector similarity, unrounded."""
    return [(h.id, h.score, h.signals.similarity) for h in recall(app.fresh(), app.store, query).results]


def _recached(data_dir: Path) -> Path:
    """The flat cache deleted, so the next read writes it under the current thresholds."""
    [cache] = (data_dir / "stores" / "default").glob("vectors-*.f32")
    cache.unlink()
    return cache


def test_float16_rows_give_the_float32_rows_scores_on_the_index_path_and_the_scan(
    app: Memman, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large store's cache keeps float16 rows (flatcache.HALF_ROWS, lowered
    here with ANN_ROWS): the index path reads its candidates' rows (pread,
    or through the mapping when the file cannot be opened as mapped) and the
    scan without an index widens them, and every score is the one a float32
    cache gives, to the last bit."""
    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    indexed = [_scores(app, q) for q in QUERIES]
    index_files = {p: p.read_bytes() for p in _index_files(data_dir)}
    for path in index_files:
        path.unlink()
    scanned = [_scores(app, q) for q in QUERIES]
    for path, data in index_files.items():
        path.write_bytes(data)
    monkeypatch.setattr(flatcache, "HALF_ROWS", 20)
    cache = _recached(data_dir)
    assert [_scores(app, q) for q in QUERIES] == indexed
    fingerprint = app.fresh().vectors.conn.execute("SELECT fingerprint FROM vector_sets").fetchone()[0]
    header = flatcache.read_header(cache, fingerprint)
    assert header is not None and header["dtype"] == "<f2"
    monkeypatch.setattr(ann.RowFile, "open", classmethod(lambda cls, *a: None))  # rows through the mapping
    assert [_scores(app, q) for q in QUERIES] == indexed
    for path in index_files:
        path.unlink()
    assert [_scores(app, q) for q in QUERIES] == scanned
    assert any(s is not None for r in indexed for _, _, s in r)


def test_the_float16_threshold_is_the_index_path_s() -> None:
    """Float16 rows are only worth it where recall reads candidates, not every row."""
    assert flatcache.HALF_ROWS == ann.ANN_ROWS


@pytest.mark.parametrize("count", [1, 6, 50, 500])
def test_which_lacking_rows_are_active_is_read_by_id_not_through_the_status_index(app: Memman, count: int) -> None:
    """The status index walks every active row (9 s for 50 ids at 1M); the
    old `status = 'active' AND id IN (...)` took it from six ids on."""
    conn = app.fresh().main.conn

    def plan(sql: str) -> str:
        return " ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, tuple(f"m{n}" for n in range(count))))

    old = f"SELECT id FROM memories WHERE status = 'active' AND id IN ({','.join('?' * count)})"
    if count >= 6:
        assert "memories_status" in plan(old)  # the trap this guards against, on this SQLite
    now = plan(ann.active_sql(count))
    assert "memories_status" not in now and "autoindex" in now.lower(), now
    active = [r[0] for r in conn.execute("SELECT id FROM memories WHERE status = 'active' LIMIT 3")]
    conn.execute("UPDATE memories SET forgotten = 1 WHERE id = ?", (active[0],))
    assert ann._active(app.fresh(), active + ["no-such-id"]) == set(active[1:])


def test_vector_candidates_kinds_are_read_in_rank_order_only_until_enough_are_kept(
    app: Memman, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_kept` reads the kinds of the best candidates a chunk at a time: the
    same hits as reading all of them, filters and inactive ones included."""
    from memman.recall import vector

    db = app.fresh()
    conn = db.main.conn
    rows = [r[0] for r in conn.execute("SELECT id FROM memories WHERE status = 'active' ORDER BY key")]
    others = [r[0] for r in conn.execute("SELECT id FROM memories WHERE status != 'active' ORDER BY key")]
    conn.execute("UPDATE memories SET forgotten = 1 WHERE id IN (?, ?)", (rows[1], rows[4]))
    best = [(m, 1.0 - n / 1000) for n, m in enumerate([*rows[:20], "no-such-id", *others, *rows[20:]])]
    asked: list[int] = []
    real = vector.kinds_by_id
    monkeypatch.setattr(vector, "kinds_by_id", lambda c, ids: asked.append(len(ids)) or real(c, ids))
    categories = [r[0] for r in conn.execute("SELECT DISTINCT category FROM memories WHERE status = 'active'")]
    sizes = set()
    for category in (None, *categories):
        monkeypatch.setattr(vector, "KINDS_CHUNK", 10**6)
        whole = vector._kept(db, best, 0.1, 0.2, category, None)
        sizes.add(len(whole))
        for chunk in (1, 3, 7):
            monkeypatch.setattr(vector, "KINDS_CHUNK", chunk)
            assert vector._kept(db, best, 0.1, 0.2, category, None) == whole
    assert len(sizes) > 1  # the category filter dropped some
    monkeypatch.setattr(vector, "CANDIDATES", 5)
    monkeypatch.setattr(vector, "KINDS_CHUNK", 6)
    asked.clear()
    kept = vector._kept(db, best, 0.1, 0.2, None, None)
    assert [h.memory_id for h in kept] == [rows[0], rows[2], rows[3], rows[5], rows[6]]
    assert asked == [6, 6]  # two forgotten among the first six: one more chunk, then no more


def test_the_index_paths_similarities_are_read_once_per_query_and_answer_as_computed(
    app: Memman, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memman.recall import vector
    from memman.recall.scan import unit_difference

    monkeypatch.setattr(ann, "ANN_ROWS", 20)
    db = app.fresh_vectors()
    fingerprint = db.setting("embedder")
    flat = vector._flat(db, fingerprint)
    near = ann.neighbourhood(db, fingerprint, flat.ids, flat.rows, flat.mean, vector._version(db, fingerprint))
    assert near is not None
    q = unit_difference([float((n * 37) % 11 - 5) for n in range(len(flat.mean))], flat.mean)
    assert q is not None
    scores = vector._NearScores(near, q, flat.ids, 0.0, 1.0)
    read: list[int] = []
    real = near.rows
    monkeypatch.setattr(near, "rows", lambda positions: read.append(len(positions)) or real(positions))
    first, second = flat.ids[:10] + ["no-such-id"], flat.ids[5:15] + ["no-such-id"]

    def same(asked: list[str]) -> None:  # a product's last bit depends on the rows computed with it
        found, direct = scores.cosine(asked), ann.similarity_of(near, q, flat.ids, asked)
        assert found.keys() == direct.keys() and len(found) == len(set(asked) - {"no-such-id"})
        assert all(found[m] == pytest.approx(direct[m], rel=1e-12, abs=1e-15) for m in found)

    same(first)
    same(second)
    same(first[:3])
    # cosine: 10 rows, then the 5 new ones, then none; similarity_of: every row each time
    assert read == [10, 10, 5, 10, 3]
