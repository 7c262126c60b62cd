"""A long-running worker's vector sets kept between drains (workers/vectors/kept.py):
reused while only new inputs (and other events that change no status and
no vector) came in, loaded afresh after anything else, and deriving what
a fresh load derives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.scheduler.serve import run_pass
from memman.service import Memman
from workers import drain
from workers.vectors import annindex
from workers.vectors.kept import KeptVectors

TEXTS = [
    "The billing service timeout is 30s", "Priya prefers Helix for code review",
    "We chose Postgres over MySQL because of JSONB", "The checkout project deploys to us-east-1",
    "Dana owns the auth service", "Run database migrations with alembic upgrade head",
    "The billing service timeout is now 45s", "Priya switched to Zed for code review",
    "Dana no longer owns the auth service; Omar does", "The payments API retry limit is 5",
]
START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a drain loaded its vector set from the store."""
    real, counted = drain.load_vectors, []

    def load(db, embedder):  # type: ignore[no-untyped-def]
        counted.append(1)
        return real(db, embedder)

    monkeypatch.setattr(drain, "load_vectors", load)
    return counted


def _reconciled(app: Memman) -> list[object]:
    return [
        [(d.action, d.reason, [round(c.similarity or 0, 4) for c in d.candidates]) for d in r.event.decisions]  # type: ignore[attr-defined]
        for r in app.db.log.read(types=["memory.reconciled"])
    ]


def _passes(data_dir: Path, kept: KeptVectors | None) -> list[object]:
    with Memman(data_dir) as app:
        for first in range(0, len(TEXTS), 2):
            for n, text in enumerate(TEXTS[first : first + 2], start=first):
                app.remember(text, at=START + timedelta(minutes=5 * n))
            drain_all(data_dir, kept=kept)
        return _reconciled(app)


def test_a_kept_set_is_reused_across_passes_and_derives_what_a_fresh_load_derives(
    tmp_path: Path, loads: list[int]
) -> None:
    fresh = _passes(tmp_path / "fresh", None)
    assert len(loads) == 5
    loads.clear()
    kept = KeptVectors()
    assert _passes(tmp_path / "kept", kept) == fresh
    assert len(loads) == 1 and len(kept) == 1  # loaded by the first pass only


def test_a_kept_set_past_the_index_threshold_is_reused_with_its_index(
    tmp_path: Path, loads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(annindex, "MIN_ROWS", 3)
    kept = KeptVectors()
    got = _passes(tmp_path / "kept", kept)
    assert len(loads) <= 2 and len(got) == len(TEXTS)  # the index attached once, then kept


def test_a_forget_or_another_drain_between_passes_means_loading_afresh(
    app: Memman, data_dir: Path, loads: list[int]
) -> None:
    kept = KeptVectors()
    for text in TEXTS[:3]:
        app.remember(text)
    drain_all(data_dir, kept=kept)
    app.remember(TEXTS[3])
    row = app.db.main.conn.execute("SELECT id FROM memories WHERE status = 'active' LIMIT 1").fetchone()
    app.forget(row[0])
    drain_all(data_dir, kept=kept)
    assert len(loads) == 2  # the forget changed a status: loaded again
    app.remember(TEXTS[4])
    drain_all(data_dir)  # another worker (no kept set): the vector set's stamp moves
    app.remember(TEXTS[5])
    drain_all(data_dir, kept=kept)
    assert len(loads) == 4
    app.remember(TEXTS[6])
    drain_all(data_dir, kept=kept)
    assert len(loads) == 4  # nothing but an input since: kept


def test_the_serve_loops_passes_keep_the_set(data_dir: Path, app: Memman, loads: list[int]) -> None:
    kept = KeptVectors()
    for n, text in enumerate(TEXTS[:4]):
        app.remember(text, at=START + timedelta(minutes=n))
        report = run_pass(data_dir, "serve", kept=kept)
        assert report.ran and report.processed == 1
    assert len(loads) == 1 and len(kept) == 1
