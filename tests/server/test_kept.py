"""The server keeps store handles, the vector matrix, its id map and the
embedder across requests (projections/pool.py). None of that may ever be
served stale: after each way the store can change under a running server,
made by another (cold) process, the next warm recall equals a cold one."""

from __future__ import annotations

import json
import os
import shutil

import apsw
import pytest

from tests.server.conftest import Warm, recall_json


def _same_warm_and_cold(w: Warm, query: str, **extra: str) -> dict[str, object]:
    hot = recall_json(w, query, **extra)
    assert hot == recall_json(w, query, MEMMAN_SERVER="off", **extra)
    return hot


def _cold(w: Warm, *args: str) -> str:
    proc = w.run(*args, MEMMAN_SERVER="off")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def _contents(doc: dict[str, object]) -> list[str]:
    return [r["content"] for r in doc["results"]]  # type: ignore[index, union-attr]


@pytest.fixture
def served(warm: Warm) -> Warm:
    warm.start()
    assert "The CI pipeline runs on Buildkite" in _contents(_same_warm_and_cold(warm, "buildkite pipeline"))
    return warm


def _id_of(w: Warm, text: str) -> str:
    hits = recall_json(w, text, MEMMAN_SERVER="off")["results"]
    return next(h["id"] for h in hits if h["content"] == text)  # type: ignore[index, union-attr]


def test_a_forget_by_another_process_hides_the_memory_at_once(served: Warm) -> None:
    _cold(served, "forget", _id_of(served, "The CI pipeline runs on Buildkite"))
    assert "The CI pipeline runs on Buildkite" not in _contents(_same_warm_and_cold(served, "buildkite pipeline"))
    assert served.status()["served"] >= 2


def test_a_replace_by_another_process_shows_the_new_text(served: Warm) -> None:
    _cold(served, "replace", _id_of(served, "The CI pipeline runs on Buildkite"), "The CI pipeline runs on GitHub Actions")
    found = _contents(_same_warm_and_cold(served, "ci pipeline"))
    assert "The CI pipeline runs on GitHub Actions" in found
    assert "The CI pipeline runs on Buildkite" not in found


def test_a_drain_adds_vectors_the_kept_matrix_did_not_have(served: Warm) -> None:
    _same_warm_and_cold(served, "continuous integration")  # the matrix is kept from here on
    _cold(served, "remember", "Continuous integration also runs nightly fuzzing on a spare runner")
    pending = _same_warm_and_cold(served, "continuous integration fuzzing")
    assert pending["results"][0]["status"] == "pending"  # type: ignore[index]
    _cold(served, "scheduler", "drain")
    drained = _same_warm_and_cold(served, "continuous integration fuzzing")
    assert drained["results"][0]["status"] == "active"  # type: ignore[index]
    assert drained["meta"]["vector_hits"] >= 1  # type: ignore[index]


def test_a_replay_into_fresh_projection_files_is_what_the_server_reads(served: Warm) -> None:
    store = served.data_dir / "stores" / "default"
    for name in ("projections.db", "vectors.db"):  # the kept handles still hold the old files open
        for suffix in ("", "-wal", "-shm"):
            (store / f"{name}{suffix}").unlink(missing_ok=True)
    for cache in store.glob("vectors-*"):
        cache.unlink()
    _cold(served, "remember", "Release notes are drafted by the on-call engineer")
    _cold(served, "events", "replay")
    _cold(served, "scheduler", "drain")
    assert "Release notes are drafted by the on-call engineer" in _contents(_same_warm_and_cold(served, "release notes"))


def test_a_replay_in_place_is_followed(served: Warm) -> None:
    _cold(served, "events", "replay")
    _same_warm_and_cold(served, "why sqlite")
    _same_warm_and_cold(served, "buildkite pipeline")


def test_an_embedder_swap_switches_the_kept_matrix(served: Warm) -> None:
    before = json.loads(_cold(served, "embed", "status", "--json"))["bound"]
    _cold(served, "embed", "reembed", "--to", "hashing")
    after = json.loads(_cold(served, "embed", "status", "--json"))["bound"]
    assert before.startswith("static:") and after.startswith("hashing:")
    _same_warm_and_cold(served, "buildkite pipeline")
    _same_warm_and_cold(served, "why sqlite")


def test_another_store_is_never_answered_from_the_kept_one(served: Warm) -> None:
    _cold(served, "store", "create", "side")
    _cold(served, "--store", "side", "remember", "The side store knows about the Zephyr rollout")
    side = _same_warm_and_cold(served, "zephyr rollout", MEMMAN_STORE="side")
    assert _contents(side) == ["The side store knows about the Zephyr rollout"]
    assert "The side store knows about the Zephyr rollout" not in _contents(_same_warm_and_cold(served, "zephyr rollout"))
    _same_warm_and_cold(served, "buildkite pipeline", MEMMAN_STORE="side")


def test_a_store_removed_and_recreated_is_opened_anew(served: Warm) -> None:
    store = served.data_dir / "stores" / "default"
    shutil.rmtree(store)
    _cold(served, "remember", "A fresh store holds only the Quokka note")
    assert _contents(_same_warm_and_cold(served, "quokka note")) == ["A fresh store holds only the Quokka note"]
    assert "The CI pipeline runs on Buildkite" not in _contents(_same_warm_and_cold(served, "buildkite pipeline"))


def test_a_log_restored_from_an_older_copy_is_refused_as_a_cold_process_refuses_it(served: Warm) -> None:
    """A kept handle on the replaced log would go on answering from events the
    restored log no longer has; a cold process stops and says why (exit 5)."""
    store = served.data_dir / "stores" / "default"
    older = store.parent / "log-older.db"
    with apsw.Connection(str(older)) as copy, apsw.Connection(str(store / "log.db")) as live:
        with copy.backup("main", live, "main") as backup:
            backup.step()
    _cold(served, "remember", "The Kestrel migration finished on Friday")
    _same_warm_and_cold(served, "kestrel migration")  # the server has read past the copy's end
    os.replace(older, store / "log.db")
    for suffix in ("-wal", "-shm"):  # they belong to the replaced file
        (store / f"log.db{suffix}").unlink(missing_ok=True)
    cold = served.run("recall", "kestrel migration", MEMMAN_SERVER="off")
    hot = served.run("recall", "kestrel migration")
    assert cold.returncode == 5 and b"log" in cold.stderr
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
