"""StorePool lends a kept store handle only while it is as good as a fresh
one: same files, a log that never went backwards, no transaction left open,
nothing a cold process would not share (projections/pool.py)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from events.log import NewEvent
from events.types import MemoryId, MemoryRemembered
from projections.pool import StorePool, lender
from projections.store import StoreDB


def _remember(db: StoreDB, text: str) -> None:
    db.log.append_many([NewEvent(event=MemoryRemembered(memory_id=MemoryId(f"01TEST{abs(hash(text)) % 10**20:020d}"), text=text))])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "stores" / "default"
    directory.mkdir(parents=True)
    db = StoreDB(directory)
    _remember(db, "The cache TTL is five minutes")
    db.main.catch_up()
    db.close()
    return directory


def test_a_handle_given_back_is_lent_again_with_its_memo(store: Path) -> None:
    pool = StorePool()
    db = pool.take(store)
    db.main.catch_up()
    db.memo["x"] = (1, "kept")
    pool.give(db)
    again = pool.take(store)
    assert again is db and again.memo["x"] == (1, "kept")
    assert (pool.opened, pool.reused) == (1, 1)
    pool.give(again)
    pool.close()
    assert pool.kept == 0


def test_a_write_by_another_handle_is_seen_by_the_kept_one(store: Path) -> None:
    pool = StorePool()
    db = pool.take(store)
    assert db.main.lag() == 0
    pool.give(db)
    other = StoreDB(store)
    _remember(other, "The deploy window is Tuesday")
    other.close()
    kept = pool.take(store)
    assert kept is db and kept.main.lag() == 1  # SQLite shows the commit to the open connection
    pool.close()


@pytest.mark.parametrize("name", ["log.db", "projections.db", "vectors.db"])
def test_a_file_replaced_under_a_kept_handle_means_a_new_handle(store: Path, name: str) -> None:
    pool = StorePool()
    db = pool.take(store)
    db.main.catch_up()
    db.vectors.catch_up()
    pool.give(db)
    shutil.copy(store / name, store / f"{name}.copy")
    os.replace(store / f"{name}.copy", store / name)
    fresh = pool.take(store)
    assert fresh is not db and fresh.memo == {}
    assert not db.is_open("log")  # the stale one was closed
    fresh.close()


def test_a_file_replaced_while_the_handle_is_lent_is_not_kept(store: Path) -> None:
    pool = StorePool()
    db = pool.take(store)
    db.main.catch_up()
    shutil.copy(store / "projections.db", store / "projections.copy")
    os.replace(store / "projections.copy", store / "projections.db")  # during the call
    pool.give(db)
    assert pool.kept == 0 and not db.is_open("main")


def test_a_handle_the_pool_did_not_lend_is_closed(store: Path) -> None:
    pool = StorePool()
    db = StoreDB(store)
    db.log.head()
    pool.give(db)
    assert pool.kept == 0 and not db.is_open("log")


def test_a_log_whose_head_went_backwards_means_a_new_handle(store: Path) -> None:
    """A copy written over the same inode keeps the identity; the head gives it away."""
    pool = StorePool()
    db = pool.take(store)
    db.log.head()
    pool.give(db)
    other = StoreDB(store).log.conn
    other.execute("DROP TRIGGER events_no_delete")  # the log refuses deletes; this plays a restore over the same file
    other.execute("DELETE FROM events")
    other.close()
    assert pool.take(store) is not db


def test_a_handle_given_back_inside_a_transaction_is_closed(store: Path) -> None:
    pool = StorePool()
    db = pool.take(store)
    db.main.conn.execute("BEGIN")
    pool.give(db)
    assert pool.kept == 0 and not db.is_open("main")


def test_a_handle_with_another_clock_is_never_kept(store: Path) -> None:
    pool = StorePool()
    frozen = pool.take(store, lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    frozen.log.head()
    pool.give(frozen)
    assert pool.kept == 0


def test_the_least_recently_used_store_is_closed_past_the_limit(tmp_path: Path) -> None:
    pool = StorePool(limit=2)
    handles = []
    for name in ("a", "b", "c"):
        directory = tmp_path / name
        directory.mkdir()
        seed = StoreDB(directory)  # the log exists before the call, as a store's does
        _remember(seed, f"store {name}")
        seed.close()
        db = pool.take(directory)
        db.log.head()
        pool.give(db)
        handles.append(db)
    assert pool.kept == 2 and not handles[0].is_open("log") and handles[2].is_open("log")
    pool.close()


def test_only_a_lending_block_lends() -> None:
    pool = StorePool()
    assert lender() is None
    with pool.lending():
        assert lender() is pool
    assert lender() is None


def test_a_second_handle_on_a_store_whose_handle_is_still_lent_shares_its_memo(store: Path) -> None:
    """A hook's recall may outlive its call in a thread, keeping the store's
    handle lent; the next call's new handle reuses what the first one
    derived (the vectors, the index) instead of loading a second copy."""
    pool = StorePool()
    first = pool.take(store)
    built: list[int] = []
    assert first.kept("vectors", 1, lambda: built.append(1) or "loaded") == "loaded"
    second = pool.take(store)  # `first` is still lent
    assert second is not first and second.kept("vectors", 1, lambda: built.append(2) or "again") == "loaded"
    assert built == [1]
    assert second.kept("vectors", 2, lambda: "newer") == "newer" and first.kept("vectors", 2, lambda: "x") == "newer"
    pool.give(second)
    pool.give(first)  # the newer stays kept, the other is closed: the shared memo stays
    again = pool.take(store)
    assert again.kept("vectors", 2, lambda: "x") == "newer"
    pool.give(again)
    pool.close()
    assert again.memo == {}


def test_a_replaced_file_or_an_evicted_store_does_not_share_its_memo(store: Path, tmp_path: Path) -> None:
    pool = StorePool(limit=1)
    db = pool.take(store)
    db.main.catch_up()
    db.vectors.catch_up()
    db.kept("vectors", 1, lambda: "old files")
    pool.give(db)
    shutil.copy(store / "vectors.db", store / "vectors.db.copy")
    os.replace(store / "vectors.db.copy", store / "vectors.db")
    fresh = pool.take(store)
    assert fresh.kept("vectors", 1, lambda: "new files") == "new files"
    pool.give(fresh)
    other = tmp_path / "other"
    shutil.copytree(store, other)
    pool.give(pool.take(other))  # evicts `store` (limit 1): its memo goes with its handle
    assert pool.take(store).kept("vectors", 1, lambda: "reloaded") == "reloaded"
    pool.close()


def test_a_value_being_built_on_one_handle_is_waited_for_not_built_again_on_another(store: Path) -> None:
    """A prompt hook's recall that overran its budget goes on in its thread
    while the next request's recall asks for the same value on another
    handle sharing the memo: it waits for that build (at 1M a second copy of
    the vectors and index took the server from 0.9 to 2.7 GB)."""
    import threading
    import time

    pool = StorePool()
    first = pool.take(store)
    second = pool.take(store)  # `first` is still lent: another handle, the same memo
    assert second is not first
    building, asked = threading.Event(), threading.Event()
    built: list[str] = []

    def slow() -> str:
        building.set()
        asked.wait(30)
        time.sleep(0.05)  # lets `second` reach the build it must not start; no assert depends on it
        built.append("first")
        return "loaded"

    answers: dict[str, str] = {}
    worker = threading.Thread(target=lambda: answers.update(first=first.kept("vectors", 1, slow)))
    worker.start()
    assert building.wait(30)
    asked.set()
    answers["second"] = second.kept("vectors", 1, lambda: built.append("second") or "again")
    worker.join(30)
    assert answers == {"first": "loaded", "second": "loaded"} and built == ["first"]
    assert second.kept("vectors", 2, lambda: "newer") == "newer" and first.kept("vectors", 2, lambda: "x") == "newer"
    pool.give(second)
    pool.give(first)
    pool.close()
