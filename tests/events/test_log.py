"""The event log promises: append-only (UPDATE and DELETE are refused by the
schema), gap-free monotonic seq, all-or-nothing batches, idempotent derived
events, time-ordered ids, and reads by seq range, type, memory and time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import apsw
import msgspec
import pytest
from freezegun import freeze_time

from events.errors import BadInput
from events.log import DuplicateDerivation, EventLog, NewEvent
from events.types import (
    EdgeLinked,
    FactsExtracted,
    MemoryForgotten,
    MemoryRemembered,
    Provenance,
    StoreConfigured,
)
from tests.events.logs import text_log


def remembered(memory_id: str, text: str = "a fact") -> MemoryRemembered:
    return MemoryRemembered(memory_id=memory_id, text=text)  # type: ignore[arg-type]


class EventLogContract:
    """Behaviour every log backend must have; subclasses supply `make_log`."""

    refused: type[Exception]  # what the raw connection raises for an UPDATE or DELETE

    def make_log(self, tmp_path: Path) -> EventLog:
        raise NotImplementedError

    def reopen(self, log: EventLog) -> EventLog:
        raise NotImplementedError

    def test_seq_is_monotonic_and_gap_free(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        seqs = [log.append(remembered(f"M{i}")).seq for i in range(5)]
        assert seqs == [1, 2, 3, 4, 5]
        assert log.head() == 5
        assert (log.count(), log.count(["memory.remembered"]), log.count(["memory.forgotten"])) == (5, 5, 0)
        assert log.verify() == []

    def test_update_and_delete_are_refused_by_the_schema(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        log.append(remembered("A"))
        with pytest.raises(self.refused, match="append-only"):
            log.conn.execute("UPDATE events SET type='x'")
        with pytest.raises(self.refused, match="append-only"):
            log.conn.execute("DELETE FROM events")
        with pytest.raises(self.refused, match="append-only"):
            log.conn.execute("DELETE FROM event_memories")
        assert [r.event for r in log.read()] == [remembered("A")]

    def test_an_idempotency_key_appends_once(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        keyed = [MemoryRemembered(memory_id=f"K{i}", text="a fact", key=f"id:{i % 3}") for i in range(5)]  # type: ignore[arg-type]
        first = log.append_many([NewEvent(event=e) for e in keyed])
        assert [r.event.memory_id for r in first] == ["K0", "K1", "K2"]  # a key repeated in one batch: its first
        assert [r.seq for r in first] == [1, 2, 3]
        assert log.append_many([NewEvent(event=keyed[4]), NewEvent(event=remembered("free"))])[0].event == remembered("free")
        assert log.seq_of_key("id:1") == 2 and log.seq_of_key("id:9") is None
        assert log.head() == 4 and log.verify() == []

    def test_a_large_keyed_batch_gets_the_right_seqs(self, tmp_path: Path) -> None:
        """(What `import` sends: 2000 lines with ids in one transaction.)"""
        log = self.make_log(tmp_path)
        log.append(remembered("first"))
        items = [NewEvent(event=MemoryRemembered(memory_id=f"M{i}", text=f"fact {i}", key=f"id:{i}")) for i in range(2000)]  # type: ignore[arg-type]
        recorded = log.append_many(items)
        assert [r.seq for r in recorded] == list(range(2, 2002))
        assert [log.get(r.seq).event.memory_id for r in recorded[::250]] == [f"M{i}" for i in range(0, 2000, 250)]  # type: ignore[union-attr]

    def test_a_batch_is_all_or_nothing(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        log.append(remembered("A"))
        prov = Provenance(implementation="rules")
        derived = FactsExtracted(input_id="A", facts=[], provenance=prov)  # type: ignore[arg-type]
        log.append(derived, causation=1, stage="extract")
        with pytest.raises(DuplicateDerivation):
            log.append_many(
                [
                    NewEvent(event=remembered("B")),
                    NewEvent(event=derived, causation=1, stage="extract"),  # duplicate: whole batch refused
                ]
            )
        assert log.head() == 2
        assert log.verify() == []  # the rolled-back batch left no gap in seq
        assert log.append(remembered("C")).seq == 3

    def test_a_mixed_batch_links_every_event_to_its_memories_keys_and_input(self, tmp_path: Path) -> None:
        """(A drain chunk: inputs' derivations, edges naming two memories, keyed
        inputs, all in one append; PostgreSQL sends it as one statement.)"""
        log = self.make_log(tmp_path)
        log.append_many([NewEvent(event=remembered("A")), NewEvent(event=remembered("B"))])
        prov = Provenance(implementation="rules")
        batch = [
            NewEvent(event=FactsExtracted(input_id="A", facts=[], provenance=prov), causation=1, stage="extract"),  # type: ignore[arg-type]
            NewEvent(event=EdgeLinked(src="A", dst="B", edge_type="related")),  # type: ignore[arg-type]
            NewEvent(event=MemoryRemembered(memory_id="C", text="keyed", key="id:c")),  # type: ignore[arg-type]
            NewEvent(event=FactsExtracted(input_id="B", facts=[], provenance=prov), causation=2, stage="extract"),  # type: ignore[arg-type]
            NewEvent(event=remembered("B", "again")),
        ]
        recorded = log.append_many(batch)
        assert [r.seq for r in recorded] == [3, 4, 5, 6, 7]
        assert [r.seq for r in log.for_memory("A")] == [1, 3, 4]
        assert [r.seq for r in log.for_memory("B")] == [2, 4, 6, 7]
        assert [r.seq for r in log.for_memory("C")] == [5] and log.seq_of_key("id:c") == 5
        assert [(r.seq, r.causation, r.stage) for r in log.derivations_of(2)] == [(6, 2, "extract")]
        assert [r.event for r in log.read(after=2)] == [item.event for item in batch]
        with pytest.raises(DuplicateDerivation):  # the same derivation twice in one batch: none of it lands
            log.append_many([NewEvent(event=remembered("D")), batch[0], batch[0]])
        assert log.head() == 7 and log.for_memory("D") == [] and log.verify() == []

    def test_derived_events_are_idempotent_per_stage(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        log.append(remembered("A"))
        prov = Provenance(implementation="rules")
        event = FactsExtracted(input_id="A", facts=[], provenance=prov)  # type: ignore[arg-type]
        log.append(event, causation=1, stage="extract")
        assert log.has_derivation("facts.extracted", 1, "extract")
        with pytest.raises(DuplicateDerivation):
            log.append(event, causation=1, stage="extract")
        log.append(event, causation=1, stage="extract-v2")  # another stage is another derivation
        assert [r.stage for r in log.derivations_of(1)] == ["extract", "extract-v2"]

    def test_ids_are_time_ordered_and_unique(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        with freeze_time("2026-01-01T00:00:00Z"):
            ids = [log.append(remembered(f"M{i}")).id for i in range(50)]  # same millisecond
        assert ids == sorted(ids)
        assert len(set(ids)) == 50

    def test_read_by_range_type_memory_and_time(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        with freeze_time("2026-01-01T00:00:00Z"):
            log.append(remembered("A"))
        with freeze_time("2026-01-02T00:00:00Z"):
            log.append(remembered("B"))
            log.append(MemoryForgotten(memory_id="A"))  # type: ignore[arg-type]
            log.append(StoreConfigured(setting="embedder", value="x"))
        assert [r.seq for r in log.read(after=1, upto=3)] == [2, 3]
        assert [r.seq for r in log.read(types=["memory.forgotten"])] == [3]
        assert [r.seq for r in log.for_memory("A")] == [1, 3]
        since = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
        assert [r.seq for r in log.between(since)] == [2, 3, 4]
        assert [r.seq for r in log.read(limit=2)] == [1, 2]
        assert [r.seq for r in log.read(batch=1)] == [1, 2, 3, 4]  # batching does not change the stream
        # a catch-up's scan of the seq range reads what the type index reads
        for types in (["memory.forgotten"], ["memory.remembered", "store.configured"]):
            assert list(log.read(types=types, scan=True, batch=1)) == list(log.read(types=types))

    def test_times_read_back_exactly_across_a_batch(self, tmp_path: Path) -> None:
        """The reader remembers the last time it parsed (a chunk shares one
        clock reading); events with other times in between must not inherit it."""
        log = self.make_log(tmp_path)
        past = datetime(2020, 5, 1, 12, 30, 0, 7, tzinfo=timezone.utc)
        with freeze_time("2026-03-01T10:00:00.000001Z"):
            written = log.append_many(
                [
                    NewEvent(event=remembered("A")),
                    NewEvent(event=remembered("B"), occurred_at=past),
                    NewEvent(event=remembered("C")),
                ]
            )
        with freeze_time("2026-03-02T10:00:00Z"):
            written += [log.append(remembered("D"), occurred_at=past)]
        read = list(self.reopen(log).read())
        assert read == written
        assert [(r.recorded_at, r.occurred_at) for r in read][1:] == [
            (datetime(2026, 3, 1, 10, 0, 0, 1, tzinfo=timezone.utc), past),
            (datetime(2026, 3, 1, 10, 0, 0, 1, tzinfo=timezone.utc),) * 2,
            (datetime(2026, 3, 2, 10, tzinfo=timezone.utc), past),
        ]

    def test_occurred_at_defaults_to_recorded_at_and_can_be_set(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        with freeze_time("2026-03-01T10:00:00Z"):
            now = log.append(remembered("A"))
            past = log.append(remembered("B"), occurred_at=datetime(2020, 5, 1, tzinfo=timezone.utc))
        assert now.occurred_at == now.recorded_at
        assert past.occurred_at == datetime(2020, 5, 1, tzinfo=timezone.utc)
        assert past.recorded_at - now.recorded_at < timedelta(seconds=1)

    def test_round_trip_preserves_every_field(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        event = MemoryRemembered(
            memory_id="A",  # type: ignore[arg-type]
            text="Uses Postgres 16 — ünïcode ✓",
            category="decision",
            importance=5,
            entities=["Postgres", "16"],
            source="user",
            meta={"ticket": "X-1"},
        )
        rec = log.append(event, actor="cli")
        assert log.get(rec.seq) == rec
        assert log.get_by_id(rec.id) == rec
        reopened = self.reopen(log)
        assert reopened.get(rec.seq).event == event
        assert reopened.read(after=rec.seq - 1).__next__() == rec

    def test_an_empty_batch_appends_nothing(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        assert log.append_many([]) == []
        assert log.head() == 0 and log.count() == 0 and log.verify() == []

    def test_the_log_reads_back_what_another_handle_appended(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        other = self.reopen(log)
        log.append(remembered("A"))
        other.append(remembered("B"))
        assert [r.event.memory_id for r in log.read()] == ["A", "B"]  # type: ignore[union-attr]
        assert log.count() == other.count() == 2


class TestSqliteEventLog(EventLogContract):
    refused = apsw.ConstraintError

    def make_log(self, tmp_path: Path) -> EventLog:
        return EventLog(tmp_path / "log.db")

    def reopen(self, log: EventLog) -> EventLog:
        return EventLog(log.path)


class TestTextEnvelopeEventLog(EventLogContract):
    """A log created before compact envelopes (text in `events`) keeps every promise."""

    refused = apsw.ConstraintError

    def make_log(self, tmp_path: Path) -> EventLog:
        log = text_log(tmp_path / "log.db")
        assert log.conn.execute("SELECT type FROM sqlite_master WHERE name = 'events'").fetchone() == ("table",)
        return log

    def reopen(self, log: EventLog) -> EventLog:
        return EventLog(log.path)


def test_verify_reports_a_missing_trigger(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    log.append(remembered("A"))
    log.conn.execute("DROP TRIGGER events_no_delete")
    assert log.verify() == ["append-only trigger events_no_delete is missing"]


def test_verify_reports_a_gap_in_seq(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    for i in range(3):
        log.append(remembered(f"M{i}"))
    log.conn.execute("DROP TRIGGER events_no_delete")
    log.conn.execute("DELETE FROM events WHERE seq = 2")  # tampering
    assert log.verify() == [
        "append-only trigger events_no_delete is missing",
        "seq is not contiguous: 2 events span 1..3",
    ]


def test_old_schema_versions_are_upcast_on_read(tmp_path: Path) -> None:
    """A payload stored under a version with a registered upcaster is read in the new shape."""
    from events import upcast

    log = EventLog(tmp_path / "log.db")
    rec = log.append(remembered("A", "old text"))
    log.conn.execute("DROP TRIGGER events_no_update")
    log.conn.execute("UPDATE events SET schema_version = 0 WHERE seq = ?", (rec.seq,))
    upcast.UPCASTERS[("memory.remembered", 0)] = lambda raw: {**raw, "text": raw["text"].upper()}
    try:
        assert log.get(rec.seq).event.text == "OLD TEXT"  # type: ignore[union-attr]
    finally:
        del upcast.UPCASTERS[("memory.remembered", 0)]


def test_unknown_event_type_is_a_clear_error(tmp_path: Path) -> None:
    from events.errors import LogError

    log = EventLog(tmp_path / "log.db")
    log.conn.execute(
        "INSERT INTO events (id, type, schema_version, recorded_at, occurred_at, actor, payload)"
        " VALUES ('X', 'memory.teleported', 1, 'a', 'a', 'cli', ?)",
        (msgspec.msgpack.encode({}),),
    )
    with pytest.raises(LogError, match="unknown type 'memory.teleported'"):
        list(log.read())
    assert not isinstance(LogError("x"), BadInput)
