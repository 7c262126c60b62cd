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


def _uncached(tmp_path: Path, log: EventLog) -> ProjectionSet:
    """Every event applied by a projector that keeps nothing in memory."""
    pset = ProjectionSet(tmp_path / "uncached.db", [GraphProjector()], log)
    projector = pset.projectors[0]
    with pset.conn:
        for rec in log.read(after=0):
            projector.apply(pset.conn, rec)
    return pset


def test_numbers_kept_in_memory_build_what_table_lookups_build(tmp_path: Path) -> None:
    """A catch-up keeps the {id: number} it reads in memory; a purge frees a
    number that a new id then reuses, and the purged id comes back under a new
    number: the rows must be those of lookups in the tables, event by event."""
    log = EventLog(tmp_path / "log.db")
    _history(log)  # ends by purging D, the highest number
    log.append(EdgesInferred(edges=[Edge(src="E", dst="A", edge_type="temporal", weight=0.3)], provenance=RULES))
    log.append(EdgesInferred(edges=[Edge(src="D", dst="E", edge_type="entity", weight=0.2)], provenance=RULES))
    log.append(MemoryPurged(purged=["A"], reason="test"))
    log.append(EdgeLinked(src="A", dst="D", edge_type="depends on", weight=1.0))
    log.append(EdgesInferred(edges=[Edge(src="A", dst="D", edge_type="semantic", weight=0.1)], provenance=RULES))
    reference = _uncached(tmp_path, log)
    for batch in (5000, 1):
        pset = ProjectionSet(tmp_path / f"b{batch}.db", [GraphProjector()], log)
        pset.catch_up(batch=batch)
        for table in GraphProjector.tables:
            assert _dump(pset.conn, table) == _dump(reference.conn, table)
    assert _edges(reference) == [
        ("A", "D", "depends on", 1.0, "{}", 1),
        ("A", "D", "semantic", 0.1, "{}", 0),
        ("D", "E", "entity", 0.2, "{}", 0),
    ]


def test_numbers_kept_in_memory_are_dropped_when_another_process_wrote_between_batches(tmp_path: Path) -> None:
    """Between two of one catch-up's batches another process (here another
    ProjectionSet on the same file, run from the progress callback) applies a
    purge and numbers a new id: the first catch-up must notice its checkpoint
    moved and stop trusting what it kept (otherwise it would number E twice)."""
    log = EventLog(tmp_path / "log.db")
    log.append(EdgesInferred(edges=[Edge(src="A", dst="B", edge_type="temporal", weight=0.5)], provenance=RULES))
    log.append(EdgesInferred(edges=[Edge(src="D", dst="A", edge_type="temporal", weight=0.4)], provenance=RULES))
    log.append(MemoryPurged(purged=["D"], reason="test"))
    log.append(EdgesInferred(edges=[Edge(src="E", dst="A", edge_type="entity", weight=0.3)], provenance=RULES))
    log.append(EdgesInferred(edges=[Edge(src="D", dst="B", edge_type="entity", weight=0.2)], provenance=RULES))
    log.append(EdgesInferred(edges=[Edge(src="E", dst="B", edge_type="semantic", weight=0.1)], provenance=RULES))
    first = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    other = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    calls: list[int] = []

    def meanwhile(applied: int, seq: int) -> None:
        if not calls:
            other.catch_up(upto=seq + 3)
        calls.append(seq)

    first.catch_up(batch=1, progress=meanwhile)
    reference = _uncached(tmp_path, log)
    for table in GraphProjector.tables:
        assert _dump(first.conn, table) == _dump(reference.conn, table)
    assert len(_edges(first)) == 4


def test_metas_are_numbered_and_a_purge_leaves_none_only_its_edges_used(tmp_path: Path) -> None:
    """Version 5: an edge's meta is a number of `edge_metas`; readers see the
    JSON text. A purge removes the metas that only the purged memory's edges
    used (no text of them stays behind), keeps the shared ones, and a replay
    builds the same rows."""
    log = EventLog(tmp_path / "log.db")
    log.append(EdgesInferred(edges=[
        Edge(src="A", dst="B", edge_type="entity", weight=0.5, meta={"entity": "Dana"}),
        Edge(src="C", dst="B", edge_type="entity", weight=0.5, meta={"entity": "Dana"}),
        Edge(src="D", dst="B", edge_type="entity", weight=0.7, meta={"entity": "only D's secret"}),
        Edge(src="D", dst="C", edge_type="temporal", weight=0.7),
    ], provenance=RULES))  # fmt: skip
    log.append(EdgeLinked(src="C", dst="A", edge_type="depends on", weight=1.0, meta={"why": "D's note too"}))
    pset = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    pset.catch_up()
    assert pset.conn.execute("SELECT typeof(meta) FROM edge_rows GROUP BY 1").fetchall() == [("integer",)]
    assert pset.conn.execute("SELECT count(*) FROM edge_metas").fetchone()[0] == 4  # Dana, D's secret, {}, the note
    log.append(EdgeUnlinked(src="C", dst="A", edge_type="depends on"))
    log.append(MemoryPurged(purged=["D"], reason="test"))
    pset.catch_up()
    metas = {m for (m,) in pset.conn.execute("SELECT meta FROM edge_metas")}
    assert metas == {'{"entity":"Dana"}', '{"why":"D\'s note too"}'}  # D's own metas gone; the unlinked note stays
    assert _edges(pset) == [
        ("A", "B", "entity", 0.5, '{"entity":"Dana"}', 0),
        ("C", "B", "entity", 0.5, '{"entity":"Dana"}', 0),
    ]
    log.append(EdgesInferred(edges=[Edge(src="E", dst="A", edge_type="temporal", weight=0.2)], provenance=RULES))
    pset.catch_up()
    before = {t: _dump(pset.conn, t) for t in GraphProjector.tables}
    pset.replay()
    assert {t: _dump(pset.conn, t) for t in GraphProjector.tables} == before
    assert _dump(_uncached(tmp_path, log).conn, "edge_metas") == before["edge_metas"]


def test_a_store_with_text_metas_is_rebuilt_when_opened(tmp_path: Path) -> None:
    """A store whose graph projection is version 4 (meta as JSON text in
    each row) is rebuilt from the log on its first open."""
    log = EventLog(tmp_path / "log.db")
    _history(log)
    pset = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    pset.catch_up()
    pset.conn.execute(  # what version 4 left on disk: meta text in the rows, no edge_metas
        "DROP VIEW edges; DROP TABLE edge_rows; DROP TABLE edge_metas;"
        "CREATE TABLE edge_rows (src INTEGER NOT NULL, dst INTEGER NOT NULL, kind INTEGER NOT NULL,"
        " weight REAL NOT NULL, meta TEXT NOT NULL DEFAULT '{}', manual INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " PRIMARY KEY (src, dst, kind)) WITHOUT ROWID;"
        "CREATE VIEW edges (src, dst, edge_type, weight, meta, manual, seq) AS SELECT s.id, d.id, k.name, e.weight,"
        " e.meta, e.manual, e.seq FROM edge_rows e JOIN edge_nodes s ON s.n = e.src JOIN edge_nodes d ON d.n = e.dst"
        " JOIN edge_kinds k ON k.k = e.kind;"
        "INSERT INTO edge_rows VALUES (1, 2, 1, 1.0, '{\"stale\":1}', 0, 1);"
        "UPDATE checkpoints SET version = 4 WHERE name = 'graph'"
    )
    pset.close()
    again = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    again.catch_up()
    assert again.conn.execute("SELECT version FROM checkpoints WHERE name = 'graph'").fetchone() == (5,)
    assert _edges(again) == EXPECTED
