"""The lifecycle as the CLI and the scheduler use it: protect / unprotect
live on `Memman`; candidates, gc, the scheduler's maintenance step and the
status figures live here."""

from __future__ import annotations

from datetime import datetime

import msgspec

from events.clock import to_iso
from memman.lifecycle.access import fold
from memman.lifecycle.gc import Candidates, GcReport, collect, find, last_run, next_due, policy_event
from memman.lifecycle.retention import RetentionPolicy, recorded_policy
from memman.output.results import RetentionStatus
from memman.service import Memman
from projections.store import StoreDB


class Maintenance(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    uses_folded: int
    policy_recorded: bool
    gc: GcReport | None  # when the cadence made it due


def _settings(app: Memman):  # type: ignore[no-untyped-def]
    from memman.config import settings_for

    return settings_for(app.registry.data_dir, app.store).retention


def candidates(app: Memman, limit: int | None = None) -> Candidates:
    """What `memman gc` would retire now, under the configured policy."""
    policy = RetentionPolicy.from_settings(_settings(app))
    return find(app.fresh(), app.store, policy, app.clock(), limit)


def gc(app: Memman, *, dry_run: bool = False) -> GcReport:
    if not dry_run:
        app.ensure_writable()
    policy = RetentionPolicy.from_settings(_settings(app))
    return collect(app.fresh(), app.store, policy, app.clock(), dry_run=dry_run, actor="cli")


def maintain(db: StoreDB, store: str, settings: object, now: datetime) -> Maintenance:
    """The scheduler's step after each drain: fold recorded use into the
    log, record a changed policy, and run gc when its cadence says so."""
    folded = fold(db)
    db.main.catch_up()
    policy = RetentionPolicy.from_settings(settings)
    due = next_due(db, settings.gc_every_h)  # type: ignore[attr-defined]
    if due is not None and now >= due:
        report = collect(db, store, policy, now, dry_run=False, actor="gc")
        return Maintenance(store=store, uses_folded=folded, policy_recorded=report.policy_recorded, gc=report)
    event = policy_event(db, policy)
    if event is not None:
        db.log.append_many([event])
        db.main.catch_up()
    return Maintenance(store=store, uses_folded=folded, policy_recorded=event is not None, gc=None)


def status(app: Memman) -> RetentionStatus:
    settings = _settings(app)
    db = app.db
    configured = RetentionPolicy.from_settings(settings)
    due = next_due(db, settings.gc_every_h)
    protected = db.main.conn.execute(
        "SELECT count(*) FROM memories WHERE protected AND status IN ('active', 'pending')"
    ).fetchone()[0]
    return RetentionStatus(
        policy=recorded_policy(db),
        configured_differs=recorded_policy(db) != configured,
        gc_every_h=settings.gc_every_h,
        last_gc=last_run(db),
        next_gc=to_iso(due) if due else None,
        candidates=find(db, app.store, configured, app.clock()).total,
        protected=protected,
    )
