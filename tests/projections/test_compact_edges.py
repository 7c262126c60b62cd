"""Edges are stored as integer-keyed rows behind the `edges` view (graph
projection version 4, issue 16): readers see the same ids and types, a
replay numbers ids and types exactly as the live store did, and a store
built with the old text-keyed table is rebuilt from the log when opened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from events.log import EventLog
from events.types import Edge, EdgeLinked, EdgesInferred, EdgeUnlinked, MemoryPurged, Provenance
from memman.operations.maintenance import _dump, drain_all
from memman.service import Memman
from projections.graph import GraphProjector, count, counts_by_type
from projections.runner import ProjectionSet

RULES = Provenance(implementation="rules")
# The graph projection as versions up to 3 created it.
OLD_SCHEMA = """
CREATE TABLE edges (
    src TEXT NOT NULL, dst TEXT NOT NULL, edge_type TEXT NOT NULL, weight REAL NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}', manual INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (src, dst, edge_type)
) WITHOUT ROWID;
CREATE INDEX edges_dst ON edges(dst, edge_type);
"""


def _history(log: EventLog) -> None:
    log.append(EdgesInferred(edges=[
        Edge(src="A", dst="B", edge_type="temporal", weight=0.5, meta={"rel": "near"}),
        Edge(src="B", dst="C", edge_type="entity", weight=0.7, meta={"entity": "billing"}),
        Edge(src="C", dst="A", edge_type="semantic", weight=0.9),
    ], provenance=RULES))  # fmt: skip
    log.append(EdgeLinked(src="A", dst="C", edge_type="depends on", weight=2.0))
    log.append(EdgeUnlinked(src="B", dst="C", edge_type="entity"))
    log.append(EdgesInferred(edges=[Edge(src="D", dst="A", edge_type="temporal", weight=0.4)], provenance=RULES))
    log.append(MemoryPurged(purged=["D"], reason="test"))


def _edges(pset: ProjectionSet) -> list[tuple]:  # type: ignore[type-arg]
    return pset.conn.execute("SELECT src, dst, edge_type, weight, meta, manual FROM edges ORDER BY 1, 2, 3").fetchall()


EXPECTED = [
    ("A", "B", "temporal", 0.5, '{"rel":"near"}', 0),
    ("A", "C", "depends on", 2.0, "{}", 1),
    ("C", "A", "semantic", 0.9, "{}", 0),
]


def test_readers_see_ids_and_types_and_a_replay_numbers_them_the_same(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    _history(log)
    pset = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    pset.catch_up()
    assert _edges(pset) == EXPECTED
    assert pset.conn.execute("SELECT id FROM edge_nodes WHERE id = 'D'").fetchone() is None  # purged: gone
    assert counts_by_type(pset.conn) == {"temporal": 1, "depends on": 1, "semantic": 1}
    assert counts_by_type(pset.conn, inferred_only=True) == {"temporal": 1, "semantic": 1}
    assert count(pset.conn) == 3 and count(pset.conn, manual=True) == 1
    before = {t: _dump(pset.conn, t) for t in GraphProjector.tables}
    pset.replay()
    assert {t: _dump(pset.conn, t) for t in GraphProjector.tables} == before


def test_a_store_with_the_old_edges_table_is_rebuilt_when_opened(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    _history(log)
    pset = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    pset.catch_up()
    head = log.head()
    pset.conn.execute(  # turn it into what version 3 left on disk, with a stale row to prove the rebuild
        "DROP VIEW edges; DROP TABLE edge_rows; DROP TABLE edge_nodes; DROP TABLE edge_kinds;" + OLD_SCHEMA
        + "INSERT INTO edges VALUES ('X', 'Y', 'temporal', 1.0, '{}', 0, 1);"
        + f"UPDATE checkpoints SET version = 3, seq = {head} WHERE name = 'graph'"
    )
    pset.close()
    again = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    again.catch_up()
    assert again.conn.execute("SELECT type FROM sqlite_master WHERE name = 'edges'").fetchone() == ("view",)
    assert _edges(again) == EXPECTED


def test_graph_commands_work_on_a_drained_store(app: Memman, data_dir: Path) -> None:
    for text in ("Dana owns the billing service", "The billing service timeout is 45s", "Dana deploys on Fridays"):
        app.remember(text)
    drain_all(data_dir)
    env = {"MEMMAN_DATA_DIR": str(data_dir), "MEMMAN_SERVER": "off", "PATH": "/usr/bin:/bin"}
    stats = subprocess.run([sys.executable, "-m", "memman", "graph", "stats", "--json"], env=env, capture_output=True)
    assert stats.returncode == 0, stats.stderr
    assert b'"edges"' in stats.stdout
    conn = app.fresh().main.conn
    total = conn.execute("SELECT count(*) FROM edges").fetchone()[0]
    assert total == count(conn) and total > 0
