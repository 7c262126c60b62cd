"""A store whose log keeps compact envelopes (events/compact.py) and the same
store with a text log (as memman wrote them before) are the same store: the
projections a replay builds are equal table by table, the CLI lists the same
events, answers the same recalls and verifies both."""

from __future__ import annotations

from pathlib import Path

from events.backends.copy import content_hash, copy_log
from events.log import EventLog
from memman.operations.maintenance import _dump
from projections.store import StoreDB
from tests.cli.conftest import Cli, distinct_texts
from tests.events.logs import text_log

QUERIES = ["kor service logs", "mel gardens", "pat"]


def _tables(store: Path) -> dict[str, list[tuple]]:
    db = StoreDB(store)
    try:
        db.catch_up()
        return {
            f"{live.path.name}:{table}": _dump(live.conn, table)
            for live in db.sets
            for projector in live.projectors
            for table in projector.tables
        }
    finally:
        db.close()


def test_a_text_log_and_its_compact_twin_replay_to_equal_tables(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    ids = [cli.remember(text) for text in distinct_texts(12)]
    cli.ok("scheduler", "drain")
    cli.ok("forget", ids[0])
    cli.ok("graph", "link", ids[1], ids[2])
    store = data_dir / "stores" / "default"
    compact = EventLog(store / "log.db")
    assert compact.conn.execute("SELECT type FROM sqlite_master WHERE name = 'events'").fetchone() == ("view",)

    twin_dir = tmp_path / "twin-data"
    twin_store = twin_dir / "stores" / "default"
    twin_store.mkdir(parents=True)
    text = text_log(twin_store / "log.db")
    copy_log(compact, text)
    assert content_hash(text) == content_hash(compact)
    assert text.conn.execute("SELECT type FROM sqlite_master WHERE name = 'events'").fetchone() == ("table",)
    compact.close()
    text.close()

    twin = Cli(twin_dir)
    twin.ok("events", "replay")
    cli.ok("events", "replay")
    tables, twin_tables = _tables(store), _tables(twin_store)
    assert sorted(tables) == sorted(twin_tables) and any(rows for rows in tables.values())
    for name, rows in tables.items():
        assert rows == twin_tables[name], name
    assert cli.events() == twin.events()
    for query in QUERIES:
        assert cli.json("recall", query)["results"] == twin.json("recall", query)["results"]
    assert cli.json("events", "verify")["ok"] is True and twin.json("events", "verify")["ok"] is True
    one = cli.events()[3]
    assert cli.json("events", "show", one["id"]) == twin.json("events", "show", one["id"])
