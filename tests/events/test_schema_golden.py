"""Payloads stored before a field was added still decode: `memory.remembered`
gained `replaces` and `valid_until` with defaults (schema 1 unchanged), so the
bytes an older memman wrote read back with both unset."""

from __future__ import annotations

import msgspec

from events.types import Event, MemoryRemembered

# msgpack of a memory.remembered payload as memman wrote it before `replaces`
# and `valid_until` existed (copied bytes, not re-encoded by current code).
OLD_REMEMBERED = bytes.fromhex(
    "88a474797065b16d656d6f72792e72656d656d6265726564a96d656d6f72795f6964ba30314a303030303030303030303030"
    "3030303030303030303041a474657874bc5765207573652047697448756220416374696f6e7320666f72204349a863617465"
    "676f7279a466616374aa696d706f7274616e636503a8656e74697469657391ae47697448756220416374696f6e73a6736f75"
    "726365a56167656e74a46d65746180"
)


def test_a_remembered_payload_from_before_replaces_decodes_with_both_new_fields_unset() -> None:
    event = msgspec.msgpack.Decoder(Event).decode(OLD_REMEMBERED)
    assert isinstance(event, MemoryRemembered)
    assert (event.text, event.entities) == ("We use GitHub Actions for CI", ["GitHub Actions"])
    assert (event.replaces, event.valid_until) == (None, None)
    assert event.memory_ids() == ("01J0000000000000000000000A",)


def test_a_remembered_event_that_replaces_another_concerns_both_memories() -> None:
    event = MemoryRemembered(memory_id="01J0000000000000000000000B", text="Buildkite", replaces="01J0000000000000000000000A")  # type: ignore[arg-type]
    assert event.memory_ids() == ("01J0000000000000000000000B", "01J0000000000000000000000A")
