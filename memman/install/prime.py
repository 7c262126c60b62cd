"""`memman guide` and `memman prime`: the behavioural policy, and what a
session starts with (store status + the guide + a re-recall hint after a
compaction). Both read projections only and never write."""

from __future__ import annotations

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
    from importlib import resources  # pulls in tempfile, shutil, bz2, lzma (~5 ms): not for every prompt hook

    return Path(str(resources.files("hooks")))


def guide_text() -> str:
    return (hooks_dir() / "guide.md").read_text(encoding="utf-8")


def worker_line(data_dir: Path) -> str:
    """Who drains, and when it last did: never claims a scheduler that does not exist."""
    from events.clock import utc_now
    from memman.scheduler.worker import ago, describe

    worker = describe(data_dir)
    return f"{worker.detail}; last drain {ago(worker.last_drain, utc_now())}"


def _counts(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    rows = dict(app.fresh().main.conn.execute("SELECT status, count(*) FROM memories GROUP BY status"))
    return rows.get("active", 0), rows.get("pending", 0)


def prime(data_dir: Path, store: str | None = None, *, compacted: bool = False, cwd: str | None = None) -> Primer:
    """Status of the scope's stores (project and personal, from `cwd`), the
    drain worker said truthfully, the guide. Never writes, never creates a store."""
    from memman.integration.fence import clean
    from memman.scope.service import Scoped

    lines: list[str] = []
    active = pending = 0
    with Scoped.at(data_dir, store, cwd) as scoped:
        scope = scoped.scope
        for name in scope.reads:
            app = scoped.app(name)
            label = f"project store '{name}' ({clean(scope.project_root or '')})" if name == scope.project else f"store '{name}'"
            if name == scope.personal and scope.project:
                label = f"personal store '{name}'"
            if not app.registry.exists(name):
                lines.append(f"memman: {label} is empty (created on the first remember).")
                continue
            try:
                a, p = _counts(app)
            except MemmanError as exc:  # a broken store must not break the session; say so instead
                lines.append(f"memman: {label} could not be read ({clean(str(exc))}); run 'memman doctor'.")
                continue
            active, pending = active + a, pending + p
            lines.append(f"memman: {label} holds {a} memories ({p} pending the background drain).")
        name = scope.write
    scheduler = worker_line(data_dir)
    lines.append(f"Drain worker: {scheduler}.")
    if compacted:
        lines.append(COMPACTED_HINT)
    lines += ["", guide_text()]
    return Primer(
        store=name, memories=active, pending=pending, scheduler=scheduler, compacted=compacted, text="\n".join(lines)
    )
