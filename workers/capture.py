"""The drain's work on a `session.captured` input: extract the durable
memories of a session excerpt (workers/stages/capture.py offline,
workers/llm/capture.py with an LLM) and record them.

A capture derives, in one atomic chunk with its causation = the capture's seq:
- `session.extracted` (stage "capture"): what was taken, by which
  implementation, model and prompt, with the gate's warnings; it ends the
  capture's work item;
- one `memory.remembered` per memory (stage "capture:N", idempotency key
  "capture:<capture id>:N"), occurred when the session said it, source
  "agent", meta {"capture": <capture id>}. Each is then drained like any
  remembered text (reconciled, embedded, linked), and undone like one
  (`memman forget` / `restore`).

A failing LLM is recorded as `derivation.failed` on the capture and retried
with the drain's backoff, as for any input; an open circuit leaves it pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from events.clock import to_iso
from events.ids import UlidFactory
from events.log import NewEvent
from events.types import (
    CapturedMemory,
    DerivationFailed,
    MemoryId,
    MemoryRemembered,
    Provenance,
    Recorded,
    SessionCaptured,
    SessionExtracted,
)
from workers.derive import ACTOR, MAX_ATTEMPTS, _circuit_open, backoff
from workers.stages.capture import CaptureOutput, RuleCapturer

STAGE = "capture"


class CaptureDeriver:
    def __init__(self, capturer: object | None, *, clock: Callable[[], datetime]) -> None:
        self.capturer = capturer or RuleCapturer()
        self.clock = clock
        self._ids = UlidFactory()
        self.produced = 0  # memories remembered by this drain's captures
        self.skipped = 0  # captures left pending: the provider's circuit was open

    def derive(self, rec: Recorded, attempts_so_far: int) -> tuple[list[NewEvent], bool]:
        e = rec.event
        assert isinstance(e, SessionCaptured)
        started = time.perf_counter()
        try:
            out: CaptureOutput = self.capturer.capture(e.text)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried, never swallowed
            if _circuit_open(exc):
                self.skipped += 1
                return [], False
            return [self._failed(rec, e, exc, attempts_so_far + 1)], False
        provenance = _provenance(self.capturer, started)
        memories, new = [], []
        for i, fact in enumerate(out.facts):
            memory_id = MemoryId(self._ids.mint(self.clock()))
            memories.append(CapturedMemory(memory_id=memory_id, text=fact.text, category=fact.category))  # type: ignore[arg-type]
            remembered = MemoryRemembered(
                memory_id=memory_id, text=fact.text, category=fact.category,  # type: ignore[arg-type]
                importance=min(max(fact.importance, 1), 5), entities=fact.entities, source="agent",
                meta={"capture": e.capture_id}, key=f"capture:{e.capture_id}:{i}",
            )
            new.append(NewEvent(event=remembered, actor=ACTOR, causation=rec.seq, stage=f"{STAGE}:{i}",
                                occurred_at=rec.occurred_at))
        extracted = SessionExtracted(capture_id=e.capture_id, memories=memories, warnings=out.warnings, provenance=provenance)
        self.produced += len(memories)
        return [NewEvent(event=extracted, actor=ACTOR, causation=rec.seq, stage=STAGE), *new], True

    def _failed(self, rec: Recorded, e: SessionCaptured, exc: Exception, attempt: int) -> NewEvent:
        dead = attempt >= MAX_ATTEMPTS
        event = DerivationFailed(
            input_id=e.capture_id, stage=STAGE, error=f"{STAGE}: {type(exc).__name__}: {exc}"[:2000], attempt=attempt,
            dead=dead, retry_after=None if dead else to_iso(self.clock() + backoff(attempt)),
        )
        return NewEvent(event=event, actor=ACTOR, causation=rec.seq, stage=f"{STAGE}#{attempt}")


def _provenance(stage: object, started: float) -> Provenance:
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    account = getattr(stage, "provenance", None)
    if account is not None:
        return account(latency_ms)  # type: ignore[no-any-return]
    return Provenance(implementation=stage.implementation, version=stage.version, latency_ms=latency_ms)  # type: ignore[attr-defined]
