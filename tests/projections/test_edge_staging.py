"""A replay from the start stages inferred edges and moves them into place
by one sorted upsert (projections/graph.py, `_STAGE`): the rows are those
the one-by-one upserts build, whatever links, unlinks, edge policies and
purges come between, and staged rows a replay left behind are moved in by
the next catch-up."""

from __future__ import annotations

import random
from pathlib import Path

from events.log import EventLog
from events.types import Edge, EdgeLinked, EdgesInferred, EdgeUnlinked, MemoryPurged, Provenance, StoreConfigured
from projections.graph import EDGE_POLICY_SETTING, GraphProjector
from projections.runner import ProjectionSet

RULES = Provenance(implementation="rules")
IDS = [f"M{i:02d}" for i in range(12)]


def _history(log: EventLog, seed: int) -> None:
    """Inferred edges that repeat (src, dst, kind) with new weights, and
    every other graph event in between."""
    r = random.Random(seed)
    for step in range(120):
        roll = r.random()
        if roll < 0.75:
            edges = [
                Edge(src=r.choice(IDS), dst=r.choice(IDS), edge_type=r.choice(["temporal", "entity", "semantic"]),
                     weight=round(r.random(), 3), meta={"step": str(step)} if r.random() < 0.5 else {})
                for _ in range(r.randint(0, 6))
            ]  # fmt: skip
            log.append(EdgesInferred(edges=edges, provenance=RULES))
        elif roll < 0.85:
            log.append(EdgeLinked(src=r.choice(IDS), dst=r.choice(IDS), edge_type=r.choice(["temporal", "depends on"]), weight=2.0))
        elif roll < 0.93:
            log.append(EdgeUnlinked(src=r.choice(IDS), dst=r.choice(IDS), edge_type=r.choice(["temporal", "entity", "depends on"])))
        elif roll < 0.97:
            log.append(StoreConfigured(setting=EDGE_POLICY_SETTING, value=str(step)))
        else:
            log.append(MemoryPurged(purged=[r.choice(IDS)], reason="test"))


def _rows(pset: ProjectionSet) -> list[tuple]:  # type: ignore[type-arg]
    return pset.conn.execute("SELECT * FROM edge_rows ORDER BY src, dst, kind").fetchall()


def _build(tmp_path: Path, name: str, log: EventLog, *, bulk: bool, batch: int) -> ProjectionSet:
    pset = ProjectionSet(tmp_path / f"{name}.db", [GraphProjector()], log)
    pset.bulk_min = 1 if bulk else 10**9
    pset.catch_up(batch=batch)
    return pset


def test_a_staged_replay_builds_the_rows_the_upserts_build(tmp_path: Path) -> None:
    for seed in range(6):
        log = EventLog(tmp_path / f"log{seed}.db")
        _history(log, seed)
        one_by_one = _build(tmp_path, f"inc{seed}", log, bulk=False, batch=7)
        staged = _build(tmp_path, f"bulk{seed}", log, bulk=True, batch=5000)
        assert _rows(staged) == _rows(one_by_one)
        assert staged.conn.execute("SELECT count(*) FROM edge_stage").fetchone()[0] == 0
        for pset in (one_by_one, staged):
            pset.close()
        log.close()


def test_rows_a_stopped_replay_staged_are_moved_in_by_the_next_catch_up(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    _history(log, 7)
    expected = _build(tmp_path, "inc", log, bulk=False, batch=5000)
    pset = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    pset.bulk_min = 1
    pset.catch_up(upto=60)  # stages, then ends bulk mode (flushes)
    pset.conn.execute("INSERT INTO checkpoints (name, seq, version) VALUES ('bulk:graph', 0, -1)")
    pset.catch_up(upto=100)  # bulk mode on again (as a replay another process's bulk_end interrupted): staged
    assert pset.conn.execute("SELECT count(*) FROM edge_stage").fetchone()[0] > 0
    pset.conn.execute("DELETE FROM checkpoints WHERE name = 'bulk:graph'")  # another process ended bulk mode
    pset.catch_up()  # the next catch-up moves the staged rows in first
    assert pset.conn.execute("SELECT count(*) FROM edge_stage").fetchone()[0] == 0
    assert _rows(pset) == _rows(expected)
