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

The gate. A memory must reach recall's calibrated relevance score
`memman.recall.INJECT_MIN_SCORE` (a probability of relevance fitted on the
recall benchmark's tuning half; docs/recall-ranking.md), and must have been
embedded: a memory the drain has not embedded yet (pending) is not injected,
because keyword overlap alone ("what is 17 times 23" shares "times" with many
texts) is not evidence of relevance. The automatic drain embeds new memories
within seconds. (The raw cosine gate used before recall's scores were
calibrated stopped meaning anything once recall centred the vectors.)

The time budget runs from `started` (the hook's start): recall runs in a
daemon thread and a late answer is abandoned, never awaited.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from pathlib import Path

import msgspec

from memman.integration.fence import Item, fence

MAX_CHARS = 3000  # far below Claude Code's 10,000-character additionalContext preview and its 50 KB cap
QUERY_CHARS = 2000


class Injected(msgspec.Struct, frozen=True, kw_only=True):
    block: str
    ids: list[str]


class TimedOut(msgspec.Struct, frozen=True, kw_only=True):
    reason: str


def relevant(hit) -> bool:  # type: ignore[no-untyped-def]
    from memman.recall import INJECT_MIN_SCORE

    return hit.status == "active" and hit.signals.similarity is not None and hit.score >= INJECT_MIN_SCORE


def select(result, limit: int) -> list[Item]:  # type: ignore[no-untyped-def]
    return [
        Item(id=h.id, text=h.content, category=h.category, store=h.store, score=h.score)
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
                # not a use yet: only what passes the gate and fits the block is (noted below)
                answer["result"] = scoped.recall(prompt[:QUERY_CHARS], limit=max(limit * 3, 10), note_use=False)
        except (MemmanError, OSError) as exc:  # fail open: the prompt goes on without memories
            answer["error"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - the one seam where any failure must fail open, never a traceback in the agent
            if os.environ.get("MEMMAN_DEBUG") == "1":
                raise
            answer["error"] = f"unexpected {type(exc).__name__}: {exc}"

    remaining = budget_ms / 1000 - (time.perf_counter() - started)
    if remaining <= 0:  # spent before recall could start: a race the thread could win would make this flaky
        return TimedOut(reason=f"no time left of the {budget_ms} ms budget")
    # in this call's context: the warm server's store pool (projections/pool.py) lends to the thread too
    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True)
    thread.start()
    thread.join(remaining)
    if "result" not in answer:
        return TimedOut(reason=str(answer.get("error") or f"recall took longer than {budget_ms} ms"))
    items = select(answer["result"], limit)
    block = fence(items, max_chars=max_chars) if items else None
    if block is None:
        return None
    injected = items[: block.count("<memory ")]
    note_injected(data_dir, injected)
    return Injected(block=block, ids=[i.id for i in injected])


def note_injected(data_dir: Path, items: list[Item]) -> None:
    """Count as used exactly the memories that reached the prompt (recall's
    other candidates were not consumed): one append per store to the use
    records the drain folds into the log (memman/lifecycle/access.py). A
    store that cannot take it (read-only) loses that use, silently."""
    from events.clock import utc_now
    from memman.lifecycle.access import record
    from memman.stores import Registry

    registry = Registry(data_dir)
    by_store: dict[str, list[str]] = {}
    for item in items:
        by_store.setdefault(item.store, []).append(item.id)
    for store, ids in by_store.items():
        try:
            record(registry.path(store), ids, utc_now())
        except (OSError, ValueError):
            continue
