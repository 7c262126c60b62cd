"""Effective importance (memman/lifecycle/retention.py) and the fold of
recorded use into the log (memman/lifecycle/access.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from memman.lifecycle.access import ACCESS_FILE, fold, record
from memman.lifecycle.retention import RetentionPolicy, Usage, figures, rank_factor
from memman.service import Memman

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
POLICY = RetentionPolicy()


def _iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_decay_halves_the_part_above_the_floor_every_half_life() -> None:
    fresh = figures(3, False, _iso(0), None, NOW, POLICY)
    one = figures(3, False, _iso(90), None, NOW, POLICY)
    assert fresh.effective == 3.0 and fresh.decay == 1.0
    assert one.decay == round(0.3 + 0.7 * 0.5, 4)  # one half-life
    assert figures(3, False, _iso(10_000), None, NOW, POLICY).decay == 0.3  # the floor


def test_use_resets_idleness_and_boosts_by_the_log_of_uses() -> None:
    used = figures(3, False, _iso(300), Usage(uses=3, last_used_at=_iso(0)), NOW, POLICY)
    assert used.idle_days == 0 and used.boost == 1.0  # 0.5 x log2(1 + 3)
    assert figures(3, False, _iso(0), Usage(uses=10**6, last_used_at=_iso(0)), NOW, POLICY).boost == POLICY.max_boost


def test_protected_memories_do_not_decay_and_the_factor_is_neutral_at_three() -> None:
    assert figures(2, True, _iso(1000), None, NOW, POLICY).decay == 1.0
    assert rank_factor(3.0, POLICY) == 1.0
    assert rank_factor(0.0, RetentionPolicy(rank_weight=0.2)) > 0  # never zero or negative


def test_fold_counts_uses_once_skipping_torn_lines_and_unknown_ids(data_dir: Path) -> None:
    with Memman(data_dir) as app:
        a = app.remember("The gateway runs on port 8443").id
        b = app.remember("The cron job rotates logs nightly").id
        app.fresh()
        directory = app.db.directory
        record(directory, [a, b], NOW)
        record(directory, [a], NOW + timedelta(minutes=1))
        with open(directory / ACCESS_FILE, "ab") as f:
            f.write(b"torn line\n2026-06-01T00:00:00.000000Z 01ZZZZZZZZZZZZZZZZZZZZZZZZ\n")
        assert fold(app.db) == 3
        [event] = [r.event for r in app.db.log.read(types={"memory.accessed"})]
        assert {x.memory_id: x.count for x in event.accesses} == {a: 2, b: 1}
        assert not (directory / ACCESS_FILE).exists()
        app.db.main.catch_up()
        assert app.db.main.conn.execute("SELECT uses FROM usage WHERE memory_id=?", (a,)).fetchone()[0] == 2


def test_a_fold_interrupted_after_its_append_is_not_counted_twice(data_dir: Path) -> None:
    with Memman(data_dir) as app:
        a = app.remember("The search index rebuilds on Sundays").id
        app.fresh()
        directory = app.db.directory
        record(directory, [a], NOW)
        fold(app.db)
        [event] = [r.event for r in app.db.log.read(types={"memory.accessed"})]
        # as if the process died after appending, before deleting its batch file
        (directory / f"access.{event.batch}.folding").write_text(f"{'2026-06-01T00:00:00.000000Z'} {a}\n")
        assert fold(app.db) == 0
        assert len(list(app.db.log.read(types={"memory.accessed"}))) == 1
        assert not list(directory.glob("access.*"))
