"""Replay gives back exactly the store that was built incrementally.

A store is built through the real CLI (remembers, duplicates, updates,
forget, restore, replace, manual links, an import, several drains); every
projection row and every stored vector is snapshotted; then `events replay`,
and separately deleting the projection files, must reproduce the snapshot
exactly. Replay never loads an embedder: vectors come from the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import apsw

from memman.output.render import short

FTS_SHADOW = ("memories_fts_", "memories_wide_")


def snapshot(store: Path) -> dict[str, list[tuple]]:
    """Every row of every table in both projection files (FTS shadow tables
    excluded: their segment layout depends on merge history, not content),
    plus what the FTS index answers for every indexed word."""
    out: dict[str, list[tuple]] = {}
    for name in ("projections.db", "vectors.db"):
        conn = apsw.Connection(str(store / name), flags=apsw.SQLITE_OPEN_READONLY)
        tables = [
            r[0]
            for r in conn.execute(  # views too: `edges` is the graph's ids-and-types face of its integer rows
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
            )
            if not r[0].startswith(FTS_SHADOW) and r[0] != "memories_fts"
        ]
        for table in sorted(tables):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_xinfo({table})")]
            out[f"{name}:{table}"] = conn.execute(
                f"SELECT {', '.join(cols)} FROM {table} ORDER BY {', '.join(cols)}"
            ).fetchall()
        if name == "projections.db":
            conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, memories_fts, 'instance')")
            out["fts:instances"] = conn.execute(
                "SELECT term, doc, col, offset FROM temp.vocab ORDER BY 1, 2, 3, 4"
            ).fetchall()
        conn.close()
    return out


def build_store(memman, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    def ok(*args: str, input: str | None = None) -> str:
        run = memman(*args, input=input)
        assert run.code == 0, run.err
        return run.out

    def remember(text: str, *extra: str) -> str:
        return json.loads(ok("remember", text, "--json", *extra))["id"]

    a = remember("We chose SQLite because it has zero dependencies", "--cat", "decision", "--source", "user")
    b = remember("The API timeout is 30s. It applies to every client.", "--entities", "API")
    ok("scheduler", "drain")
    remember("the api timeout is 30s")  # duplicate -> NONE
    remember("The API timeout is 60s")  # value change -> UPDATE
    c = remember("Alice prefers tabs over spaces", "--at", "2024-05-01T09:00:00Z", "--meta", "team=core")
    ok("scheduler", "drain")
    ok("forget", short(a), "--reason", "test")
    ok("restore", short(a))
    ok("forget", short(c))
    ok("replace", b, "The API timeout is 45s")
    ok("graph", "link", a, c, "--type", "causal", "--weight", "0.7")
    lines = "\n".join(json.dumps({"text": f"Service {n} listens on port {8000 + n}", "cat": "fact"}) for n in range(30))
    (tmp_path / "bulk.jsonl").write_text(lines + "\n")
    ok("import", str(tmp_path / "bulk.jsonl"))
    ok("scheduler", "drain")
    remember("Bob joined the platform team in March")  # left pending on purpose
    ok("status")  # catches every projection up
    return Path(os.environ["MEMMAN_DATA_DIR"]) / "stores" / "default"


def test_replay_reproduces_the_incrementally_built_store(memman, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = build_store(memman, tmp_path)
    before = snapshot(store)
    assert len(before["projections.db:memories"]) >= 36
    assert len(before["vectors.db:vectors"]) >= 34
    assert {r[2] for r in before["projections.db:edges"]} == {"temporal", "entity", "semantic", "causal", "story"}
    statuses = {r[9] for r in before["projections.db:memories"]}  # forgotten flag and friends vary
    assert statuses == {0, 1}

    run = memman("events", "replay", "--json")
    assert run.code == 0, run.err
    report = run.json()
    assert report["events_applied"] > 0 and report["seconds"] >= 0
    assert snapshot(store) == before

    verify = memman("events", "verify")
    assert verify.code == 0 and verify.out.startswith("ok"), verify.out


def test_deleted_projection_files_are_rebuilt_from_the_log(memman, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = build_store(memman, tmp_path)
    before = snapshot(store)
    for name in ("projections.db", "vectors.db"):
        for suffix in ("", "-wal", "-shm"):
            (store / f"{name}{suffix}").unlink(missing_ok=True)
    assert memman("status").code == 0
    assert snapshot(store) == before


def test_replay_loads_no_embedder_and_no_model(data_dir: Path, memman, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    build_store(memman, tmp_path)
    probe = (
        "import sys, atexit\n"
        "atexit.register(lambda: None)  # main() exits the ordinary way, so the print runs\n"
        "sys.argv = ['memman', 'events', 'replay']\n"
        "from memman.entry import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "loaded = [m for m in sys.modules if m.startswith('workers.embedders') or m in ('numpy', 'httpx')]\n"
        "print('LOADED:' + ','.join(sorted(loaded)))\n"
    )
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    [line] = [x for x in out.splitlines() if x.startswith("LOADED:")]
    assert line == "LOADED:"


def test_a_corrupt_projection_is_moved_aside_rebuilt_and_reported(memman, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = build_store(memman, tmp_path)
    before = snapshot(store)
    for name in ("projections.db", "vectors.db"):
        for suffix in ("-wal", "-shm"):
            (store / f"{name}{suffix}").unlink(missing_ok=True)
        (store / name).write_bytes(b"this is not a database" * 100)
    run = memman("recall", "SQLite")
    assert run.code == 0
    assert "SQLite" in run.out
    assert run.err.count("memman: warning: ") == 2
    assert "projections.db was corrupt; moved it to projections.db.corrupt-" in run.err
    assert len(list(store.glob("*.corrupt-*"))) == 2
    assert snapshot(store) == before


def test_a_corrupt_log_is_an_error_not_a_rebuild(memman, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = build_store(memman, tmp_path)
    for suffix in ("-wal", "-shm"):
        (store / f"log.db{suffix}").unlink(missing_ok=True)
    (store / "log.db").write_bytes(b"garbage" * 1000)
    run = memman("recall", "SQLite")
    assert run.code == 5
    assert run.err.startswith("memman: error: ") and run.err.count("\n") == 1
    assert "corrupt" in run.err or "not a" in run.err
