"""Named stores and moving memories between them: `store list|create|use|remove`
manage them, the store a command uses is --store > MEMMAN_STORE > `store use` >
default, memories never leak from one store into another, and an export
imports into another store as the same texts and categories."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.conftest import Cli, assert_error


def _store_of_new_memory(cli: Cli, *args: str, env: dict[str, str] | None = None) -> str:
    return cli.json(*args, "remember", "Which store am I in", env=env)["store"]


# ------------------------------------------------------------------ store list|create|use|remove


def test_store_list_on_a_fresh_data_dir_is_empty(cli: Cli) -> None:
    assert cli.json("store", "list") == {"stores": []}
    assert cli.ok("store", "list").out == "no stores yet (the default store is created on first remember)\n"


def test_store_create_prints_the_name_and_path_and_the_store_is_listed(cli: Cli, data_dir: Path) -> None:
    assert cli.json("store", "create", "project-x") == {
        "store": "project-x",
        "path": str(data_dir / "stores" / "project-x"),
        "backend": "sqlite",
        "reads": "replica",
    }
    assert cli.ok("store", "create", "notes_2").out == "created store notes_2\n"
    assert cli.json("store", "list") == {
        "stores": [
            {"name": "notes_2", "active": False, "memories": None, "path": str(data_dir / "stores" / "notes_2")},
            {"name": "project-x", "active": False, "memories": None, "path": str(data_dir / "stores" / "project-x")},
        ]
    }


def test_the_default_store_springs_into_being_on_first_remember(cli: Cli) -> None:
    cli.remember("First memory ever")
    assert [(s["name"], s["active"]) for s in cli.json("store", "list")["stores"]] == [("default", True)]
    assert cli.ok("store", "list").out == "* default\n"


def test_store_use_changes_the_default_for_later_commands(cli: Cli, data_dir: Path) -> None:
    cli.ok("store", "create", "work")
    assert cli.ok("store", "use", "work").out == "using store work\n"
    assert (data_dir / "active_store").read_text() == "work\n"
    assert _store_of_new_memory(cli) == "work"
    assert cli.json("status")["store"] == "work"
    assert cli.ok("store", "list").out == "* work\n"  # default was never used, so it does not exist


def test_store_precedence_is_flag_then_env_then_active_file_then_default(cli: Cli) -> None:
    for name in ("from-file", "from-env", "from-flag"):
        cli.ok("store", "create", name)
    assert _store_of_new_memory(cli) == "default"
    cli.ok("store", "use", "from-file")
    assert _store_of_new_memory(cli) == "from-file"
    env = {"MEMMAN_STORE": "from-env"}
    assert _store_of_new_memory(cli, env=env) == "from-env"
    assert _store_of_new_memory(cli, "--store", "from-flag", env=env) == "from-flag"
    # `store list` marks the store a command would use under the same rules
    active = [s["name"] for s in cli.json("--store", "from-flag", "store", "list", env=env)["stores"] if s["active"]]
    assert active == ["from-flag"]
    active = [s["name"] for s in cli.json("store", "list", env=env)["stores"] if s["active"]]
    assert active == ["from-env"]


def test_memories_in_one_store_are_never_recalled_from_another(cli: Cli) -> None:
    cli.ok("store", "create", "alpha")
    cli.ok("store", "create", "beta")
    in_alpha = cli.json("--store", "alpha", "remember", "The alpha cluster runs Cassandra")["id"]
    in_beta = cli.json("--store", "beta", "remember", "The beta cluster runs Postgres")["id"]
    for _ in range(2):  # pending, then after the drain (which drains every store)
        assert [h["id"] for h in cli.json("--store", "alpha", "recall", "cluster runs")["results"]] == [in_alpha]
        assert [h["id"] for h in cli.json("--store", "beta", "recall", "cluster runs")["results"]] == [in_beta]
        assert cli.json("recall", "cluster runs")["results"] == []  # default
        drained = cli.json("scheduler", "drain")["stores"]
    assert [r["store"] for r in drained] == ["alpha", "beta", "default"]
    assert_error(cli("--store", "beta", "forget", in_alpha), 3,
                 f"unknown memory id '{in_alpha}' in store 'beta'; see 'memman recall' or 'memman log'")  # fmt: skip


def test_scheduler_drain_store_drains_only_that_store(cli: Cli) -> None:
    cli.ok("store", "create", "alpha")
    cli.remember("A pending note in the default store")
    cli.json("--store", "alpha", "remember", "A pending note in alpha")
    reports = cli.json("scheduler", "drain", "--store", "alpha")["stores"]
    assert [(r["store"], r["completed"], r["remaining"]) for r in reports] == [("alpha", 1, 0)]
    assert cli.json("status")["backlog"] == 1


def test_store_remove_with_yes_deletes_the_store_and_its_history(cli: Cli, data_dir: Path) -> None:
    cli.ok("store", "create", "scratch")
    cli.json("--store", "scratch", "remember", "Throwaway")
    assert cli.ok("store", "remove", "scratch", "--yes").out == "removed store scratch\n"
    assert not (data_dir / "stores" / "scratch").exists()
    assert cli.json("store", "list") == {"stores": []}
    assert_error(cli("--store", "scratch", "recall", "Throwaway"), 3,
                 "unknown store 'scratch'; create it with 'memman store create scratch'")  # fmt: skip


def test_store_remove_asks_first_and_keeps_the_store_unless_told_yes(cli: Cli, data_dir: Path) -> None:
    cli.ok("store", "create", "keep")
    result = cli("store", "remove", "keep", input="n\n")
    # declining is not an error worth a Ctrl-C code: the store is kept, exit 1
    assert result.code == 1, result
    assert result.out == "delete store 'keep' and its whole history? [y/N]: kept store keep\n"
    assert result.err == ""
    assert (data_dir / "stores" / "keep" / "log.db").exists()
    result = cli("store", "remove", "keep", input="y\n")
    assert (result.code, result.out) == (0, "delete store 'keep' and its whole history? [y/N]: removed store keep\n")


def test_removing_the_store_in_use_falls_back_to_default(cli: Cli, data_dir: Path) -> None:
    cli.ok("store", "create", "temp")
    cli.ok("store", "use", "temp")
    cli.ok("store", "remove", "temp", "--yes")
    assert not (data_dir / "active_store").exists()
    assert _store_of_new_memory(cli) == "default"


def test_store_remove_refuses_an_unknown_store(cli: Cli, data_dir: Path) -> None:
    cli.remember("Keep me")
    before = cli.events()
    assert_error(cli("store", "remove", "nope", "--yes"), 3,
                 "unknown store 'nope'; create it with 'memman store create nope'")  # fmt: skip
    assert cli.events() == before
    assert sorted(p.name for p in (data_dir / "stores").iterdir()) == ["default"]


# ------------------------------------------------------------------ import and export


def test_import_json_reports_the_count_store_and_seq_range(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "Kappa uses Redis"}\n\n{"text": "Lambda prefers Go", "cat": "preference"}\n')
    report = cli.json("import", str(path))
    assert list(report) == ["store", "imported", "first_seq", "last_seq", "seconds", "already"]
    assert (report["store"], report["imported"], report["first_seq"], report["last_seq"], report["already"]) == (
        "default", 2, 1, 2, 0)
    assert [e["actor"] for e in cli.events()] == ["import", "import"]
    assert cli.json("status")["backlog"] == 2


def test_import_text_output_says_the_memories_are_pending(cli: Cli) -> None:
    out = cli.ok("import", "-", input='{"text": "Mu ships weekly"}\n').out
    assert out.startswith("imported 1 into default in ")
    assert out.endswith("s: 1 new, 0 already imported (pending until drained)\n")


def test_an_empty_import_imports_nothing_and_succeeds(cli: Cli) -> None:
    report = cli.json("import", "-", input="")
    assert 0.0 <= report.pop("seconds") < 60  # a duration: bounded (generously: shared cores), not pinned
    assert report == {"store": "default", "imported": 0, "first_seq": None, "last_seq": None, "already": 0}


def test_import_keeps_every_field_of_a_line(cli: Cli) -> None:
    line = {
        "text": "Nu moved to Berlin",
        "at": "2024-06-01T08:00:00Z",
        "cat": "fact",
        "imp": 4,
        "entities": ["Nu", "Berlin"],
        "source": "user",
        "meta": {"origin": "crm", "row": 7},
    }
    cli.ok("import", "-", input=json.dumps(line) + "\n")
    shown = cli.json("events", "show", "1")
    assert shown["occurred_at"] == "2024-06-01T08:00:00Z"
    assert shown["event"] | {"memory_id": None} == {
        "type": "memory.remembered",
        "memory_id": None,
        "text": "Nu moved to Berlin",
        "category": "fact",
        "importance": 4,
        "entities": ["Nu", "Berlin"],
        "source": "user",
        "meta": {"origin": "crm", "row": "7"},  # meta values are stored as strings
        "replaces": None,
        "valid_until": None,
        "key": shown["event"]["key"],
    }
    assert re.fullmatch(r"line:[0-9a-f]{32}:0", shown["event"]["key"])  # the line's idempotency key


def test_export_then_import_into_another_store_gives_the_same_texts_and_categories(cli: Cli, tmp_path: Path) -> None:
    cli.remember("Chose SQLite for the event log", "--cat", "decision", "--imp", "5")
    cli.remember("Omicron prefers dark mode", "--cat", "preference", "--source", "user")
    forgotten = cli.remember("Pi was a temporary workaround", "--cat", "context")
    cli.remember("The ingest job retries three times", "--entities", "ingest")
    cli.ok("forget", forgotten)
    cli.ok("scheduler", "drain")
    exported = cli.ok("export").out
    rows = [json.loads(line) for line in exported.splitlines()]
    assert [list(r) for r in rows][0] == ["id", "text", "at", "cat", "imp", "entities", "source", "meta", "status", "created_at"]
    path = tmp_path / "memories.jsonl"
    path.write_text(exported)

    cli.ok("store", "create", "copy")
    assert cli.json("--store", "copy", "import", str(path))["imported"] == 3  # the forgotten one stays behind
    cli.ok("scheduler", "drain")
    again = [json.loads(line) for line in cli.ok("--store", "copy", "export").out.splitlines()]

    def key(r: dict[str, object]) -> tuple[object, ...]:
        return (r["text"], r["cat"], r["imp"], r["source"], r["status"], r["at"])

    assert sorted(map(key, again)) == sorted(map(key, rows))
    assert {r["text"] for r in rows} == {
        "Chose SQLite for the event log", "Omicron prefers dark mode", "The ingest job retries three times",
    }  # fmt: skip
    assert {r["id"] for r in again}.isdisjoint(r["id"] for r in rows)  # new memories, not aliases


def test_export_all_includes_forgotten_memories(cli: Cli) -> None:
    kept = cli.remember("Rho is kept")
    gone = cli.remember("Sigma is forgotten")
    cli.ok("forget", gone)
    assert [json.loads(x)["id"] for x in cli.ok("export").out.splitlines()] == [kept]
    rows = [json.loads(x) for x in cli.ok("export", "--all").out.splitlines()]
    assert [(r["id"], r["status"]) for r in rows] == [(kept, "pending"), (gone, "forgotten")]


def test_export_events_is_the_whole_log_one_event_per_line(cli: Cli) -> None:
    memory_id = cli.remember("Tau runs nightly")
    cli.ok("scheduler", "drain")
    lines = [json.loads(x) for x in cli.ok("export", "--what", "events").out.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    assert lines[0]["event"]["memory_id"] == memory_id
    assert [e["seq"] for e in lines] == [e["seq"] for e in cli.events()]
    assert {e["type"] for e in lines} >= {"memory.remembered", "facts.extracted", "memory.reconciled"}


def test_export_of_an_empty_store_prints_nothing(cli: Cli) -> None:
    assert cli.ok("export").out == ""
