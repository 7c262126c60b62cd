"""Re-derive a store from its original inputs, compare, and cut over.

When a prompt or model changes, enrichment and causal edges can be re-derived
in place (`rederive`, `graph rebuild --llm`), but extraction and
reconciliation shaped the memories themselves. This re-runs them from the
start:

1. A shadow store receives copies of the live store's commands (remembered,
   replaced, forgotten, restored, protected, linked, unlinked), with their
   own memory ids and times, and the live embedder binding and edge policy.
2. It is drained under the live store's *current* settings (rules or LLM).
3. The two are compared: memories active in one and not the other.
4. With `cut_over`, writes pause (recall-only) while, under the drain lock,
   commands appended meanwhile are carried over and drained, and the
   directories swap: the shadow becomes the store, and the old store is kept
   whole, log and all, as `<store>-before-rederive-<time>`, so its audit
   trail stays readable with `--store`. Without it the shadow is removed
   (or kept with `keep_shadow`, to inspect with `--store`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from events.clock import Clock
from events.log import EventLog, NewEvent
from events.types import COMMAND_TYPES
from memman.maintenance import drain_one
from memman.service import Memman
from memman.stores import Registry
from projections.graph import EDGE_POLICY_SETTING
from events.errors import BadInput
from projections.store import LOG_FILE, StoreDB

CARRIED_SETTINGS = frozenset({"embedder", EDGE_POLICY_SETTING})  # not an in-flight embedder swap
SHOWN = 20
BATCH = 2000


class ShadowReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    shadow: str
    commands_copied: int
    live: dict[str, int]  # memories by status
    rederived: dict[str, int]
    only_live: list[str]  # active contents the re-derivation no longer has (at most 20)
    only_rederived: list[str]  # and the other way round
    cut_over: bool
    archived_as: str | None
    kept_shadow: bool
    seconds: float


def _copy(live: EventLog, shadow_dir: Path, after: int, clock: Clock) -> tuple[int, int]:
    """Append the live commands after seq `after` to the shadow; (copied, last seq read)."""
    target = EventLog(shadow_dir / LOG_FILE, clock=clock)
    copied, last = 0, after
    try:
        batch: list[NewEvent] = []
        for rec in live.read(after=after, types=COMMAND_TYPES):
            last = rec.seq
            e = rec.event
            if rec.type == "store.configured" and e.setting not in CARRIED_SETTINGS:  # type: ignore[union-attr]
                continue
            batch.append(NewEvent(event=e, actor=rec.actor, occurred_at=rec.occurred_at))
            if len(batch) >= BATCH:
                copied += len(target.append_many(batch))
                batch = []
        copied += len(target.append_many(batch))
    finally:
        target.close()
    return copied, max(last, live.head())


def _state(db: StoreDB) -> tuple[dict[str, int], set[str]]:
    db.catch_up()
    conn = db.main.conn
    counts = dict(conn.execute("SELECT status, count(*) FROM memories GROUP BY status").fetchall())
    active = {r[0] for r in conn.execute("SELECT content FROM memories WHERE status = 'active'")}
    return counts, active


@contextmanager
def _recall_only(data_dir: Path) -> Iterator[None]:
    """Refuse writes for the moment of the swap (unless already stopped)."""
    from memman.scheduler import state

    marker = state.directory(data_dir) / state.STOPPED
    created = not marker.exists()
    if created:
        marker.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        marker.write_text("recall-only while 'memman rederive --from-inputs --cut-over' swaps the store\n")
    try:
        yield
    finally:
        if created:
            marker.unlink(missing_ok=True)


def _free_stamp(registry: Registry, store: str, stamp: str) -> str:
    """A stamp no earlier shadow or archive of this store uses: two cut-overs
    in the same second once collided on the archive's name (found by the
    CLI fuzzer in tests/reliability)."""
    candidate, n = stamp, 1
    while any(registry.path(f"{store[:40]}-{kind}-{candidate}").exists() for kind in ("rederive", "before-rederive")):
        n += 1
        candidate = f"{stamp}-{n}"
    return candidate


def rederive_from_inputs(app: Memman, *, cut_over: bool = False, keep_shadow: bool = False) -> ShadowReport:
    from workers.lock import drain_lock

    app.ensure_writable()
    if cut_over and app.db.log.backend != "sqlite":
        raise BadInput("rederive --cut-over swaps local files and cannot move a PostgreSQL log; "
                       "compare with --keep-shadow, or 'memman migrate --to sqlite' first")
    started = time.perf_counter()
    registry: Registry = app.registry
    data_dir = registry.data_dir
    stamp = _free_stamp(registry, app.store, app.clock().strftime("%Y%m%d%H%M%S"))
    live_dir = registry.require(app.store)
    shadow = f"{app.store[:40]}-rederive-{stamp}"
    shadow_dir, _ = registry.create(shadow)
    log = app.db.log
    with drain_lock(data_dir):
        copied, upto = _copy(log, shadow_dir, 0, app.clock)
        drain_one(data_dir, shadow_dir, shadow, settings_store=app.store, clock=app.clock)
    live_counts, live_active = _state(app.fresh())
    shadow_db = StoreDB(shadow_dir, clock=app.clock)
    try:
        shadow_counts, shadow_active = _state(shadow_db)
    finally:
        shadow_db.close()
    archived = None
    if cut_over:
        archived = f"{app.store[:40]}-before-rederive-{stamp}"
        with _recall_only(data_dir), drain_lock(data_dir):
            more, upto = _copy(log, shadow_dir, upto, app.clock)
            copied += more
            if more:
                drain_one(data_dir, shadow_dir, shadow, settings_store=app.store, clock=app.clock)
            app.close()
            live_dir.rename(registry.path(archived))
            shadow_dir.rename(live_dir)
    elif not keep_shadow:
        shutil.rmtree(shadow_dir)
    return ShadowReport(
        store=app.store,
        shadow=shadow,
        commands_copied=copied,
        live=live_counts,
        rederived=shadow_counts,
        only_live=sorted(live_active - shadow_active)[:SHOWN],
        only_rederived=sorted(shadow_active - live_active)[:SHOWN],
        cut_over=cut_over,
        archived_as=archived,
        kept_shadow=keep_shadow and not cut_over,
        seconds=round(time.perf_counter() - started, 3),
    )
