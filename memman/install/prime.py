"""`memman guide` and `memman prime`: the behavioural policy, and what a
session starts with (store status + the guide + a re-recall hint after a
compaction). Both read projections only and never write."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import msgspec

from events.errors import MemmanError

COMPACTED_HINT = (
    "The conversation was just compacted: details from before are gone from your context. "
    "Recall what the current task needs again, e.g. `memman recall \"<the task's topic>\"`."
)


class Primer(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    memories: int
    pending: int
    scheduler: str
    compacted: bool
    text: str


def hooks_dir() -> Path:
    """The installed `hooks` package directory (the wheel's assets)."""
    return Path(str(resources.files("hooks")))


def guide_text() -> str:
    return (hooks_dir() / "guide.md").read_text(encoding="utf-8")


def worker_line(data_dir: Path) -> str:
    """Who drains, and when it last did: never claims a scheduler that does not exist."""
    from events.clock import utc_now
    from memman.scheduler.worker import ago, describe

    worker = describe(data_dir)
    return f"{worker.detail}; last drain {ago(worker.last_drain, utc_now())}"


def prime(data_dir: Path, store: str | None = None, *, compacted: bool = False) -> Primer:
    from memman.service import Memman

    with Memman(data_dir, store) as app:
        active = pending = 0
        if app.registry.exists(app.store):
            try:
                rows = dict(app.fresh().main.conn.execute("SELECT status, count(*) FROM memories GROUP BY status"))
                active, pending = rows.get("active", 0), rows.get("pending", 0)
            except MemmanError as exc:  # a broken store must not break the session; say so instead
                status_line = f"memman store '{app.store}' could not be read ({exc}); run 'memman doctor'."
                return Primer(store=app.store, memories=0, pending=0, scheduler="unknown", compacted=compacted,
                              text=status_line + "\n\n" + guide_text())
        name = app.store
    scheduler = worker_line(data_dir)
    lines = [
        f"memman: store '{name}' holds {active} memories ({pending} pending the background drain).",
        f"Drain worker: {scheduler}.",
    ]
    if compacted:
        lines.append(COMPACTED_HINT)
    lines += ["", guide_text()]
    return Primer(
        store=name, memories=active, pending=pending, scheduler=scheduler, compacted=compacted, text="\n".join(lines)
    )
