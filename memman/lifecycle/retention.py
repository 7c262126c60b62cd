"""Effective importance: stored importance, decayed with time since last use,
boosted by use. A pure function of the log plus a moment:

    idle      = now - max(learnt, last use)         (learnt = recorded time)
    decay     = floor + (1 - floor) x 0.5 ^ (idle_days / half_life_days)
                (1 for protected memories: a pin does not fade)
    boost     = min(max_boost, boost_per_use x log2(1 + uses))
    effective = importance x decay + boost
    ranking   : score x (1 + rank_weight x (effective - 3))

"Use" is a recall that returned the memory (memory.accessed events, folded
from a side file by the worker: see access.py); "learnt" is when memman
recorded it, so importing old notes does not age them at once. The weights are
the store's recorded policy (a `store.configured` event, `retention.policy`),
written from `[retention]` when a drain or gc runs, so replaying the log gives
the same ranking, and a ranking can be traced to the policy it used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime

import msgspec

from events.clock import from_iso
from memman.lifecycle.policy import RetentionPolicy
from projections.queries import MemoryRow
from projections.store import StoreDB

POLICY_SETTING = "retention.policy"
NEUTRAL = 3  # the importance at which ranking is neither raised nor lowered
MIN_FACTOR = 0.05
DAY_S = 86400.0


class Figures(msgspec.Struct, frozen=True, kw_only=True):
    """Every number behind one memory's effective importance."""

    importance: int
    idle_days: float
    uses: int
    decay: float
    boost: float
    effective: float


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    uses: int = 0
    last_used_at: str | None = None


def figures(
    importance: int, protected: bool, learnt_at: str, usage: Usage | None, now: datetime, policy: RetentionPolicy
) -> Figures:
    usage = usage or Usage()
    last = max(learnt_at, usage.last_used_at or learnt_at)  # fixed-width ISO strings sort as times
    idle_days = max(0.0, (now - from_iso(last)).total_seconds() / DAY_S)
    decay = 1.0 if protected else policy.floor + (1 - policy.floor) * 0.5 ** (idle_days / policy.half_life_days)
    boost = min(policy.max_boost, policy.boost_per_use * math.log2(1 + usage.uses))
    return Figures(
        importance=importance,
        idle_days=round(idle_days, 3),
        uses=usage.uses,
        decay=round(decay, 4),
        boost=round(boost, 4),
        effective=round(importance * decay + boost, 4),
    )


def rank_factor(effective: float, policy: RetentionPolicy) -> float:
    return max(MIN_FACTOR, 1 + policy.rank_weight * (effective - NEUTRAL))


def usage_of(db: StoreDB, ids: Iterable[str]) -> dict[str, Usage]:
    wanted = list(ids)
    found: dict[str, Usage] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.main.conn.execute(
            f"SELECT memory_id, uses, last_used_at FROM usage WHERE memory_id IN ({','.join('?' * len(chunk))})",
            tuple(chunk),
        )
        found.update((r[0], Usage(uses=r[1], last_used_at=r[2])) for r in rows)
    return found


def recorded_policy(db: StoreDB) -> RetentionPolicy:
    """The policy the store's log last recorded (the default before any)."""
    raw = db.setting(POLICY_SETTING)
    return msgspec.json.decode(raw, type=RetentionPolicy) if raw else RetentionPolicy()


def moment(db: StoreDB) -> datetime:
    """Now, or for a view of the past (`recall --as-of`) the time it stands at."""
    if db.upto is not None:
        row = db.log.conn.execute("SELECT recorded_at FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT 1", (db.upto,)).fetchone()
        if row:
            return from_iso(row[0])
    return db.now()


def importance_weigher(db: StoreDB, rows: Iterable[MemoryRow]) -> Callable[[MemoryRow], float]:
    """What recall multiplies a result's score by: the rank factor of the
    memory's effective importance under the store's recorded policy."""
    policy = recorded_policy(db)
    candidates = list(rows)
    usage = usage_of(db, [r.id for r in candidates])
    now = moment(db)

    def weigh(row: MemoryRow) -> float:
        f = figures(row.importance, row.protected, row.created_at, usage.get(row.id), now, policy)
        return rank_factor(f.effective, policy)

    return weigh
