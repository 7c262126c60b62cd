"""Every projector promises the same three things (STYLE.md, "Projectors"):
an incremental build equals a replay row for row; events it does not know are
ignored; and a failure mid-batch leaves both its tables and its checkpoint
unchanged. The contract runs against each projector over one realistic log,
kept in SQLite and in PostgreSQL (the session's embedded server): a replica's
projectors tail a PostgreSQL log through the same reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from events.log import EventLog, NewEvent
from events.types import (
    Candidate,
    Decision,
    DerivationFailed,
    Edge,
    EdgeLinked,
    EdgesInferred,
    EdgeUnlinked,
    Fact,
    FactsExtracted,
    MemoryEmbedded,
    MemoryForgotten,
    MemoryReconciled,
    MemoryRemembered,
    MemoryReplaced,
    MemoryRestored,
    Provenance,
    StoreConfigured,
    Vector,
)
from memman.operations.maintenance import _dump
from projections.graph import GraphProjector
from projections.memories import MemoriesProjector
from projections.queue import QueueProjector
from projections.runner import ProjectionSet
from projections.settings import SettingsProjector
from projections.vectors import VectorsProjector

RULES = Provenance(implementation="rules")


def _vec(seed: int) -> bytes:
    v = np.random.default_rng(seed).standard_normal(8).astype("<f4")
    return (v / np.linalg.norm(v)).tobytes()


def write_history(log: EventLog) -> None:
    """A log touching every event type the projectors handle, in realistic order."""
    log.append(MemoryRemembered(memory_id="A", text="The API timeout is 30s. It applies to all clients.", source="user"))  # 1
    log.append(MemoryRemembered(memory_id="B", text="We chose SQLite", category="decision"))  # 2
    log.append(StoreConfigured(setting="embedder", value="test:8"))  # 3
    facts = [
        Fact(memory_id="A", text="The API timeout is 30s.", category="fact", importance=3, entities=["API", "30s"]),
        Fact(memory_id="A2", text="It applies to all clients.", category="fact", importance=3),
    ]
    log.append_many(
        [
            NewEvent(event=FactsExtracted(input_id="A", facts=facts, provenance=RULES), causation=1, stage="extract"),
            NewEvent(
                event=MemoryReconciled(
                    input_id="A",
                    decisions=[Decision(memory_id="A", action="ADD"), Decision(memory_id="A2", action="ADD")],
                    provenance=RULES,
                ),
                causation=1,
                stage="reconcile",
            ),
            NewEvent(
                event=MemoryEmbedded(
                    fingerprint="test:8",
                    dim=8,
                    vectors=[Vector(memory_id="A", data=_vec(1)), Vector(memory_id="A2", data=_vec(2))],
                    provenance=RULES,
                ),
                causation=1,
                stage="embed",
            ),
            NewEvent(
                event=EdgesInferred(edges=[Edge(src="A", dst="A2", edge_type="temporal")], provenance=RULES),
                causation=1,
                stage="edges",
            ),
        ]
    )
    log.append(
        DerivationFailed(input_id="B", stage="embed", error="boom", attempt=1), causation=2, stage="embed#1"
    )
    log.append(MemoryRemembered(memory_id="C", text="The API timeout is 60s"))
    c_seq = log.head()
    log.append_many(
        [
            NewEvent(
                event=MemoryReconciled(
                    input_id="C",
                    decisions=[
                        Decision(
                            memory_id="C",
                            action="UPDATE",
                            target="A",
                            candidates=[Candidate(memory_id="A", similarity=0.9)],
                        )
                    ],
                    provenance=RULES,
                ),
                causation=c_seq,
                stage="reconcile",
            ),
            NewEvent(event=EdgesInferred(edges=[], provenance=RULES), causation=c_seq, stage="edges"),
        ]
    )
    log.append(EdgeLinked(src="B", dst="C", edge_type="causal", weight=0.8, meta={"why": "test"}))
    log.append(EdgeLinked(src="A", dst="A2", edge_type="temporal", weight=2.0))  # manual beats inferred
    log.append(EdgeLinked(src="A2", dst="B", edge_type="related"))
    log.append(EdgeUnlinked(src="A2", dst="B", edge_type="related"))
    log.append(MemoryForgotten(memory_id="B", reason="wrong"))
    log.append(MemoryRestored(memory_id="B"))
    log.append(MemoryForgotten(memory_id="A2"))
    log.append(
        MemoryReplaced(
            memory_id="B", text="We chose SQLite for zero deps", category="decision", importance=4, entities=[],
            source="agent", meta={},
        )
    )
    log.append(MemoryRemembered(memory_id="D", text="Deploys run on Fridays"))
    # wide text (CJK, emoji) enters and leaves the trigram index with the content
    log.append(MemoryRemembered(memory_id="E", text="これはテストです"))
    log.append(MemoryRemembered(memory_id="F", text="The release shipped"))
    log.append(
        MemoryReplaced(memory_id="E", text="This is a test", category="general", importance=3, entities=[], source="agent", meta={})
    )
    log.append(
        MemoryReplaced(memory_id="F", text="发布成功 🚀", category="general", importance=3, entities=[], source="agent", meta={})
    )
    log.append(DerivationFailed(input_id="D", stage="extract", error="x", attempt=1), causation=log.head(), stage="extract#1")
    log.append(StoreConfigured(setting="embedder", value="test:8b"))
    log.append(StoreConfigured(setting="semantic_threshold", value="0.6"))
    log.append(
        MemoryEmbedded(
            fingerprint="test:8b", dim=8, vectors=[Vector(memory_id="C", data=_vec(3))], provenance=RULES
        ),
        causation=c_seq,
        stage="embed:b",
    )
    log.append(
        MemoryEmbedded(
            fingerprint="test:8", dim=8, vectors=[Vector(memory_id="C", data=_vec(4))], provenance=RULES
        ),
        causation=c_seq,
        stage="embed",
    )


PROJECTORS = [MemoriesProjector, GraphProjector, SettingsProjector, QueueProjector, VectorsProjector]


@pytest.fixture(params=PROJECTORS, ids=lambda p: p.name)
def projector(request):  # type: ignore[no-untyped-def]
    return request.param()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventLog]:
    """An empty log on each backend."""
    if request.param == "sqlite":
        log = EventLog(tmp_path / "log.db")
    else:
        from events.backends.postgres import PostgresEventLog

        log = PostgresEventLog(request.getfixturevalue("pg_dsn"))
    try:
        yield log
    finally:
        log.close()


def rows(pset: ProjectionSet) -> dict[str, list[tuple]]:
    return {t: _dump(pset.conn, t) for p in pset.projectors for t in p.tables}


def test_incremental_build_equals_replay(tmp_path: Path, projector, backend_log: EventLog) -> None:  # type: ignore[no-untyped-def]
    log = backend_log
    incremental = ProjectionSet(tmp_path / "inc.db", [projector], log)
    # apply after every single event, as commands and drains do
    scratch = EventLog(tmp_path / "src.db")
    write_history(scratch)
    for rec in scratch.read():
        log.append(rec.event, causation=rec.causation, stage=rec.stage, actor=rec.actor, occurred_at=rec.occurred_at)
        incremental.catch_up()
    replayed = ProjectionSet(tmp_path / "replay.db", [type(projector)()], log)
    replayed.catch_up()
    assert rows(incremental) == rows(replayed)
    assert any(rows(replayed).values()), "the history must exercise this projector"
    assert incremental.checkpoints() == replayed.checkpoints() == {projector.name: log.head()}
    incremental.replay()
    assert rows(incremental) == rows(replayed)


def test_events_just_appended_apply_as_read_back_ones(tmp_path: Path, projector, backend_log: EventLog) -> None:  # type: ignore[no-untyped-def]
    """A drain hands the catch-up the events it has just appended
    (`appended`), applied without reading them back when they are exactly
    what is pending. When another writer appended in between, they are not,
    and the log is read: either way the tables equal a replay's."""
    log = backend_log
    incremental = ProjectionSet(tmp_path / "inc.db", [projector], log)
    scratch = EventLog(tmp_path / "src.db")
    write_history(scratch)
    history = [
        NewEvent(event=r.event, causation=r.causation, stage=r.stage, actor=r.actor, occurred_at=r.occurred_at)
        for r in scratch.read()
    ]
    reads = 0
    real_read = log.read

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return real_read(*args, **kwargs)

    log.read = counted  # type: ignore[method-assign]
    for start in range(0, len(history), 3):
        mine = log.append_many(history[start : start + 2])
        interloper = history[start + 2 : start + 3]
        if start % 2 and interloper:  # another writer's event lands before this catch-up
            log.append_many(interloper)
            interloper = []
        before = reads
        incremental.catch_up(appended=mine)
        assert (reads > before) == (start % 2 == 1 and len(history) > start + 2)
        if interloper:
            incremental.catch_up(appended=log.append_many(interloper))
    log.read = real_read  # type: ignore[method-assign]
    replayed = ProjectionSet(tmp_path / "replay.db", [type(projector)()], log)
    replayed.catch_up()
    assert rows(incremental) == rows(replayed)
    assert incremental.checkpoints() == replayed.checkpoints() == {projector.name: log.head()}


def test_unknown_events_are_ignored(tmp_path: Path, projector) -> None:  # type: ignore[no-untyped-def]
    log = EventLog(tmp_path / "log.db")
    write_history(log)
    pset = ProjectionSet(tmp_path / "p.db", [projector], log)
    before = rows(pset)
    for rec in log.read():
        if rec.type not in projector.handles:
            projector.apply(pset.conn, rec)
    assert rows(pset) == before


def test_a_failure_mid_batch_changes_nothing(tmp_path: Path, projector, backend_log: EventLog) -> None:  # type: ignore[no-untyped-def]
    from events.db import immediate

    log = backend_log
    write_history(log)
    half = log.head() // 2
    handled_after = [r for r in log.read(after=half) if r.type in projector.handles]
    assert len(handled_after) >= 2, "the history must give this projector a batch to fail in"
    pset = ProjectionSet(tmp_path / "p.db", [projector], log)
    with immediate(pset.conn):  # build up to the midpoint by hand
        for rec in log.read(upto=half):
            if rec.type in projector.handles:
                projector.apply(pset.conn, rec)
        pset.conn.execute("UPDATE checkpoints SET seq=? WHERE name=?", (half, projector.name))
    before, mark = rows(pset), pset.checkpoints()

    original = projector.apply
    calls = {"n": 0}

    def fails_on_the_second_event(conn, rec):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        original(conn, rec)

    projector.apply = fails_on_the_second_event  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk on fire"):
        pset.catch_up()
    assert rows(pset) == before  # the first event's writes were rolled back too
    assert pset.checkpoints() == mark
    projector.apply = original  # type: ignore[method-assign]
    pset.catch_up()
    fresh = ProjectionSet(tmp_path / "fresh.db", [type(projector)()], log)
    fresh.catch_up()
    assert rows(pset) == rows(fresh)


def test_status_follows_the_events(tmp_path: Path) -> None:
    """pending -> active; UPDATE supersedes; forget/restore round-trips; replace re-pends."""
    log = EventLog(tmp_path / "log.db")
    write_history(log)
    pset = ProjectionSet(tmp_path / "p.db", [MemoriesProjector()], log)
    pset.catch_up()
    status = dict(pset.conn.execute("SELECT id, status FROM memories").fetchall())
    assert status == {
        "A": "superseded", "A2": "forgotten", "B": "pending", "C": "active", "D": "pending", "E": "pending", "F": "pending"
    }
    superseded_by = pset.conn.execute("SELECT superseded_by FROM memories WHERE id='A'").fetchone()[0]
    assert superseded_by == "C"


def test_manual_edges_win_over_inferred_ones(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    write_history(log)
    pset = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    pset.catch_up()
    edges = pset.conn.execute("SELECT src, dst, edge_type, weight, manual FROM edges ORDER BY src, dst").fetchall()
    assert edges == [("A", "A2", "temporal", 2.0, 1), ("B", "C", "causal", 0.8, 1)]
    # an inferred edge arriving later does not overwrite the manual one
    log.append(EdgesInferred(edges=[Edge(src="A", dst="A2", edge_type="temporal", weight=1.0)], provenance=RULES))
    pset.catch_up()
    assert pset.conn.execute("SELECT weight FROM edges WHERE src='A' AND dst='A2'").fetchone()[0] == 2.0


def test_a_changed_projector_version_rebuilds_it(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    write_history(log)
    pset = ProjectionSet(tmp_path / "p.db", [SettingsProjector()], log)
    pset.catch_up()
    pset.close()

    class SettingsV2(SettingsProjector):
        version = 2

    again = ProjectionSet(tmp_path / "p.db", [SettingsV2()], log)
    assert again.checkpoints() == {"settings": 0}
    again.catch_up()
    assert again.conn.execute("SELECT setting, value FROM settings ORDER BY setting").fetchall() == [
        ("embedder", "test:8b"),
        ("semantic_threshold", "0.6"),
    ]


def test_two_catch_ups_racing_apply_each_event_once(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    write_history(log)
    first = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    second = ProjectionSet(tmp_path / "p.db", [GraphProjector()], EventLog(tmp_path / "log.db"))
    first.catch_up()
    assert second.catch_up() == 0
    assert second.checkpoints() == {"graph": log.head()}
    assert rows(first) == rows(second)


def test_only_memories_holding_wide_text_are_in_the_trigram_index(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    write_history(log)
    pset = ProjectionSet(tmp_path / "p.db", [MemoriesProjector()], log)
    pset.catch_up()
    wide = pset.conn.execute(
        "SELECT m.id, w.content FROM memories_wide w JOIN memories m ON m.key = w.rowid ORDER BY m.id"
    ).fetchall()
    assert wide == [("F", "发布成功 🚀")]  # E left it when its Japanese text was replaced by English
