"""Data is never locked in or silently lost (issue 13, item 0).

Each test reproduces a finding of the fault-injection trial against the real
CLI in subprocesses on real SQLite files: a year-1 timestamp, a store written
by an older memman holding one, a lost / emptied / older log.db next to its
projections, flipped bytes in the log (reported with exit 5, never repaired),
an edited payload, a damaged flat vector cache, and an export that reads out
whatever is still readable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import apsw
import msgspec
import pytest

from events.types import MemoryId, MemoryRemembered
from tests.cli.conftest import Cli, assert_error

SEMANTIC_ONLY = "which machine hosts the staging db"


def _store(cli: Cli) -> Path:
    return cli.data_dir / "stores" / "default"


def _seed(cli: Cli, n: int = 3) -> list[str]:
    ids = [cli.remember(f"The {word} service keeps its logs on host {word}x") for word in ("alpha", "bravo", "charlie")[:n]]
    cli.ok("scheduler", "drain")
    return ids


def _raw(cli: Cli) -> apsw.Connection:
    return apsw.Connection(str(_store(cli) / "log.db"))


def _count(cli: Cli) -> int:
    """How many events the log holds, read from an index (the damaged pages
    hold rows): through the rows of a compact log, not its `events` view."""
    conn = _raw(cli)
    compact = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'event_rows'").fetchone()
    return conn.execute(f"SELECT count(*) FROM {'event_rows' if compact else 'events'}").fetchone()[0]


# ------------------------------------------------------------------ timestamps


def test_a_year_one_time_is_refused_and_the_store_keeps_working(cli: Cli) -> None:
    assert_error(cli("remember", "x", "--at", "0001-01-01T00:00:00Z"), 2,
                 "time '0001-01-01T00:00:00Z' is out of range; use a year from 1000 to 9999")  # fmt: skip
    assert_error(cli("import", "-", input='{"text": "ancient", "at": "0500-01-01T00:00:00Z"}\n'), 2,
                 "line 1: time '0500-01-01T00:00:00Z' is out of range; use a year from 1000 to 9999; nothing was imported")
    cli.remember("still fine")
    cli.ok("status")
    assert cli.json("events", "verify")["ok"] is True


def _old_version_log(path: Path, occurred: str) -> None:
    """A log as memman before checksums wrote it (schema 2, no checksum column),
    holding one event whose occurred_at has the unpadded year that version's
    strftime produced for year 1."""
    from events.log.schema import LEGACY_MEMORY_INDEX, TEXT_SCHEMA

    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    old_schema = TEXT_SCHEMA + LEGACY_MEMORY_INDEX  # that version's event_memories was a table
    conn.execute(old_schema.replace("    payload        BLOB    NOT NULL,\n    checksum       TEXT\n", "    payload        BLOB    NOT NULL\n"))
    conn.execute("PRAGMA user_version=2")
    event = MemoryRemembered(memory_id=MemoryId("01J0000000000000000000OLD1"), text="The ancient vault is under the old mill")
    conn.execute(
        "INSERT INTO events (id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        ("01J0000000000000000000EVT1", "memory.remembered", event.SCHEMA, "2026-01-01T00:00:00.000000Z",
         occurred, "cli", None, None, msgspec.msgpack.encode(event)),
    )
    conn.execute("INSERT INTO event_memories (memory_id, seq) VALUES (?, 1)", (event.memory_id,))
    conn.close()


def test_a_store_holding_year_one_from_an_older_version_reads_exports_and_verifies(cli: Cli) -> None:
    _store(cli).mkdir(parents=True)
    for directory in (cli.data_dir, cli.data_dir / "stores", _store(cli)):
        directory.chmod(0o700)
    _old_version_log(_store(cli) / "log.db", "1-01-01T00:00:00.000000Z")
    assert cli.json("status")["events"] == 1
    hits = cli.json("recall", "ancient vault", "--basic")["results"]
    assert [h["id"] for h in hits] == ["01J0000000000000000000OLD1"]
    [line] = cli.ok("export").out.splitlines()
    assert json.loads(line)["at"] == "0001-01-01T00:00:00.000000Z"  # read back, now padded
    cli.ok("scheduler", "drain")
    assert cli.json("events", "verify")["ok"] is True  # the upgrade checksummed the old row
    cli.ok("events", "replay")
    assert cli.ok("doctor").out.startswith("ok")


# ------------------------------------------------------------------ a lost or older log


def test_a_deleted_log_next_to_projections_is_reported_never_recreated(cli: Cli) -> None:
    _seed(cli)
    store = _store(cli)
    for name in ("log.db", "log.db-wal", "log.db-shm"):
        (store / name).unlink(missing_ok=True)
    for command in (("status",), ("recall", "alpha"), ("remember", "new"), ("scheduler", "drain"),
                    ("events", "verify"), ("events", "replay")):  # fmt: skip
        result = cli(*command)
        text = assert_error(result, 5, contains=("log.db is missing but projections.db was built from it",))
        assert "restore log.db" in text and "never delete them" in text
    assert not (store / "log.db").exists()  # no silent fresh log
    doctor = cli("doctor", "--json")
    assert doctor.code == 5
    [log] = [c for c in doctor.json()["checks"] if c["name"] == "log"]
    assert "replay" not in log["fix"].replace("rebuilt", "")  # the fix never discards the projections
    # the memories are still readable, out of the projections
    salvage = cli("export")
    assert salvage.code == 0 and len(salvage.out.splitlines()) == 3
    assert "the log is missing" in salvage.err


@pytest.mark.parametrize("how", ["emptied", "older", "older-then-written"])
def test_an_emptied_or_older_log_is_reported_not_trusted(cli: Cli, how: str) -> None:
    store = _store(cli)
    cli.remember("The first fact about kettles")
    cli.ok("status")
    older = store.parent / "older.db"
    shutil.copy(store / "log.db", older)  # the WAL is small and checkpointed by `status`? copy both
    if (store / "log.db-wal").exists():
        shutil.copy(store / "log.db-wal", store.parent / "older.db-wal")
    _seed(cli)
    for name in ("log.db", "log.db-wal", "log.db-shm"):
        (store / name).unlink(missing_ok=True)
    if how == "emptied":
        apsw.Connection(str(store / "log.db")).execute("CREATE TABLE x(y)")
    else:
        shutil.copy(older, store / "log.db")
        if (store.parent / "older.db-wal").exists():
            shutil.copy(store.parent / "older.db-wal", store / "log.db-wal")
    if how == "older-then-written":
        # a remember only appends: it cannot know, but the next read must
        for i in range(5):
            cli.remember(f"written into the wrong log {i}")
    assert_error(cli("recall", "kettles"), 5, contains=("log.db", "restore log.db"))
    assert cli("doctor").code == 5


# ------------------------------------------------------------------ damage in the log


def _flip_payload(cli: Cli, seq: int) -> None:
    conn = _raw(cli)
    payload = conn.execute("SELECT payload FROM events WHERE seq=?", (seq,)).fetchone()[0]
    # stored deflated (events/codec.py): one changed bit, as an edit or bit rot leaves it
    edited = payload[:-1] + bytes((payload[-1] ^ 0x01,))
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET payload=? WHERE seq=?", (edited, seq))
    conn.close()


def test_an_edited_payload_is_detected_by_verify_and_doctor_with_exit_5(cli: Cli) -> None:
    _seed(cli)
    _flip_payload(cli, 1)
    result = cli("events", "verify")
    assert result.code == 5
    assert "log: event 1 does not match its checksum" in result.out
    assert "CORRUPT: default verified" in result.out and "fix: " in result.out and "restore log.db" in result.out
    doctor = cli("doctor")
    assert doctor.code == 5 and "event 1 does not match its checksum" in doctor.out


def test_flipped_bytes_inside_log_db_are_reported_never_repaired(cli: Cli) -> None:
    _seed(cli)
    cli.ok("status")
    path = _store(cli) / "log.db"
    conn = _raw(cli)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # the stored bytes of the event holding the text (payloads are stored deflated, events/codec.py)
    [(stored,)] = conn.execute("SELECT payload FROM events WHERE seq = 2").fetchall()
    conn.close()
    data = bytearray(path.read_bytes())
    # 200 bytes around each copy of a stored payload: a page's free space can hold a stale
    # copy, where damage is harmless and undetectable; the live copy must be hit
    start = 0
    while (found := data.find(stored[:24], start)) >= 0:
        middle = max(found - 100, 0)
        data[middle : middle + 200] = bytes(b ^ 0xFF for b in data[middle : middle + 200])
        start = found + 200
    clean = path.read_bytes()
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    result = cli("events", "verify")
    assert result.code == 5, result
    assert "unexpected" not in result.out + result.err and "Traceback" not in result.err
    assert cli("doctor").code == 5
    head = _count(cli)
    # found damaged: nothing more is appended to it (before, remember kept appending, exit 0)
    for write in (("remember", "one more into a damaged log"), ("import", "-")):
        assert_error(cli(*write, input='{"text": "an imported line"}\n'), 5,
                     contains=["was found damaged", "nothing was written", "restore log.db from a backup"])
    assert _count(cli) == head
    assert path.read_bytes() == before  # never repaired in place
    path.write_bytes(clean)  # restored from a backup: the next check finds it sound and writes resume
    cli.ok("events", "verify")
    cli.remember("written after the restore")


def test_a_damaged_event_is_skipped_and_named_by_export_the_rest_comes_out(cli: Cli) -> None:
    _seed(cli)
    conn = _raw(cli)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET payload=X'C1C1C1' WHERE seq=2")  # 0xC1 is never valid msgpack
    conn.close()
    result = cli("export", "--what", "events")
    assert result.code == 0, result
    seqs = [json.loads(line)["seq"] for line in result.out.splitlines()]
    assert 2 not in seqs and 1 in seqs and len(seqs) >= 3
    assert "1 damaged events could not be read and were left out (seq 2)" in result.err
    assert cli("events", "verify").code == 5


# ------------------------------------------------------------------ the flat vector cache


def test_a_damaged_flat_vector_cache_is_detected_and_never_changes_recall(cli: Cli) -> None:
    cli.remember("The staging database lives on host sparrow")
    _seed(cli)
    before = cli.json("recall", SEMANTIC_ONLY)["results"]
    [cache] = _store(cli).glob("vectors-*.f32")
    data = bytearray(cache.read_bytes())
    data[-64:] = b"\xff" * 64  # NaNs in the last row
    cache.write_bytes(bytes(data))
    verify = cli("events", "verify", "--json")
    assert verify.code == 1 and any(d["table"] == "vector cache" for d in verify.json()["differences"])
    doctor = cli("doctor", "--json").json()
    [vectors] = [c for c in doctor["checks"] if c["name"] == "vectors"]
    assert vectors["status"] == "warn" and "damaged" in vectors["detail"]
    after = cli.json("recall", SEMANTIC_ONLY)["results"]
    assert [(h["id"], h["score"]) for h in after] == [(h["id"], h["score"]) for h in before]
    assert all(h["score"] is not None for h in after)
    # recall reads this cache only after its id list's checksum (and, on a score that is
    # not a number, its rows') holds, so the damaged copy never reaches a result; the fix
    # verify names rebuilds it
    assert cli("events", "replay").code == 0
    assert cli.json("events", "verify")["ok"] is True


def _flip_around(path: Path, marker: bytes) -> None:
    data = bytearray(path.read_bytes())
    start = 0
    while (found := data.find(marker, start)) >= 0:
        middle = max(found - 100, 0)
        data[middle : middle + 200] = bytes(b ^ 0xFF for b in data[middle : middle + 200])
        start = found + 200
    path.write_bytes(bytes(data))


def test_flipped_bytes_in_projections_are_reported_then_rebuilt_from_the_log(cli: Cli) -> None:
    ids = _seed(cli)
    cli.ok("status")
    conn = apsw.Connection(str(_store(cli) / "projections.db"))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    _flip_around(_store(cli) / "projections.db", b"bravox")
    verify = cli("events", "verify")
    assert verify.code == 1 and "projections.db: damaged" in verify.out and "fix: memman --store default events replay" in verify.out
    assert cli("doctor").code == 1  # reported, not "unexpected"
    hits = cli("recall", "bravo service logs", "--json")
    assert hits.code == 0, hits
    assert "projections.db was damaged; moved it to projections.db.corrupt-" in hits.err
    assert ids[1] in [h["id"] for h in hits.json()["results"]]
    assert cli.json("events", "verify")["ok"] is True
