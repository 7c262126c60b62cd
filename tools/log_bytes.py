"""Bytes per memory of a log.db by table and index (SQLite's dbstat), and
optionally of the same events copied into a new log in today's format.

    .venv/bin/python tools/log_bytes.py STORE/log.db --memories 100000
    .venv/bin/python tools/log_bytes.py COPY/log.db --memories 100000 --compact-copy /tmp/compact.db

`--compact-copy` copies every event (`events.backends.copy.copy_log`: the
content hash stays equal, checked) into a new log file, which a current
memman creates with compact envelopes (docs/drain-costs.md, "Compact log,
fifth pass"), and prints both. The source is opened read-only; work on a
copy of a store you must not touch (its WAL is not checkpointed). Prints
JSON: {file: {table or index: bytes per memory}, with "(payloads)" the
payload bytes inside the events table}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def breakdown(path: Path, memories: int) -> dict[str, int]:
    import apsw

    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        table = "event_rows" if any(name == "event_rows" for name, _ in rows) else "events"
        payloads = conn.execute(f"SELECT sum(length(payload)) FROM {table}").fetchone()[0] or 0
    finally:
        conn.close()
    out = {name: round(size / memories) for name, size in rows if size}
    out["(payloads)"] = round(payloads / memories)
    out["(file)"] = round(sum(size for _, size in rows) / memories)
    return out


def compact_copy(source: Path, target: Path) -> None:
    from events.backends.copy import content_hash, copy_log
    from events.log import EventLog

    if target.exists():
        raise SystemExit(f"{target} exists: give a new file")
    old, new = EventLog(source, readonly=True), EventLog(target)
    try:
        copy_log(old, new)
        if content_hash(old) != content_hash(new):
            raise SystemExit("the copy's content hash differs from the source's")
        new.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        old.close()
        new.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", type=Path)
    parser.add_argument("--memories", type=int, required=True, help="divide by this many memories")
    parser.add_argument("--compact-copy", type=Path, help="copy the events into this new log file and measure it too")
    args = parser.parse_args()
    if args.memories < 1:
        raise SystemExit("--memories must be at least 1")
    if not args.log.is_file():
        raise SystemExit(f"no log at {args.log}")
    result = {str(args.log): breakdown(args.log, args.memories)}
    if args.compact_copy:
        compact_copy(args.log, args.compact_copy)
        result[str(args.compact_copy)] = breakdown(args.compact_copy, args.memories)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
