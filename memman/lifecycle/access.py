"""Use, recorded off the hot path.

`recall` appends one line per call to `<store>/access.log`: the time and the
ids it returned (no query, no content), one O_APPEND write of well under a
page, which costs tens of microseconds and never takes the log's write lock.
The worker (`fold`, run by every drain) moves the file aside under a batch
name, counts uses per memory, appends them as one `memory.accessed` event
and deletes the file; the log stays the source of truth, and replay rebuilds
the `usage` projection from those events alone.

A fold interrupted after its append is not counted twice: the event names
its batch, and a leftover batch file whose event exists is just removed.
A recall that appends in the instant the file is moved aside may lose its
record: use is a ranking signal, not an audit trail.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from events.clock import from_iso, to_iso
from events.ids import UlidFactory
from events.types import Access, MemoryAccessed, MemoryId
from projections.store import StoreDB

ACCESS_FILE = "access.log"
FOLDING = ".folding"
ACTOR = "worker"


def record(directory: Path, ids: list[str], at: object) -> None:
    """Note that a recall returned `ids` (nothing when it returned none)."""
    if not ids:
        return
    line = f"{to_iso(at)} {' '.join(ids)}\n".encode()  # type: ignore[arg-type]
    fd = os.open(directory / ACCESS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def fold(db: StoreDB) -> int:
    """Fold every pending access record into the log; returns the uses folded."""
    directory = db.directory
    folded = sum(_fold_file(db, leftover) for leftover in sorted(directory.glob(f"access.*{FOLDING}")))
    live = directory / ACCESS_FILE
    if live.exists():
        batch = directory / f"access.{UlidFactory().mint(db.now())}{FOLDING}"
        os.replace(live, batch)
        folded += _fold_file(db, batch)
    return folded


def _already_folded(db: StoreDB, batch: str) -> bool:
    rows = db.log.conn.execute(
        "SELECT seq FROM events WHERE type = 'memory.accessed' ORDER BY seq DESC LIMIT 16"
    ).fetchall()
    return any(db.log.get(seq).event.batch == batch for (seq,) in rows)  # type: ignore[union-attr]


def _fold_file(db: StoreDB, path: Path) -> int:
    batch = path.name.removeprefix("access.").removesuffix(FOLDING)
    if _already_folded(db, batch):
        path.unlink(missing_ok=True)
        return 0
    counts: Counter[str] = Counter()
    last: dict[str, str] = {}
    for raw in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        at, _, ids = raw.partition(" ")
        if len(at) != 27 or not ids:  # a torn or foreign line: skip it, never fail the drain
            continue
        for memory_id in ids.split():
            counts[memory_id] += 1
            last[memory_id] = max(last.get(memory_id, at), at)
    known = _known(db, list(counts))
    accesses = [
        Access(memory_id=MemoryId(m), count=counts[m], last_at=from_iso(last[m])) for m in sorted(counts) if m in known
    ]
    if accesses:
        newest = max(a.last_at for a in accesses)
        db.log.append(MemoryAccessed(batch=batch, accesses=accesses), actor=ACTOR, occurred_at=newest)
    path.unlink(missing_ok=True)
    return sum(a.count for a in accesses)


def _known(db: StoreDB, ids: list[str]) -> set[str]:
    """Ids still in the store (a purged memory's uses are dropped with it)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = db.main.conn.execute(f"SELECT id FROM memories WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))
        found.update(r[0] for r in rows)
    return found
