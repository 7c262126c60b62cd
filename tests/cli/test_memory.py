"""The agent verbs through the real CLI: remember, recall, replace, forget and
restore. Writes are read back at once (read-your-own-writes), forgotten and
superseded memories never come back from recall, and `--json` prints the
documented shapes exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from memman.recall import DEFAULT_MIN_SCORE
from tests.cli.conftest import BACKENDS, Cli, assert_error, on_backend


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, cli: Cli) -> Cli:
    """Every scenario here on SQLite and on PostgreSQL (tests/cli/conftest.py on_backend)."""
    return on_backend(request, cli)


ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
HIT_KEYS = ["id", "content", "score", "category", "importance", "entities", "source", "created_at", "status", "signals",
            "occurred_at", "recorded_at", "valid_until", "superseded_by", "stale", "store"]  # fmt: skip
META_KEYS = [
    "query", "store", "mode", "took_ms", "keyword_hits", "vector_hits", "pending", "fingerprint", "degraded",
    "intent", "entities", "anchors", "traversed", "graph", "ordering", "sparse", "confidence", "min_score", "hint",
    "as_of", "expansion", "reranked", "window", "stores", "known_at",
]  # fmt: skip


def _contents(cli: Cli, query: str, *args: str) -> list[str]:
    return [hit["content"] for hit in cli.json("recall", query, *args)["results"]]


# ------------------------------------------------------------------ remember


def test_remember_json_is_the_new_id_its_seq_pending_and_the_store(cli: Cli) -> None:
    out = cli.json("remember", "Chose SQLite: zero deps, embeddable")
    assert list(out) == ["id", "seq", "status", "store", "already"]
    assert ULID.match(out["id"]) and out["already"] is False
    assert out["seq"] == 1  # the first event of a fresh store
    assert (out["status"], out["store"]) == ("pending", "default")


def test_remember_with_an_id_is_idempotent_and_a_reused_id_with_another_text_is_refused(cli: Cli) -> None:
    """Agents retrying a hook: the same --id appends once (issue 13, item 1);
    the same --id with another text is a mistake that would drop a memory
    silently, so it is refused. The fast path and the click path agree."""
    first = cli.json("remember", "The release train leaves on Thursdays", "--id", "hook-42")
    again = cli.json("remember", "The release train leaves on Thursdays", "--id", "hook-42")
    assert again == {**first, "already": True} and first["already"] is False
    slow = cli.json("remember", "The release train leaves on Thursdays", "--id", "hook-42", env={"MEMMAN_NO_FASTPATH": "1"})
    assert (slow["id"], slow["already"]) == (first["id"], True)
    head = len(cli.events())
    refused = (f"--id hook-42 was already used for memory {first['id']} with another text; nothing was written"
               " (give a new memory a new --id)")
    assert_error(cli("remember", "The release train leaves on Fridays", "--id", "hook-42"), 2, refused)
    assert_error(cli("remember", "The release train leaves on Fridays", "--id", "hook-42", env={"MEMMAN_NO_FASTPATH": "1"}), 2, refused)
    assert_error(cli("remember", "x", "--id", "   "), 2, "--id is empty; pass a stable key, e.g. the hook's event id")
    assert_error(cli("remember", "x", "--id", "k" * 201), 2, "--id is 201 characters; the limit is 200")
    assert len(cli.events()) == head == 1


def test_remember_text_output_is_one_line_with_the_id(cli: Cli) -> None:
    out = cli.ok("remember", "Chose SQLite: zero deps, embeddable").out
    assert re.fullmatch(r"remembered [0-9A-Z]{26} \(pending\)\n", out)


def test_remember_records_every_option_in_the_event(cli: Cli) -> None:
    seq = cli.json(
        "remember", "  Chose SQLite for the event log  ",
        "--cat", "decision", "--imp", "5", "--entities", "SQLite, Postgres,sqlite", "--source", "user",
        "--meta", "ticket=MM-1", "--meta", "note=a=b", "--at", "2025-03-01T10:00:00Z",
    )["seq"]  # fmt: skip
    shown = cli.json("events", "show", str(seq))
    assert shown["occurred_at"] == "2025-03-01T10:00:00Z"
    assert (shown["type"], shown["actor"], shown["causation"]) == ("memory.remembered", "cli", None)
    event = shown["event"]
    assert event["text"] == "Chose SQLite for the event log"  # stripped
    assert (event["category"], event["importance"], event["source"]) == ("decision", 5, "user")
    assert event["entities"] == ["SQLite", "Postgres"]  # de-duplicated case-insensitively, first spelling kept
    assert event["meta"] == {"ticket": "MM-1", "note": "a=b"}  # split on the first '=' only


def test_remember_dash_reads_the_text_from_stdin(cli: Cli) -> None:
    out = cli.json("remember", "-", input="Grüße from stdin: the build uses uv\n".encode())
    assert cli.json("events", "show", str(out["seq"]))["event"]["text"] == "Grüße from stdin: the build uses uv"


def test_the_click_path_prints_the_same_as_the_fast_path(cli: Cli) -> None:
    # remember and recall normally skip click (memman/fastpath.py); MEMMAN_NO_FASTPATH=1 forces click.
    click_path = {"MEMMAN_NO_FASTPATH": "1"}
    fast = cli.json("remember", "The staging database lives on host sparrow", "--cat", "fact", "--imp", "4")
    slow = cli.json("remember", "The staging database lives on host heron", "--cat", "fact", "--imp", "4", env=click_path)
    assert list(slow) == list(fast) and slow["seq"] == fast["seq"] + 1
    assert cli.json("events", "show", str(slow["seq"]))["event"] | {"memory_id": "", "text": ""} == (
        cli.json("events", "show", str(fast["seq"]))["event"] | {"memory_id": "", "text": ""}
    )
    for args in (("recall", "staging database", "--json", "--limit", "5"), ("recall", "host", "--basic")):
        a, b = cli.ok(*args).out, cli.ok(*args, env=click_path).out
        strip = re.compile(r'"took_ms":[\d.]+')
        assert strip.sub("", a) == strip.sub("", b)


# ------------------------------------------------------------------ read-your-own-writes


def test_a_remembered_text_is_recalled_at_once_as_pending(cli: Cli) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    out = cli.json("recall", "staging database")
    assert [(h["id"], h["status"]) for h in out["results"]] == [(memory_id, "pending")]
    assert out["meta"]["pending"] == 1
    assert out["meta"]["degraded"] == "no embeddings yet: run 'memman scheduler drain'"


def test_pending_recall_text_output_marks_the_hit_pending(cli: Cli) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    lines = cli.ok("recall", "staging database").out.splitlines()
    assert lines[0].startswith(memory_id[-8:] + "  ")
    assert lines[0].endswith("The staging database lives on host sparrow (pending)")
    assert lines[1] == "# no embeddings yet: run 'memman scheduler drain'"


def test_a_forgotten_memory_never_shows_in_the_next_recall(cli: Cli) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    out = cli.json("forget", memory_id, "--reason", "moved")
    assert out == {"id": memory_id, "seq": 2, "action": "forgotten", "status": "forgotten", "store": "default"}
    assert _contents(cli, "staging database") == []
    cli.ok("scheduler", "drain")
    assert _contents(cli, "staging database") == []
    assert _contents(cli, "sparrow", "--basic") == []


def test_forget_after_drain_hides_the_memory_from_keyword_and_vector_recall(cli: Cli) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    cli.ok("scheduler", "drain")
    assert _contents(cli, "staging database") == ["The staging database lives on host sparrow"]
    cli.ok("forget", memory_id)
    assert _contents(cli, "staging database") == []
    assert _contents(cli, "where is the database for staging") == []


def test_restore_brings_a_forgotten_memory_back(cli: Cli) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    cli.ok("scheduler", "drain")
    cli.ok("forget", memory_id)
    out = cli.json("restore", memory_id)
    assert out == {"id": memory_id, "seq": out["seq"], "action": "restored", "status": "active", "store": "default"}
    assert [h["id"] for h in cli.json("recall", "staging database")["results"]] == [memory_id]


def test_replacing_a_forgotten_memory_is_refused_and_it_stays_forgotten(cli: Cli) -> None:
    # issue 11: replace used to exit 0 and leave the new text hidden; now it says what to do
    memory_id = cli.remember("Gamma keeps kittens in the office")
    cli.ok("forget", memory_id)
    result = cli("replace", memory_id, "Gamma keeps puppies in the office")
    assert (result.code, result.out) == (2, "")
    assert f"'memman restore {memory_id}' first, then replace it" in result.err
    cli.ok("scheduler", "drain")
    assert _contents(cli, "puppies office") == []
    assert cli.json("insights", "show", memory_id)["memory"]["status"] == "forgotten"


def test_forget_and_restore_print_one_line_without_json(cli: Cli) -> None:
    memory_id = cli.remember("The staging database lives on host sparrow")
    assert cli.ok("forget", memory_id).out == f"forgotten {memory_id} (forgotten)\n"
    assert cli.ok("restore", memory_id).out == f"restored {memory_id} (pending)\n"


def test_replace_changes_what_recall_returns_at_once_and_after_drain(cli: Cli) -> None:
    memory_id = cli.remember("The release train leaves on Tuesdays", "--cat", "decision", "--imp", "4")
    cli.ok("scheduler", "drain")
    out = cli.json("replace", memory_id[-8:], "The release train leaves on Thursdays")
    assert out == {"id": memory_id, "seq": out["seq"], "action": "replaced", "status": "pending", "store": "default"}
    hits = cli.json("recall", "release train")["results"]
    assert [(h["id"], h["content"]) for h in hits] == [(memory_id, "The release train leaves on Thursdays")]
    assert (hits[0]["category"], hits[0]["importance"]) == ("decision", 4)  # metadata not given is kept
    cli.ok("scheduler", "drain")
    assert _contents(cli, "release train") == ["The release train leaves on Thursdays"]


def test_a_replaced_memory_is_no_longer_found_by_the_wording_it_replaced(cli: Cli) -> None:
    # Fixed after this suite found replace inheriting the entities extracted from the old text.
    memory_id = cli.remember("The release train leaves on Tuesdays")
    cli.ok("scheduler", "drain")
    cli.ok("replace", memory_id, "The release train leaves on Thursdays")
    cli.ok("scheduler", "drain")
    assert "Tuesdays" not in cli.json("insights", "show", memory_id)["memory"]["entities"]
    assert _contents(cli, "Tuesdays", "--basic") == []


def test_a_superseded_memory_never_shows_in_recall(cli: Cli) -> None:
    old = cli.remember("The API timeout is 30s")
    cli.ok("scheduler", "drain")
    new = cli.remember("The API timeout is 60s")
    cli.ok("scheduler", "drain")
    hits = cli.json("recall", "API timeout")["results"]
    assert [(h["id"], h["content"], h["status"]) for h in hits] == [(new, "The API timeout is 60s", "active")]
    assert _contents(cli, "30s", "--basic") == []
    assert cli.json("insights", "show", old)["memory"]["status"] == "superseded"
    assert cli.json("insights", "show", old)["memory"]["superseded_by"] == new


# ------------------------------------------------------------------ recall shape and filters


@pytest.fixture(scope="module")
def drained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, dict[str, str]]:
    """A drained store with memories that differ in category and source."""
    cli = Cli(tmp_path_factory.mktemp("recall") / "data")
    ids = {
        "sqlite": cli.remember(
            "Chose SQLite for the event log because it needs no server",
            "--cat", "decision", "--imp", "5", "--entities", "SQLite", "--source", "user",
        ),  # fmt: skip
        "postgres": cli.remember("Postgres was rejected for the event log", "--cat", "decision"),
        "dark": cli.remember("Alice prefers dark mode in every editor", "--cat", "preference", "--source", "user"),
        "deploy": cli.remember("The deploy script for the event log lives in tools", "--source", "external"),
    }
    cli.ok("scheduler", "drain")
    return cli, ids


def test_recall_json_has_results_with_every_documented_field_and_meta(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = drained
    out = cli.json("recall", "event log")
    assert list(out) == ["results", "meta"]
    assert list(out["meta"]) == META_KEYS
    assert out["meta"]["query"] == "event log"
    assert (out["meta"]["store"], out["meta"]["mode"], out["meta"]["degraded"]) == ("default", "hybrid", None)
    assert out["meta"]["fingerprint"].startswith("static:")
    assert {h["id"] for h in out["results"]} == {ids["sqlite"], ids["postgres"], ids["deploy"]}
    sqlite = next(h for h in out["results"] if h["id"] == ids["sqlite"])
    assert list(sqlite) == HIT_KEYS
    assert sqlite["content"] == "Chose SQLite for the event log because it needs no server"
    assert (sqlite["category"], sqlite["importance"], sqlite["source"]) == ("decision", 5, "user")
    assert "SQLite" in sqlite["entities"]
    assert (sqlite["status"], sqlite["created_at"][-1]) == ("active", "Z")
    assert isinstance(sqlite["score"], float) and sqlite["score"] > 0
    scores = [h["score"] for h in out["results"]]
    assert scores == sorted(scores, reverse=True)


def test_recall_limit_caps_the_results(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, _ = drained
    assert len(cli.json("recall", "event log")["results"]) == 3
    assert len(cli.json("recall", "event log", "--limit", "1")["results"]) == 1


def test_recall_cat_keeps_only_that_category(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = drained
    hits = cli.json("recall", "event log", "--cat", "decision")["results"]
    assert {h["id"] for h in hits} == {ids["sqlite"], ids["postgres"]}
    assert cli.json("recall", "event log", "--cat", "insight")["results"] == []


def test_recall_source_keeps_only_that_source(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = drained
    assert [h["id"] for h in cli.json("recall", "event log", "--source", "external")["results"]] == [ids["deploy"]]
    hits = cli.json("recall", "event log", "--cat", "decision", "--source", "user")["results"]
    assert [h["id"] for h in hits] == [ids["sqlite"]]


def test_recall_basic_is_keyword_only(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = drained
    out = cli.json("recall", "dark mode", "--basic")
    assert (out["meta"]["mode"], out["meta"]["vector_hits"]) == ("basic", 0)
    assert [h["id"] for h in out["results"]] == [ids["dark"]]
    # basic mode: keyword and recency only, no vector, no graph, no session neighbours
    signals = out["results"][0]["signals"]
    assert signals == {
        "keyword": 1.0, "keyword_rank": 1, "vector_rank": None, "similarity": None, "vector_z": None,
        "recency_rank": 1, "anchor": signals["anchor"], "entity": 0.0, "known": 1.0, "graph": 0.0, "via": None,
        "neighbour": 0.0, "hop": 0.0, "date": None,
    }  # fmt: skip
    assert signals["anchor"] == out["results"][0]["score"] > out["meta"]["min_score"]


def test_recall_of_something_unknown_is_empty_not_an_error(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, _ = drained
    assert cli.json("recall", "zebra quantum marmalade")["results"] == []
    assert cli.ok("recall", "zebra quantum marmalade").out == (
        "no memories matched\n# nothing matched: try other words, or remember it if it is worth keeping\n"
    )


@pytest.mark.parametrize("query", ["zorblax quintessor flumph", "xqvw plonkth", "asdkjh qwpoeiru zmxncb"])
def test_a_gibberish_query_returns_nothing_above_the_default_min_score(
    drained: tuple[Cli, dict[str, str]], query: str
) -> None:
    cli, _ = drained
    out = cli.json("recall", query)
    assert out["results"] == [] and out["meta"]["min_score"] == DEFAULT_MIN_SCORE
    assert out["meta"]["confidence"] < DEFAULT_MIN_SCORE


def test_min_score_filters_results_and_the_answer_says_so(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = drained
    everything = cli.json("recall", "event log", "--min-score", "0")
    scores = [h["score"] for h in everything["results"]]
    assert everything["meta"]["confidence"] == scores[0] and all(0 <= s <= 1 for s in scores)
    strict = cli.json("recall", "event log", "--min-score", "0.999")
    assert strict["results"] == [] and strict["meta"]["min_score"] == 0.999
    assert strict["meta"]["hint"].startswith("nothing relevant enough: the best match scored")
    assert cli.ok("recall", "event log", "--min-score", "0.999").out.startswith("no memories matched\n# nothing relevant")


def test_order_time_lists_the_same_results_chronologically(drained: tuple[Cli, dict[str, str]]) -> None:
    cli, _ = drained
    best = cli.json("recall", "event log")
    timeline = cli.json("recall", "event log", "--order", "time")
    assert timeline["meta"]["ordering"] == "chronological"
    assert sorted(h["id"] for h in timeline["results"]) == sorted(h["id"] for h in best["results"])


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "*", "foo:bar", "(event", "log)", "NEAR(", "^"])
def test_recall_treats_query_syntax_characters_as_plain_text(drained: tuple[Cli, dict[str, str]], query: str) -> None:
    cli, _ = drained
    cli.json("recall", query, "--basic")


def test_recall_reads_stores_in_other_data_dirs_only_when_asked(drained: tuple[Cli, dict[str, str]], data_dir: Path) -> None:
    cli, _ = drained
    other = Cli(data_dir)
    assert other.json("recall", "event log")["results"] == []
    assert len(cli.json("--data-dir", str(cli.data_dir), "recall", "event log")["results"]) == 3


def test_recall_shows_when_a_memory_occurred_not_when_it_was_recorded(cli: Cli) -> None:
    memory_id = cli.remember("The kickoff meeting chose the project codename heron", "--at", "2023-03-14T09:00:00Z")
    hit = cli.json("recall", "kickoff codename heron")["results"][0]
    assert (hit["id"], hit["occurred_at"]) == (memory_id, "2023-03-14T09:00:00.000000Z")
    assert not hit["created_at"].startswith("2023-03-14")  # recorded now, not then
    line = cli.ok("recall", "kickoff codename heron").out.splitlines()[0]
    assert line.split()[2] == "2023-03-14"
