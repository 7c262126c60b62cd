"""Bytes per memory of a whole store, file by file and table by table
(SQLite's dbstat), everything its directory holds counted: the three
databases, their WAL files, recall's flat vector cache, the drain's index.

    .venv/bin/python tools/store_bytes.py DATA/stores/default
    .venv/bin/python tools/store_bytes.py DATA/stores/default --memories 104419 --json

The databases are opened read-only; free pages (left by a dropped table or
index, reused by later writes, returned by a VACUUM) are listed apart, as
"(free pages)", since a store built fresh has few. The divisor is every
memory row (`memories`, any status) unless `--memories` is given. Prints a
table (or, with --json, {file: {table or index: bytes per memory}}), which is
how docs/drain-costs.md's storage tables were measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def database(path: Path) -> dict[str, int]:
    """{table or index: bytes} of one database file, its free pages and its size."""
    import apsw

    conn = apsw.Connection(f"file:{path}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
    finally:
        conn.close()
    out = {str(name): int(size) for name, size in rows if size}
    out["(free pages)"] = free
    return out


def memories_in(store: Path) -> int:
    import apsw

    conn = apsw.Connection(f"file:{store / 'projections.db'}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    try:
        return int(conn.execute("SELECT count(*) FROM memories").fetchone()[0])
    finally:
        conn.close()


def breakdown(store: Path, memories: int) -> dict[str, dict[str, float]]:
    """{file: {part: bytes per memory}}, every file of `store`, with each file's "(file)" size."""
    out: dict[str, dict[str, float]] = {}
    for path in sorted(p for p in store.iterdir() if p.is_file()):
        size = path.stat().st_size
        if path.suffix == ".db":
            parts: dict[str, float] = {k: v / memories for k, v in database(path).items()}
        else:
            parts = {}
        parts["(file)"] = size / memories
        out[path.name] = parts
    out["(all files)"] = {"(file)": sum(v["(file)"] for v in out.values())}
    return out


def render(result: dict[str, dict[str, float]]) -> str:
    lines = ["| file: table or index | bytes per memory |", "|---|---:|"]
    for name, parts in result.items():
        for part, value in parts.items():
            if part != "(file)" and value >= 0.5:
                lines.append(f"| {name}: {part} | {value:,.0f} |")
        lines.append(f"| **{name}** | **{parts['(file)']:,.0f}** |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a store directory (DATA/stores/NAME)")
    parser.add_argument("--memories", type=int, help="divide by this many memories [every memory row]")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if not (args.store / "projections.db").is_file():
        raise SystemExit(f"store_bytes: no store at {args.store} (no projections.db)")
    if args.memories is not None and args.memories < 1:
        raise SystemExit("store_bytes: --memories must be at least 1")
    memories = args.memories or memories_in(args.store)
    if memories < 1:
        raise SystemExit("store_bytes: the store holds no memories; give --memories")
    result = breakdown(args.store, memories)
    if args.json:
        print(json.dumps({"memories": memories, "bytes_per_memory": result}, indent=2))
    else:
        print(f"{memories:,} memories\n{render(result)}")


if __name__ == "__main__":
    main()
