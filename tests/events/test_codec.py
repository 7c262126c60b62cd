"""Large payloads are stored compressed and read back exactly: checksums
cover the stored bytes (so `verify` checks what is on disk), a purge's
rewrite packs the same way, a byte search over the log's content sees the
plain payloads, and a damaged compressed payload is named, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from events import codec
from events.errors import CorruptEvent
from events.log import EventLog
from events.types import Edge, EdgesInferred, MemoryId, MemoryRemembered, Provenance


def _edges(n: int, word: str = "near") -> EdgesInferred:
    edges = [
        Edge(src=MemoryId(f"01M8NSB343AARR17EK3W82C{i:03d}"), dst=MemoryId("01M8NSB343AARR17EK3W82CJ3C"),
             edge_type="temporal", weight=0.5, meta={"rel": word})
        for i in range(n)
    ]
    return EdgesInferred(edges=edges, provenance=Provenance(implementation="rules"))


def _stored(log: EventLog, seq: int) -> bytes:
    return log.conn.execute("SELECT payload FROM events WHERE seq = ?", (seq,)).fetchone()[0]


def test_a_large_payload_is_stored_compressed_and_read_back_exactly(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    big = log.append(_edges(20))
    small = log.append(MemoryRemembered(memory_id=MemoryId("01M8NSB343AARR17EK3W82CJ3C"), text="short"))
    assert codec.is_packed(_stored(log, big.seq))
    assert len(_stored(log, big.seq)) < len(log._encoder.encode(big.event)) / 2
    # even a short remember shrinks: its field names are in the preset dictionary
    assert codec.is_packed(_stored(log, small.seq))
    assert len(_stored(log, small.seq)) < len(log._encoder.encode(small.event)) * 0.6
    assert log.get(big.seq).event == big.event and log.get(small.seq).event == small.event
    assert [r.event for r in log.read()] == [big.event, small.event]
    assert log.verify() == []


def test_a_tiny_payload_is_stored_as_it_is() -> None:
    tiny = b"\x81\xa4text\xa5short"
    assert len(tiny) < codec.MIN_SIZE and codec.pack(tiny) == tiny and codec.unpack(tiny) == tiny


def test_payloads_written_before_dictionaries_read_unchanged(tmp_path: Path) -> None:
    """A log written by memman before the preset dictionary holds plain and
    zlib-compressed (0xC1 0x78 ...) payloads beside the new ones: all read, verify and replay."""
    import zlib

    log = EventLog(tmp_path / "log.db")
    old = _edges(20, word="older")
    raw = log._encoder.encode(old)
    old_stored = codec.MARK + zlib.compress(raw, 6)  # exactly what the previous codec wrote
    assert old_stored[1] == 0x78
    rec = log.append(old)
    log.rewrite_payloads({rec.seq: old_stored})  # the row as an older memman left it
    new = log.append(_edges(20, word="newer"))
    assert _stored(log, rec.seq) == old_stored and _stored(log, new.seq)[:2] == codec.MARK + b"\x01"
    assert [r.event for r in EventLog(log.path).read()] == [old, new.event]
    assert [seq for seq, p in log.plain_payloads() if b"older" in p] == [rec.seq]


def test_the_preset_dictionary_is_pinned() -> None:
    """Stored payloads name dictionary 1: its bytes can never change."""
    from events.digests import blake2b
    from events.zdict import dictionary

    assert blake2b(dictionary(1), digest_size=16).hexdigest() == "deb76a8ec430a5f6c122effbcb731588"
    assert dictionary(codec.DICTIONARY) is not None and dictionary(99) is None


def test_an_unknown_dictionary_is_named_not_guessed() -> None:
    with pytest.raises(codec.CodecError, match="unknown dictionary"):
        codec.unpack(codec.MARK + b"\x07" + b"anything")
    packed = codec.pack(b"\x81\xa4text" + b"abc" * 300)
    with pytest.raises(codec.CodecError, match="truncated"):
        codec.unpack(packed[:-3])


def test_a_payload_that_does_not_shrink_is_stored_as_it_is() -> None:
    import os

    noise = b"\x85" + os.urandom(2000)  # random bytes (as float vectors are) do not compress
    assert codec.pack(noise) == noise and codec.unpack(noise) == noise
    text = b"\x81\xa4text" + b"abc" * 300
    assert codec.unpack(codec.pack(text)) == text and codec.is_packed(codec.pack(text))


def test_a_rewrite_packs_the_new_payload_and_keeps_verify_clean(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    rec = log.append(_edges(20, word="secret-word"))
    cleaned = _edges(20, word="x")
    payload = log.encode(cleaned)
    before, after = log.checksums(rec.seq, payload)
    log.rewrite_payloads({rec.seq: payload})
    assert log.get(rec.seq).event == cleaned
    assert before != after and log.verify() == []
    assert not any(b"secret-word" in p for _, p in log.plain_payloads())


def test_a_byte_search_sees_inside_compressed_payloads(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    rec = log.append(_edges(20, word="needle-term"))
    assert b"needle-term" not in _stored(log, rec.seq)
    assert [seq for seq, p in log.plain_payloads() if b"needle-term" in p] == [rec.seq]


def test_a_damaged_compressed_payload_is_named_as_corrupt(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    rec = log.append(_edges(20))
    row = log.conn.execute(
        "SELECT seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload"
        " FROM events WHERE seq = ?", (rec.seq,)
    ).fetchone()
    damaged = (*row[:-1], codec.MARK + b"not zlib at all")
    with pytest.raises(CorruptEvent, match=f"event {rec.seq}"):
        log._decode(damaged)
    with pytest.raises(codec.CodecError):
        codec.unpack(codec.MARK + b"\x00\x01")
