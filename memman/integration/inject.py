"""Relevance-gated prompt injection (UserPromptSubmit, OpenClaw's
before_prompt_build, MCP-less agents).

For a prompt, recall the scope's stores (project first) and keep only the
memories that are more likely relevant than not; fence them as untrusted
data within a character budget. Three outcomes, never a fourth:

    Injected(block)   at least one memory passed the gate
    nothing (None)    recall answered in time and nothing passed: the prompt
                      gets nothing at all, not even a reminder
    TimedOut          recall did not answer within the time budget (or
                      failed): the caller fails open (the plain reminder)

The gate. `INJECT_MIN_SIMILARITY` is the cosine similarity between the
prompt's and the memory's embedding that a memory must reach; it was
calibrated with tools/inject_calibration.py on the default static embedder
(docs/integration.md has the figures). A memory the drain has not embedded
yet (pending) has no similarity and is not injected: keyword overlap alone
("what is 17 times 23" shares "times" with many texts) is not evidence of
relevance. The automatic drain embeds new memories within seconds.
Once recall reports calibrated absolute scores (memman.recall's
INJECT_MIN_SCORE), this gate becomes that threshold.

The time budget runs from `started` (the hook's start): recall runs in a
daemon thread and a late answer is abandoned, never awaited.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import msgspec

from memman.integration.fence import Item, fence

INJECT_MIN_SIMILARITY = 0.52  # tools/inject_calibration.py: tuning-half unrelated max 0.47 + 0.05
MAX_CHARS = 3000  # far below Claude Code's 10,000-character additionalContext preview and its 50 KB cap
QUERY_CHARS = 2000


class Injected(msgspec.Struct, frozen=True, kw_only=True):
    block: str
    ids: list[str]


class TimedOut(msgspec.Struct, frozen=True, kw_only=True):
    reason: str


def relevant(hit) -> bool:  # type: ignore[no-untyped-def]
    similarity = hit.signals.similarity
    return hit.status == "active" and similarity is not None and similarity >= INJECT_MIN_SIMILARITY


def select(result, limit: int) -> list[Item]:  # type: ignore[no-untyped-def]
    return [
        Item(id=h.id, text=h.content, category=h.category, store=h.store, score=h.signals.similarity)
        for h in result.results
        if relevant(h)
    ][:limit]


def inject(
    data_dir: Path,
    flag: str | None,
    cwd: str | None,
    prompt: str,
    *,
    limit: int,
    budget_ms: int,
    started: float,
    max_chars: int = MAX_CHARS,
) -> Injected | TimedOut | None:
    from events.errors import MemmanError
    from memman.scope.service import Scoped

    answer: dict[str, object] = {}

    def work() -> None:
        try:
            with Scoped.at(data_dir, flag, cwd) as scoped:
                answer["result"] = scoped.recall(prompt[:QUERY_CHARS], limit=max(limit * 3, 10))
        except (MemmanError, OSError) as exc:  # fail open: the prompt goes on without memories
            answer["error"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - the one seam where any failure must fail open, never a traceback in the agent
            if os.environ.get("MEMMAN_DEBUG") == "1":
                raise
            answer["error"] = f"unexpected {type(exc).__name__}: {exc}"

    remaining = budget_ms / 1000 - (time.perf_counter() - started)
    if remaining <= 0:  # spent before recall could start: a race the thread could win would make this flaky
        return TimedOut(reason=f"no time left of the {budget_ms} ms budget")
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(remaining)
    if "result" not in answer:
        return TimedOut(reason=str(answer.get("error") or f"recall took longer than {budget_ms} ms"))
    items = select(answer["result"], limit)
    block = fence(items, max_chars=max_chars) if items else None
    if block is None:
        return None
    return Injected(block=block, ids=[i.id for i in items][: block.count("<memory ")])
