"""Immunity, gc candidates and garbage collection.

gc retires (as `memory.forgotten` events with actor `gc` or `cli`, so
`memman restore ID` undoes each one) every active memory whose effective
importance (retention.py) is below the policy's `gc_below`, except the immune:

    protected                   `memman insights protect ID`
    importance 5                the user said it matters most
    younger than min_age_days   (by the time memman recorded it) too new to judge
    a decision with a rationale category decision, and the text gives a reason
                                (": ", because, since, so that, due to, to avoid,
                                in order to) or its meta has why/reason/rationale

Pending memories (not drained yet) are never candidates. Each run records the
policy it applied (when it changed) and a `retention.last_gc` marker, which the
scheduler reads to keep its cadence and `status` shows.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import msgspec

from events.clock import from_iso, to_iso
from events.log import NewEvent
from events.types import MemoryForgotten, MemoryId, StoreConfigured
from memman.lifecycle.policy import GcRun
from memman.lifecycle.retention import (
    DAY_S,
    POLICY_SETTING,
    Figures,
    RetentionPolicy,
    Usage,
    figures,
    recorded_policy,
)
from projections.queries import MEMORY_COLUMNS, MemoryRow, row_to_memory
from projections.store import StoreDB

LAST_GC_SETTING = "retention.last_gc"
_RATIONALE = re.compile(r"(?i)(?::\s|\bbecause\b|\bsince\b|\bso that\b|\bdue to\b|\bto avoid\b|\bin order to\b)")
RATIONALE_META = ("why", "reason", "rationale")


class GcCandidate(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    content: str
    category: str
    figures: Figures
    reason: str


class Candidates(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    policy: RetentionPolicy
    considered: int  # active memories looked at
    immune: dict[str, int]  # why, how many
    candidates: list[GcCandidate]
    total: int  # candidates before --limit


class GcReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    dry_run: bool
    retired: list[GcCandidate]
    policy_recorded: bool
    immune: dict[str, int]


def has_rationale(row: MemoryRow) -> bool:
    return any(row.meta.get(k, "").strip() for k in RATIONALE_META) or _RATIONALE.search(row.content) is not None


def immunity(row: MemoryRow, now: datetime, policy: RetentionPolicy) -> str | None:
    """Why gc must not retire this memory, or None."""
    if row.protected:
        return "protected"
    if row.importance >= 5:
        return "importance 5"
    if (now - from_iso(row.created_at)).total_seconds() / DAY_S < policy.min_age_days:
        return f"younger than {policy.min_age_days:g} days"
    if row.category == "decision" and has_rationale(row):
        return "decision with a rationale"
    return None


def explain(f: Figures, policy: RetentionPolicy) -> str:
    return (
        f"effective importance {f.effective:.2f} < {policy.gc_below:g}: importance {f.importance}"
        f" x decay {f.decay:.2f} (idle {f.idle_days:.0f} days) + boost {f.boost:.2f} ({f.uses} uses)"
    )


def find(db: StoreDB, store: str, policy: RetentionPolicy, now: datetime, limit: int | None = None) -> Candidates:
    """What a gc under `policy` would retire now, lowest effective importance
    first, from the projection as it is (callers catch it up; `status` must
    still answer on a full disk)."""
    conn = db.main.conn
    usage = {r[0]: Usage(uses=r[1], last_used_at=r[2]) for r in conn.execute("SELECT memory_id, uses, last_used_at FROM usage")}
    immune: Counter[str] = Counter()
    found: list[GcCandidate] = []
    considered = 0
    for raw in conn.execute(f"SELECT {MEMORY_COLUMNS} FROM memories WHERE status = 'active' ORDER BY key"):
        row = row_to_memory(raw)
        considered += 1
        why = immunity(row, now, policy)
        if why:
            immune[why] += 1
            continue
        f = figures(row.importance, row.protected, row.created_at, usage.get(row.id), now, policy)
        if f.effective < policy.gc_below:
            found.append(
                GcCandidate(id=row.id, content=row.content, category=row.category, figures=f, reason=explain(f, policy))
            )
    found.sort(key=lambda c: (c.figures.effective, c.id))
    return Candidates(
        store=store,
        policy=policy,
        considered=considered,
        immune=dict(sorted(immune.items())),
        candidates=found[:limit] if limit else found,
        total=len(found),
    )


def policy_event(db: StoreDB, policy: RetentionPolicy) -> NewEvent | None:
    """A `store.configured` recording `policy`, when it differs from what the
    store ranks by now (its last recorded policy, or the default before any)."""
    if recorded_policy(db) == policy:
        return None
    value = msgspec.json.encode(policy).decode()
    return NewEvent(event=StoreConfigured(setting=POLICY_SETTING, value=value), actor="gc")


def collect(db: StoreDB, store: str, policy: RetentionPolicy, now: datetime, *, dry_run: bool, actor: str) -> GcReport:
    """Retire every candidate (one transaction: the policy, the retirements, the marker)."""
    found = find(db, store, policy, now)
    recorded = policy_event(db, policy)
    if not dry_run:
        items = [recorded] if recorded else []
        items += [
            NewEvent(event=MemoryForgotten(memory_id=MemoryId(c.id), reason=f"gc: {c.reason}"), actor=actor)
            for c in found.candidates
        ]
        marker = msgspec.json.encode(GcRun(at=to_iso(now), retired=len(found.candidates))).decode()
        items.append(NewEvent(event=StoreConfigured(setting=LAST_GC_SETTING, value=marker), actor=actor))
        db.log.append_many(items)
        db.main.catch_up()
    return GcReport(
        store=store,
        dry_run=dry_run,
        retired=found.candidates,
        policy_recorded=bool(recorded) and not dry_run,
        immune=found.immune,
    )


def last_run(db: StoreDB) -> GcRun | None:
    raw = db.setting(LAST_GC_SETTING)
    return msgspec.json.decode(raw, type=GcRun) if raw else None


def next_due(db: StoreDB, every_h: float) -> datetime | None:
    """When the scheduler runs gc next: `every_h` after the last run (or after
    the store's first event, so a new store is not collected at once); None
    when scheduled gc is off."""
    if every_h <= 0:
        return None
    last = last_run(db)
    if last is not None:
        start = from_iso(last.at)
    else:
        row = db.log.conn.execute("SELECT recorded_at FROM events ORDER BY seq LIMIT 1").fetchone()
        if row is None:
            return None
        start = from_iso(row[0])
    return start + timedelta(hours=every_h)
