"""Re-deriving a store from its original inputs: the shadow gets every
command with its memory ids, is drained under the current settings, and is
compared; a cut-over swaps it in, carries over what was remembered meanwhile,
and keeps the old store (log included) as an archive."""

from __future__ import annotations

from pathlib import Path

from memman.operations.maintenance import drain_all
from memman.service import Memman
from memman.operations.shadow import rederive_from_inputs
from memman.stores import Registry


def test_under_the_same_rules_the_rederived_store_matches_and_nothing_changes(app: Memman, data_dir: Path) -> None:
    app.remember("The API timeout is 30s")
    app.remember("Alice prefers tabs over spaces")
    drain_all(data_dir)
    report = rederive_from_inputs(app)
    assert report.only_live == [] and report.only_rederived == []
    assert report.commands_copied >= 3  # two remembers and the embedder binding
    assert not report.cut_over and Registry(data_dir).names() == ["default"]  # the shadow is gone


def test_cut_over_keeps_ids_and_history_and_archives_the_old_store(app: Memman, data_dir: Path) -> None:
    kept = app.remember("Deploys happen on Fridays", source="user")
    gone = app.remember("The old build server is in the basement")
    drain_all(data_dir)
    app.forget(gone.id, "decommissioned")
    old_log = app.db.log.count()
    report = rederive_from_inputs(app, cut_over=True)
    assert report.cut_over and report.archived_as and report.archived_as.startswith("default-before-rederive-")
    with Memman(data_dir) as fresh:
        assert fresh.memory(kept.id).status == "active"  # same id, derived anew
        assert fresh.memory(gone.id).status == "forgotten"
        assert [h.id for h in fresh.recall("deploys Fridays").results] == [kept.id]
        assert {r.type for r in fresh.db.log.read()} >= {"facts.extracted", "memory.reconciled", "memory.forgotten"}
        fresh.remember("Writes work again after the cut-over")
    with Memman(data_dir, report.archived_as) as archive:
        assert archive.db.log.count() == old_log  # the old audit trail, whole
    assert sorted(Registry(data_dir).names()) == ["default", report.archived_as]


def test_keep_shadow_leaves_it_to_inspect(app: Memman, data_dir: Path) -> None:
    app.remember("The staging DB is in Frankfurt")
    drain_all(data_dir)
    report = rederive_from_inputs(app, keep_shadow=True)
    assert report.kept_shadow and report.shadow in Registry(data_dir).names()
    with Memman(data_dir, report.shadow) as shadow:
        assert [h.content for h in shadow.recall("staging Frankfurt").results] == ["The staging DB is in Frankfurt"]
