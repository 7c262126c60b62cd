"""Compact envelopes (events/compact.py): a new SQLite log stores names as
numbers, times as microseconds and checksums as bytes, and every reader sees
the text a log written before holds: through the `events` view, through
`EventLog`'s own reads, in copies both ways and in the content hash."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import apsw
import msgspec
import pytest

from events.backends.copy import content_hash, copy_log
from events.compact import ODD_ID
from events.clock import to_iso
from events.integrity import row_checksum
from events.log import DuplicateDerivation, EventLog, NewEvent
from events.types import FactsExtracted, MemoryId, MemoryRemembered, Provenance
from tests.events.logs import text_log

COLUMNS = "seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload, checksum"
A = MemoryId("01J0000000000000000000000A")
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def _clock(start: datetime = T0):
    moments = iter(start + timedelta(minutes=n) for n in range(10_000))
    return lambda: next(moments)


def _write_some(log: EventLog) -> None:
    first = log.append(MemoryRemembered(memory_id=A, text="we deploy on fridays"), occurred_at=T0 - timedelta(days=400))
    log.append_many([
        NewEvent(event=FactsExtracted(input_id=A, facts=[], provenance=Provenance(implementation="rules")),
                 actor="drain", causation=first.seq, stage="extract"),
        NewEvent(event=MemoryRemembered(memory_id=MemoryId("01J0000000000000000000000B"), text="second"), actor="import"),
    ])  # fmt: skip


def _rows(log: EventLog) -> list[tuple]:
    return log.conn.execute(f"SELECT {COLUMNS} FROM events ORDER BY seq").fetchall()


def test_a_new_log_stores_numbers_microseconds_and_digest_bytes(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db", clock=_clock())
    _write_some(log)
    stored = log.conn.execute(
        "SELECT typeof(type), typeof(actor), typeof(stage), typeof(recorded_at), typeof(occurred_at), typeof(checksum),"
        " length(checksum) FROM event_rows ORDER BY seq"
    ).fetchall()
    assert stored == [
        ("integer", "integer", "null", "integer", "integer", "blob", 16),  # said to have happened earlier
        ("integer", "integer", "integer", "integer", "null", "blob", 16),  # occurred when recorded: NULL
        ("integer", "integer", "null", "integer", "null", "blob", 16),
    ]
    assert log.conn.execute("SELECT name FROM event_names ORDER BY n").fetchall() == [
        ("memory.remembered",), ("cli",), ("facts.extracted",), ("drain",), ("extract",), ("import",),
    ]  # fmt: skip
    for row, rec in zip(_rows(log), log.read(), strict=True):  # the view's text is what was recorded
        assert row[:9] == (rec.seq, rec.id, rec.type, rec.schema_version, to_iso(rec.recorded_at),
                           to_iso(rec.occurred_at), rec.actor, rec.causation, rec.stage)  # fmt: skip
        assert row[10] == row_checksum(row[:10]) and row[10].startswith("b2:")
    later = T0 + timedelta(minutes=1)  # the second append's clock reading
    assert [(r.recorded_at, r.occurred_at) for r in log.read()] == [(T0, T0 - timedelta(days=400)), (later, later), (later, later)]
    assert log.verify() == []


def test_the_view_renders_every_microsecond_time_as_to_iso_writes_it(tmp_path: Path) -> None:
    """Python's microseconds (appends) and SQL's text (the view) agree across
    the whole range a datetime can hold, before 1970 included."""
    log = EventLog(tmp_path / "log.db")
    rng = random.Random(7)
    low, high = datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    span = int((high - low).total_seconds())
    moments = [low, high, datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)]
    moments += [low + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000)) for _ in range(300)]
    log.append_many([NewEvent(event=MemoryRemembered(memory_id=A, text="t"), occurred_at=m) for m in moments])
    texts = [r[0] for r in log.conn.execute("SELECT occurred_at FROM events ORDER BY seq")]
    assert texts == [to_iso(m) for m in moments]
    assert [r.occurred_at for r in log.read()] == moments
    assert log.conn.execute("SELECT count(*) FROM event_rows WHERE typeof(occurred_at) <> 'integer'").fetchone() == (0,)


ODD = [  # (recorded_at, occurred_at, checksum) as a copy from another log may bring them
    ("0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z", None),
    ("1969-12-31T23:59:59.999999Z", "1-01-01T00:00:00.000000Z", "b2:" + "AB" * 16),  # an unpadded year, upper case
    ("2026-02-30T00:00:00.000000Z", "2026-01-01T00:00:00+00:00", "b3:" + "ab" * 16),  # no such day, an offset
    ("2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z", "b2:" + "zz" * 16),
]


def _odd_rows() -> list[tuple]:
    payload = msgspec.msgpack.encode(MemoryRemembered(memory_id=A, text="odd"))
    return [
        (n, f"01J00000000000000000000{n:03d}", "memory.remembered", 1, recorded, occurred, "cli", None, None, payload, checksum)
        for n, (recorded, occurred, checksum) in enumerate(ODD, start=1)
    ]


def test_values_not_in_the_fixed_form_are_kept_as_they_came(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    log.conn.executemany(f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 11)})", _odd_rows())
    assert _rows(log) == _odd_rows()  # every value reads back exactly
    kinds = log.conn.execute(
        "SELECT typeof(recorded_at), typeof(occurred_at), typeof(checksum) FROM event_rows ORDER BY seq"
    ).fetchall()
    assert kinds == [("integer", "integer", "null"), ("integer", "text", "text"), ("text", "text", "text"),
                     ("integer", "null", "text")]  # fmt: skip
    assert [to_iso(r.recorded_at) for r in log.read(limit=2)] == [ODD[0][0], ODD[1][0]]


def test_text_and_compact_logs_copy_into_each_other_with_equal_hashes(tmp_path: Path) -> None:
    text = text_log(tmp_path / "text.db")
    text.conn.executemany(f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 11)})", _odd_rows())
    for n in range(5):
        text.append(MemoryRemembered(memory_id=A, text=f"fact {n}"), occurred_at=T0 + timedelta(hours=n))
    compact = EventLog(tmp_path / "compact.db")
    copy_log(text, compact)
    back = text_log(tmp_path / "back.db")
    copy_log(compact, back)
    assert content_hash(text) == content_hash(compact) == content_hash(back)
    assert _rows(text) == _rows(compact) == _rows(back)  # the checksum column too
    assert compact.conn.execute("SELECT type FROM sqlite_master WHERE name = 'events'").fetchone() == ("view",)
    assert list(text.read(after=len(ODD))) == list(compact.read(after=len(ODD))) == list(back.read(after=len(ODD)))


def test_a_text_log_and_its_compact_copy_both_verify(tmp_path: Path) -> None:
    text = text_log(tmp_path / "text.db")
    _write_some(text)
    compact = EventLog(tmp_path / "compact.db")
    copy_log(text, compact)
    assert text.verify() == [] and compact.verify() == []
    assert list(text.read()) == list(compact.read())


@pytest.mark.parametrize("field", ["recorded_at", "occurred_at"])
def test_time_windows_answer_the_same_on_both_kinds(tmp_path: Path, field: str) -> None:
    logs = [text_log(tmp_path / "text.db"), EventLog(tmp_path / "compact.db")]
    for log in logs:
        readable = [row for row in _odd_rows() if row[0] != 3]  # every time parses
        log.conn.executemany(f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 11)})", readable)
        log._clock = _clock()
        for n in range(6):
            log.append(MemoryRemembered(memory_id=A, text=f"fact {n}"), occurred_at=T0 - timedelta(days=n) if n % 2 else None)
    bounds = [None, T0 - timedelta(days=3), T0, T0 + timedelta(minutes=2), datetime(2026, 1, 1, tzinfo=timezone.utc)]
    for since in bounds:
        for until in bounds:
            for types in (None, ["memory.remembered"], ["memory.forgotten"]):
                answers = [[r.seq for r in log.between(since, until, field=field, types=types)] for log in logs]
                assert answers[0] == answers[1], (since, until, types)
    assert [r.seq for r in logs[1].between(T0, None, field=field)]  # not vacuous


def test_reads_by_type_memory_and_derivation_work_on_numbers(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db", clock=_clock())
    _write_some(log)
    assert [r.seq for r in log.read(types=["facts.extracted"])] == [2]
    assert [r.seq for r in log.read(types=["facts.extracted", "memory.remembered"], scan=True)] == [1, 2, 3]
    assert list(log.read(types=["never.written"])) == []
    assert (log.count(), log.count(["memory.remembered"]), log.count(["never.written"])) == (3, 2, 0)
    plan = " ".join(r[3] for r in log.conn.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM event_rows WHERE type IN (1, 3)"))
    assert "COVERING INDEX events_type" in plan
    assert log.has_derivation("facts.extracted", 1, "extract") and not log.has_derivation("facts.extracted", 1, "x")
    assert [r.seq for r in log.derivations_of(1)] == [2]
    assert [r.seq for r in log.for_memory(A)] == [1, 2]
    with pytest.raises(DuplicateDerivation):
        log.append(FactsExtracted(input_id=A, facts=[], provenance=Provenance(implementation="rules")), causation=1, stage="extract")
    twin = NewEvent(event=FactsExtracted(input_id=A, facts=[], provenance=Provenance(implementation="rules")), causation=1)
    assert len(log.append_many([twin, twin])) == 2  # no stage: not a derivation, never refused
    for query in ("SELECT seq FROM events WHERE causation = 1", "SELECT seq FROM events WHERE causation IN (1, 2)",
                  "SELECT 1 FROM events WHERE type = 'facts.extracted' AND causation = 1 AND stage = 'extract'"):
        plan = " ".join(r[3] for r in log.conn.execute("EXPLAIN QUERY PLAN " + query))
        assert "USING INDEX events_derivation" in plan, (query, plan)


def test_a_name_numbered_in_a_rolled_back_append_is_forgotten(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db", clock=_clock())
    _write_some(log)
    with pytest.raises(DuplicateDerivation):  # numbers "rules-actor", then rolls back
        log.append_many([
            NewEvent(event=MemoryRemembered(memory_id=A, text="x"), actor="rules-actor"),
            NewEvent(event=FactsExtracted(input_id=A, facts=[], provenance=Provenance(implementation="rules")), causation=1, stage="extract"),
        ])  # fmt: skip
    log.append(MemoryRemembered(memory_id=A, text="y"), actor="other-actor")  # may get the rolled-back number
    log.append(MemoryRemembered(memory_id=A, text="z"), actor="rules-actor")
    assert [r.actor for r in log.read(after=3)] == ["other-actor", "rules-actor"]
    assert [r[6] for r in _rows(log)[3:]] == ["other-actor", "rules-actor"]


def test_the_rows_and_names_are_append_only_and_a_purge_rewrites_through_the_view(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db", clock=_clock())
    _write_some(log)
    for statement in ("UPDATE event_rows SET actor = 1", "DELETE FROM event_rows", "UPDATE event_names SET name = 'x'",
                      "DELETE FROM event_names", "UPDATE events SET actor = 'mallory'", "DELETE FROM events"):
        with pytest.raises(apsw.ConstraintError, match="append-only"):
            log.conn.execute(statement)
    purged = msgspec.msgpack.encode(MemoryRemembered(memory_id=A, text="[purged]"))
    log.rewrite_payloads({1: purged})
    assert log.get(1).event.text == "[purged]"  # type: ignore[union-attr]
    assert log.verify() == []
    with pytest.raises(apsw.ConstraintError, match="append-only"):
        log.conn.execute("UPDATE events SET payload = x'00'")
    log.conn.execute("DROP TRIGGER event_names_no_delete")
    assert log.verify() == ["append-only trigger event_names_no_delete is missing"]


def test_an_event_is_found_by_id_without_an_id_index(tmp_path: Path) -> None:
    from events.errors import UnknownEvent

    log = EventLog(tmp_path / "log.db")  # the real clock: ids minted from recorded_at
    _write_some(log)
    odd = (4, *_odd_rows()[0][1:])  # an id that does not match its time
    log.conn.execute(f"INSERT INTO events ({COLUMNS}) VALUES ({','.join('?' * 11)})", odd)
    assert log.conn.execute("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'event_rows' AND sql LIKE '%(id)%'").fetchone() == (1,)
    assert log.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event_rows' AND sql LIKE '%(id)%'"
    ).fetchall() == [("events_odd_id",)]
    for rec in log.read(upto=3):
        assert log.get_by_id(rec.id.lower()) == rec
    plan = " ".join(r[3] for r in log.conn.execute(
        "EXPLAIN QUERY PLAN SELECT seq FROM event_rows WHERE recorded_at >= 1 AND recorded_at < 2 AND id = 'x'"))
    assert "events_recorded" in plan
    assert log.get_by_id(odd[1]).seq == 4  # found in the index of odd ids, which holds it alone
    assert log.conn.execute(f"SELECT seq FROM event_rows WHERE {ODD_ID}").fetchall() == [(4,)]
    plan = " ".join(r[3] for r in log.conn.execute(f"EXPLAIN QUERY PLAN SELECT seq FROM event_rows WHERE id = 'x' AND {ODD_ID}"))
    assert "events_odd_id" in plan
    with pytest.raises(UnknownEvent):
        log.get_by_id("01J0000000000000000000NONE")
    with pytest.raises(UnknownEvent):
        log.get_by_id("not-an-id")


def test_a_later_schema_version_reopens_a_compact_log(tmp_path: Path) -> None:
    """A future SCHEMA_VERSION re-runs the schema on every log: on a compact
    one, its own statements (idempotent), never the text log's (which would
    index the view)."""
    log = EventLog(tmp_path / "log.db", clock=_clock())
    _write_some(log)
    objects = log.conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    log.conn.execute("PRAGMA user_version=3")
    log.close()
    log = EventLog(tmp_path / "log.db")
    assert log.conn.execute("PRAGMA user_version").fetchone() == (4,)
    assert log.conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == objects
    assert [r.seq for r in log.read()] == [1, 2, 3] and log.verify() == []
