"""The operator's view: `status`, `events list|show|replay|verify`, the audit
trail (`log`, `insights show`) and manual edges (`graph link|unlink`). The log
is the source of truth: deleted or damaged projections come back from it, and
`events verify` says whether the live projections match a rebuild."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, assert_error

LINE_KEYS = ["seq", "id", "type", "recorded_at", "occurred_at", "actor", "causation", "stage", "summary"]
RECORD_KEYS = ["seq", "id", "type", "schema_version", "recorded_at", "occurred_at", "actor", "causation", "stage", "event"]
STATUS_KEYS = [
    "store", "path", "events", "log_head", "checkpoints", "by_status", "by_category", "backlog", "failed", "dead",
    "oldest_pending", "embedder", "vectors", "edges", "bytes", "retention", "backend", "replica_lag", "server_lag",
]  # fmt: skip
PROJECTIONS = ["memories", "graph", "settings", "queue", "usage", "vectors"]
DERIVED = ["facts.extracted", "memory.reconciled", "memory.embedded", "edges.inferred"]
# a query that shares no word with the memory, so only the vector index can find it
SEMANTIC_ONLY = "which server holds the test data store"


def _remove_projection_files(data_dir: Path, store: str = "default") -> None:
    directory = data_dir / "stores" / store
    for name in ("projections.db", "vectors.db"):
        for suffix in ("", "-wal", "-shm"):
            (directory / (name + suffix)).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, str]:
    """One drained memory, read-only for the tests that use it."""
    cli = Cli(tmp_path_factory.mktemp("log") / "data")
    memory_id = cli.remember("The staging database lives on host sparrow", "--cat", "fact")
    cli.ok("scheduler", "drain")
    return cli, memory_id


# ------------------------------------------------------------------ status


def test_status_json_has_counts_backlog_checkpoints_and_sizes(cli: Cli, data_dir: Path) -> None:
    cli.remember("The staging database lives on host sparrow")
    cli.remember("Builds run on the ci-7 runner")
    pending = cli.json("status")
    assert list(pending) == STATUS_KEYS
    assert (pending["store"], pending["path"]) == ("default", str(data_dir / "stores" / "default"))
    assert (pending["events"], pending["log_head"], pending["backlog"]) == (2, 2, 2)
    assert pending["by_status"] == {"pending": 2}
    assert pending["checkpoints"] == dict.fromkeys(PROJECTIONS, 2)
    assert pending["oldest_pending"] is not None and pending["embedder"] is None
    assert sorted(pending["bytes"]) == ["log.db", "projections.db", "vectors.db"]
    cli.ok("scheduler", "drain")
    drained = cli.json("status")
    assert (drained["backlog"], drained["failed"], drained["dead"], drained["oldest_pending"]) == (0, 0, 0, None)
    assert drained["by_status"] == {"active": 2}
    assert drained["vectors"] == 2 and drained["embedder"].startswith("static:")
    assert drained["checkpoints"] == dict.fromkeys(PROJECTIONS, drained["log_head"])


def test_status_text_names_the_store_backlog_and_log_head(store: tuple[Cli, str]) -> None:
    cli, _ = store
    lines = cli.ok("status").out.splitlines()
    assert lines[0] == f"store default at {cli.data_dir / 'stores' / 'default'}"
    assert lines[1] == "  memories: active 1"
    assert "  backlog: 0 (failed 0, dead 0)" in lines
    assert "  log: 6 events, head #6; checkpoints memories #6, graph #6, settings #6, queue #6, usage #6, vectors #6" in lines


# ------------------------------------------------------------------ scheduler drain


def test_scheduler_drain_json_reports_each_store(cli: Cli) -> None:
    assert cli.json("scheduler", "drain") == {"stores": []}
    assert cli.ok("scheduler", "drain").out == "no stores to drain\n"
    cli.remember("The staging database lives on host sparrow")
    cli.remember("Builds run on the ci-7 runner")
    first = cli.json("scheduler", "drain", "--limit", "1")["stores"]
    assert [list(r) for r in first] == [["store", "processed", "completed", "failed", "dead", "remaining", "seconds", "skipped"]]
    assert first[0] | {"seconds": 0} == {
        "store": "default", "processed": 1, "completed": 1, "failed": 0, "dead": 0, "remaining": 1, "seconds": 0, "skipped": 0,
    }  # fmt: skip
    out = cli.ok("scheduler", "drain").out
    assert re.fullmatch(r"default: 1 derived, 0 failed, 0 dead-lettered, 0 remaining \(\d+\.\d\ds, [\d,]+/s\)\n", out)
    again = cli.json("scheduler", "drain")["stores"][0]
    assert (again["processed"], again["remaining"]) == (0, 0)  # nothing left: a rerun derives nothing twice


# ------------------------------------------------------------------ events list / show


def test_events_list_json_is_every_event_oldest_first(store: tuple[Cli, str]) -> None:
    cli, memory_id = store
    events = cli.json("events", "list")["events"]
    assert [list(e) for e in events] == [LINE_KEYS] * 6
    assert [e["type"] for e in events] == ["memory.remembered", "store.configured", *DERIVED]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e["causation"] for e in events] == [None, None, 1, 1, 1, 1]
    assert [e["actor"] for e in events] == ["cli", "drain", "drain", "drain", "drain", "drain"]
    assert events[0]["summary"] == f"{memory_id[-8:]} [fact, imp 3, agent] 'The staging database lives on host sparrow'"


def test_events_list_filters_by_type_memory_since_and_limit(store: tuple[Cli, str]) -> None:
    cli, memory_id = store
    assert [e["seq"] for e in cli.json("events", "list", "--type", "memory.reconciled")["events"]] == [4]
    # every stage of the memory's drain is indexed under it, the edges stage too
    assert [e["seq"] for e in cli.json("events", "list", "--memory", memory_id[-8:])["events"]] == [1, 3, 4, 5, 6]
    assert [e["seq"] for e in cli.json("events", "list", "--limit", "2")["events"]] == [5, 6]  # the newest two
    assert len(cli.json("events", "list", "--since", "1h")["events"]) == 6
    assert cli.json("events", "list", "--since", "2999-01-01T00:00:00Z")["events"] == []


def test_events_list_memory_and_since_together_apply_both_filters(store: tuple[Cli, str]) -> None:
    cli, memory_id = store
    assert cli.json("log", "--memory", memory_id, "--since", "2999-01-01T00:00:00Z")["events"] == []
    assert cli.json("events", "list", "--memory", memory_id, "--since", "2999-01-01T00:00:00Z")["events"] == []
    both = cli.json("events", "list", "--memory", memory_id, "--since", "2020-01-01T00:00:00Z")["events"]
    assert [e["seq"] for e in both] == [1, 3, 4, 5, 6]


def test_events_list_text_is_one_line_per_event(store: tuple[Cli, str]) -> None:
    cli, _ = store
    lines = cli.ok("events", "list").out.splitlines()
    assert len(lines) == 6
    assert re.match(r"#1 {6}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d  memory\.remembered  cli {4}", lines[0])


def test_events_show_by_seq_and_by_id_give_the_same_full_record(store: tuple[Cli, str]) -> None:
    cli, memory_id = store
    by_seq = cli.json("events", "show", "1")
    assert list(by_seq) == RECORD_KEYS
    assert cli.json("events", "show", by_seq["id"]) == by_seq
    assert by_seq["event"] == {
        "type": "memory.remembered",
        "memory_id": memory_id,
        "text": "The staging database lives on host sparrow",
        "category": "fact",
        "importance": 3,
        "entities": [],
        "source": "agent",
        "meta": {},
        "replaces": None,
        "valid_until": None,
        "key": None,
    }
    assert cli.json("events", "show", "4")["stage"] == "reconcile"


def test_events_show_text_is_indented_json(store: tuple[Cli, str]) -> None:
    cli, _ = store
    out = cli.ok("events", "show", "1").out
    assert out.startswith('{\n  "seq": 1,\n  "id": ')


# ------------------------------------------------------------------ audit trail


def _kinds(log_text: str) -> list[str]:
    return [re.split(r"\s+", line)[3] for line in log_text.splitlines()]


def test_log_memory_shows_every_stage_of_a_drained_memory(cli: Cli) -> None:
    first = cli.remember("The outage was caused by the cache flush")
    second = cli.remember("The cache flush runs at midnight")
    cli.ok("scheduler", "drain")
    lines = cli.ok("log", "--memory", second).out.splitlines()
    assert _kinds("\n".join(lines)) == ["memory.remembered", *DERIVED]
    assert f"memory.remembered  {second[-8:]} [general, imp 3, agent] 'The cache flush runs at midnight'" in lines[0]
    assert "facts.extracted extract  1 fact(s) from #2 by drain [rules/1" in lines[1]
    assert f"memory.reconciled reconcile  {second[-8:]} ADD among 1 candidate(s) from #2 by drain" in lines[2]
    assert "memory.embedded embed:static:" in lines[3] and "1 vector(s) static:" in lines[3]
    assert f"edges.inferred edges  edges: {first[-8:]}-temporal->{second[-8:]}" in lines[4]


def test_log_memory_shows_the_edges_stage_even_when_it_found_no_edges(store: tuple[Cli, str]) -> None:
    cli, memory_id = store
    assert _kinds(cli.ok("log", "--memory", memory_id).out) == ["memory.remembered", *DERIVED]


def test_log_json_is_the_newest_events_and_honours_limit_and_since(store: tuple[Cli, str]) -> None:
    cli, _ = store
    assert [e["seq"] for e in cli.json("log")["events"]] == [1, 2, 3, 4, 5, 6]
    assert [e["seq"] for e in cli.json("log", "--limit", "2")["events"]] == [5, 6]
    assert cli.json("log", "--since", "2999-01-01T00:00:00Z")["events"] == []
    assert cli.ok("log", "--since", "2999-01-01T00:00:00Z").out == "no events\n"


def test_insights_show_gives_status_and_history(cli: Cli) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow", "--imp", "4", "--source", "user")
    cli.ok("scheduler", "drain")
    cli.ok("forget", memory_id, "--reason", "moved to heron")
    found = cli.json("insights", "show", memory_id[-8:])
    assert list(found) == ["memory", "events"]
    assert list(found["memory"]) == [
        "key", "id", "content", "category", "importance", "entities", "source", "meta", "status", "created_at",
        "updated_at", "occurred_at", "superseded_by", "forget_reason", "protected", "derived_by", "derived_seq",
        "input_seq", "valid_until", "superseded_at", "replaces", "recorded_at",
    ]  # fmt: skip
    memory = found["memory"]
    assert (memory["id"], memory["status"], memory["importance"], memory["source"]) == (memory_id, "forgotten", 4, "user")
    assert memory["forget_reason"] == "moved to heron"
    assert [e["type"] for e in found["events"]][0] == "memory.remembered"
    assert [e["type"] for e in found["events"]][-1] == "memory.forgotten"
    assert {"facts.extracted", "memory.reconciled", "memory.embedded"} <= {e["type"] for e in found["events"]}
    lines = cli.ok("insights", "show", memory_id).out.splitlines()
    assert lines[0] == f"{memory_id}  [forgotten] general, importance 4, source user"
    assert lines[1] == "  The staging database lives on host sparrow"
    assert "  forgotten: moved to heron" in lines
    assert lines[lines.index("history:") + 1].split()[3] == "memory.remembered"
    assert lines[-1].endswith(f"{memory_id[-8:]} forgotten: moved to heron")


# ------------------------------------------------------------------ graph


def test_graph_link_and_unlink_record_manual_edges(cli: Cli) -> None:
    a = cli.remember("The outage was caused by the cache flush")
    b = cli.remember("The cache flush runs at midnight")
    linked = cli.json("graph", "link", a[-8:], b, "--type", "causal", "--weight", "0.9", "--meta", "by=ops")
    assert linked == {"id": a, "seq": 3, "action": "linked", "status": "pending", "store": "default"}
    assert cli.json("status")["edges"] == 1
    shown = cli.json("events", "show", "3")["event"]
    assert shown == {"type": "edge.linked", "src": a, "dst": b, "edge_type": "causal", "weight": 0.9, "meta": {"by": "ops"}}
    assert cli.ok("graph", "unlink", a, b, "--type", "causal").out == f"unlinked {a} -causal-> {b}\n"
    assert cli.json("status")["edges"] == 0
    assert_error(cli("graph", "unlink", a, b, "--type", "causal"), 3,
                 f"no 'causal' edge from {a} to {b}; see 'memman insights show {a}'")  # fmt: skip


def test_a_manual_edge_survives_drain_and_replay(cli: Cli) -> None:
    a = cli.remember("The outage was caused by the cache flush")
    b = cli.remember("Deploys are frozen on Fridays")
    assert cli.ok("graph", "link", a, b).out == f"linked {a} -related-> {b}\n"
    cli.ok("scheduler", "drain")
    edges = cli.json("status")["edges"]
    cli.ok("events", "replay")
    assert cli.json("status")["edges"] == edges
    cli.ok("graph", "unlink", a, b)  # still there to unlink after the rebuild
    cli.ok("events", "verify")


# ------------------------------------------------------------------ replay and verify


def test_events_replay_prints_events_applied_and_seconds(store: tuple[Cli, str]) -> None:
    cli, _ = store
    out = cli.ok("events", "replay").out
    assert re.fullmatch(
        r"replayed memories, graph, settings, queue, usage, vectors: \d+ events applied in \d+\.\d\ds \([\d,]+/s\)\n", out
    ), out
    report = cli.json("events", "replay")
    assert list(report) == ["store", "projections", "events_applied", "seconds"]
    # each projection set (main and vectors) reads the events it handles, so applied >= the 6 events
    assert (report["store"], report["projections"]) == ("default", PROJECTIONS)
    assert report["events_applied"] >= 6
    assert isinstance(report["seconds"], float)
    only = cli.json("events", "replay", "--projection", "vectors", "--projection", "memories")
    assert only["projections"] == ["vectors", "memories"]


def test_events_verify_is_ok_for_an_intact_store(store: tuple[Cli, str]) -> None:
    cli, _ = store
    report = cli.json("events", "verify")
    assert list(report) == ["store", "ok", "log_problems", "differences", "seconds", "fix"]
    assert (report["store"], report["ok"], report["log_problems"], report["differences"], report["fix"]) == (
        "default", True, [], [], None)
    assert re.fullmatch(r"ok: default verified in \d+\.\d\ds\n", cli.ok("events", "verify").out)


def test_events_verify_exits_1_on_a_tampered_projection_and_replay_repairs_it(cli: Cli, data_dir: Path) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    cli.ok("scheduler", "drain")
    with sqlite3.connect(data_dir / "stores" / "default" / "projections.db") as conn:
        conn.execute("UPDATE memories SET importance = 1")
    conn.close()
    result = cli("events", "verify")
    assert (result.code, result.err) == (1, "")
    assert result.out.splitlines()[0].startswith(f"memories: 1 live rows vs 1 rebuilt; live only: [(1, '{memory_id}'")
    assert result.out.splitlines()[-2].startswith("MISMATCH: default verified in ")
    assert result.out.splitlines()[-1] == "fix: memman --store default events replay"
    assert cli("events", "verify", "--json").json()["ok"] is False
    cli.ok("events", "replay", "--projection", "memories")
    assert cli.json("events", "verify")["ok"] is True
    assert cli.json("recall", "staging database")["results"][0]["importance"] == 3


def test_deleted_projection_files_are_rebuilt_from_the_log(cli: Cli, data_dir: Path) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    cli.ok("scheduler", "drain")
    log = cli.events()
    _remove_projection_files(data_dir)
    hits = cli.json("recall", "staging database")["results"]
    assert [(h["id"], h["status"]) for h in hits] == [(memory_id, "active")]
    assert cli.json("events", "verify")["ok"] is True
    assert cli.events() == log  # rebuilding reads the log and never writes to it
    _remove_projection_files(data_dir)
    out = cli.ok("events", "replay").out
    assert re.fullmatch(r"replayed memories, graph, settings, queue, usage, vectors: \d+ events applied in \d+\.\d\ds .*\n", out)
    status = cli.json("status")
    assert (status["by_status"], status["vectors"], status["backlog"]) == ({"active": 1}, 1, 0)
    assert [h["id"] for h in cli.json("recall", SEMANTIC_ONLY)["results"]] == [memory_id]


def test_recall_after_deleting_the_vector_index_still_finds_by_meaning(cli: Cli, data_dir: Path) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    cli.ok("scheduler", "drain")
    assert [h["id"] for h in cli.json("recall", SEMANTIC_ONLY)["results"]] == [memory_id]
    _remove_projection_files(data_dir)
    assert [h["id"] for h in cli.json("recall", SEMANTIC_ONLY)["results"]] == [memory_id]


@pytest.mark.parametrize("name", ["projections.db", "vectors.db"])
def test_a_corrupt_projection_file_is_moved_aside_rebuilt_and_reported(cli: Cli, data_dir: Path, name: str) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    cli.ok("scheduler", "drain")
    directory = data_dir / "stores" / "default"
    for suffix in ("-wal", "-shm"):
        (directory / (name + suffix)).unlink(missing_ok=True)
    (directory / name).write_bytes(b"this is not a database " * 400)
    result = cli("recall", SEMANTIC_ONLY, "--json")
    assert result.code == 0, result
    assert [h["id"] for h in result.json()["results"]] == [memory_id]
    assert re.fullmatch(
        rf"memman: warning: {re.escape(name)} was corrupt; moved it to {re.escape(name)}\.corrupt-\S+"
        r" and rebuilt it from the log\n",
        result.err,
    ), result.err
    assert len(list(directory.glob(name + ".corrupt-*"))) == 1  # kept for a post-mortem, not deleted
    assert cli.json("events", "verify")["ok"] is True
