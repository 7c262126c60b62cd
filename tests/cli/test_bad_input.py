"""Bad input, command by command: every rejection is one line on stderr that
starts with 'memman: error: ', carries no traceback, exits with the code the
error class promises (2 bad input, 3 not found), and loses nothing: the
store's log (read back with `events list --json`) and its set of stores are
exactly as they were.

All cases share one seeded store. That is safe because a case that changed
it would fail its own check, which is the point of the test. Each case reads
the log's row count and head straight from log.db (cheap, and exact because
the log is append-only: any write raises the count); the last test reads the
whole log back through `events list --json` and compares it event by event."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from events.types import EVENT_CLASSES

from tests.cli.conftest import Cli, assert_error

UNKNOWN_ID = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
NOT_FOUND_HINT = "see 'memman recall' or 'memman log'"
CATEGORY_CHOICES = "'preference', 'decision', 'fact', 'insight', 'context', 'general'"
STORE_NAME_RULE = "use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit"


class Seeded:
    """Memories A and B imported in one batch (so their ids share a prefix
    longer than the 6-character minimum), C remembered on its own, F forgotten,
    and a second store `other`."""

    def __init__(self, cli: Cli, ids: dict[str, str]) -> None:
        self.cli = cli
        self.ids = ids
        self.log = cli.events()
        self.head = self.log_head()
        self.stores = self.store_dirs()

    def log_head(self) -> tuple[int, int, str]:
        path = self.cli.data_dir / "stores" / "default" / "log.db"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*), max(seq), max(id) FROM events").fetchone()

    def store_dirs(self) -> list[str]:
        return sorted(p.name for p in (self.cli.data_dir / "stores").iterdir())

    def fill(self, value: str) -> str:
        return value.format(**self.ids)

    def assert_unchanged(self) -> None:
        assert self.log_head() == self.head
        assert self.store_dirs() == self.stores
        assert not (self.cli.data_dir / "active_store").exists()


def _shared_prefix(a: str, b: str) -> str:
    n = 0
    while n < len(a) and a[n] == b[n]:
        n += 1
    return a[:n]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    cli = Cli(tmp_path_factory.mktemp("bad") / "data")
    lines = "".join(json.dumps({"text": t}) + "\n" for t in ("Alpha uses Redis for caching", "Beta deploys on Fridays"))
    cli.ok("import", "-", input=lines)
    exported = [json.loads(line) for line in cli.ok("export").out.splitlines()]
    a, b = exported[0]["id"], exported[1]["id"]
    prefix = _shared_prefix(a, b)
    assert len(prefix) >= 6, (a, b)  # ULIDs minted in the same millisecond share 10+ characters
    c = cli.remember("Gamma prefers tabs over spaces")
    f = cli.remember("Delta was a temporary note")
    cli.ok("forget", f)
    cli.ok("scheduler", "drain")
    cli.ok("store", "create", "other")
    ids = {"A": a, "B": b, "C": c, "F": f, "P6": prefix[:6], "A5": a[:5], "Aend": a[-8:]}
    return Seeded(cli, ids)


def _check(seeded: Seeded, args: tuple[str | bytes, ...], code: int, message: str | None, **kw: Any) -> str:
    argv = [seeded.fill(a) if isinstance(a, str) else a for a in args]
    text = assert_error(seeded.cli(*argv, **kw), code, seeded.fill(message) if message is not None else None)
    seeded.assert_unchanged()
    return text


# (args, exit code, exact message after 'memman: error: '; {X} is filled with the seeded ids)
CASES: list[tuple[tuple[str, ...], int, str]] = [
    # remember
    (("remember", ""), 2, "text is empty; say what to remember"),
    (("remember", " \n\t "), 2, "text is empty; say what to remember"),
    (("remember",), 2, "Missing argument 'TEXT'. (see 'memman remember --help')"),
    (("remember", "x", "--cat", "bogus"), 2,
     f"Invalid value for '--cat': 'bogus' is not one of {CATEGORY_CHOICES}. (see 'memman remember --help')"),
    (("remember", "x", "--imp", "0"), 2,
     "Invalid value for '--imp': 0 is not in the range 1<=x<=5. (see 'memman remember --help')"),
    (("remember", "x", "--imp", "6"), 2,
     "Invalid value for '--imp': 6 is not in the range 1<=x<=5. (see 'memman remember --help')"),
    (("remember", "x", "--imp", "high"), 2,
     "Invalid value for '--imp': 'high' is not a valid integer range. (see 'memman remember --help')"),
    (("remember", "x", "--source", "bogus"), 2,
     "Invalid value for '--source': 'bogus' is not one of 'user', 'agent', 'external'. (see 'memman remember --help')"),
    (("remember", "x", "--at", "yesterday"), 2, "bad time 'yesterday'; use ISO-8601, e.g. 2026-01-31T09:30:00Z"),
    (("remember", "x", "--at", "2025-02-30"), 2, "bad time '2025-02-30'; use ISO-8601, e.g. 2026-01-31T09:30:00Z"),
    (("remember", "x", "--meta", "foo"), 2, "bad --meta 'foo'; use key=value"),
    (("remember", "x", "--meta", "=v"), 2, "bad --meta '=v'; use key=value"),
    (("remember", "x", "--meta", "k=v", "--meta", "novalue"), 2, "bad --meta 'novalue'; use key=value"),
    (("remember", "The wifi password is swordfish"), 2,
     "text looks like it holds a secret (password at character 22); not stored: remove it, wrap it in"
     " <private>...</private>, or pass --redact to store the text masked"),
    (("remember", "<private>only this</private>", "--redact"), 2,
     "text is empty once its <private> sections are removed; nothing to remember"),
    (("remember", "x", "--redact=yes"), 2,
     "Option '--redact' does not take a value."),
    (("replace", "{A}", "key AKIAIOSFODNN7EXAMPLQ"), 2,
     "text looks like it holds a secret (AWS access key at character 5); not stored: remove it, wrap it in"
     " <private>...</private>, or pass --redact to store the text masked"),
    # recall
    (("recall", ""), 2, "query is empty; say what to recall"),
    (("recall", "x", "--fenced", "--json"), 2, "use either --fenced or --json, not both"),
    (("recall", "x", "--fenced", "--raw"), 2, "use either --fenced or --raw, not both"),
    (("recall", "   "), 2, "query is empty; say what to recall"),
    (("recall", "x", "--limit", "0"), 2,
     "Invalid value for '--limit': 0 is not in the range 1<=x<=1000. (see 'memman recall --help')"),
    (("recall", "x", "--cat", "bogus"), 2,
     f"Invalid value for '--cat': 'bogus' is not one of {CATEGORY_CHOICES}. (see 'memman recall --help')"),
    (("rederive",), 2, "rederive needs an LLM: set llm.provider, llm.base_url and the models (see docs/llm.md)"),
    (("rederive", "--bogus"), 2, "No such option '--bogus'. (see 'memman rederive --help')"),
    (("migrate",), 2, "Missing option '--to'. (see 'memman migrate --help')"),
    (("migrate", "--to", "oracle://db"), 2, "backend must be 'sqlite' or a postgresql:// URL"),
    (("store", "create", "x", "--backend", "sqlite:///x.db"), 2, "backend must be 'sqlite' or a postgresql:// URL"),
    (("rederive", "--cut-over"), 2,
     "--cut-over and --keep-shadow go with --from-inputs (see 'memman rederive --help')"),
    (("recall", "x", "--source", "nobody"), 2,
     "Invalid value for '--source': 'nobody' is not one of 'user', 'agent', 'external'. (see 'memman recall --help')"),
    # unknown and invalid stores, for a read and a write
    (("--store", "nope", "recall", "x"), 3, "unknown store 'nope'; create it with 'memman store create nope'"),
    (("--store", "nope", "remember", "x"), 3, "unknown store 'nope'; create it with 'memman store create nope'"),
    (("--store", "nope", "status"), 3, "unknown store 'nope'; create it with 'memman store create nope'"),
    (("--store", "Bad Name", "recall", "x"), 2, f"invalid store name 'Bad Name': {STORE_NAME_RULE}"),
    (("--store", "../etc", "remember", "x"), 2, f"invalid store name '../etc': {STORE_NAME_RULE}"),
    # replace
    (("replace", UNKNOWN_ID, "new text"), 3, f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
    (("replace", "{A}", ""), 2, "text is empty; say what to remember"),
    (("replace", "{A}"), 2, "Missing argument 'TEXT'. (see 'memman replace --help')"),
    (("replace", "{A}", "x", "--imp", "9"), 2,
     "Invalid value for '--imp': 9 is not in the range 1<=x<=5. (see 'memman replace --help')"),
    (("replace", "{A}", "x", "--meta", "oops"), 2, "bad --meta 'oops'; use key=value"),
    (("replace", "{P6}", "x"), 2, "memory id '{P6}' is ambiguous; give more characters"),
    # forget / restore
    (("forget", UNKNOWN_ID), 3, f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
    (("forget", "{A5}"), 3, f"unknown memory id '{{A5}}' in store 'default'; {NOT_FOUND_HINT}"),  # < 6 chars
    (("forget", "{P6}"), 2, "memory id '{P6}' is ambiguous; give more characters"),
    (("forget", "{F}"), 2, "memory {F} is already forgotten; 'memman restore {F}' undoes it"),
    (("forget",), 2, "Missing argument 'MEMORY_ID'. (see 'memman forget --help')"),
    (("restore", UNKNOWN_ID), 3, f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
    (("restore", "{A}"), 2, "memory {A} is not forgotten or superseded (it is active); nothing to restore"),
    # insights / log
    (("insights", "show", UNKNOWN_ID), 3, f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
    (("insights", "show", "{P6}"), 2, "memory id '{P6}' is ambiguous; give more characters"),
    (("log", "--memory", "nope12"), 3, f"unknown memory id 'nope12' in store 'default'; {NOT_FOUND_HINT}"),
    (("log", "--since", "bogus"), 2, "bad --since 'bogus'; use 7d, 24h, 30m or an ISO-8601 time"),
    (("log", "--since", "7x"), 2, "bad --since '7x'; use 7d, 24h, 30m or an ISO-8601 time"),
    (("log", "--limit", "0"), 2,
     "Invalid value for '--limit': 0 is not in the range 1<=x<=100000. (see 'memman log --help')"),
    # import / export
    (("import",), 2, "Missing argument 'FILE'. (see 'memman import --help')"),
    (("import", "/nonexistent/history.jsonl"), 2,
     "Invalid value for 'FILE': '/nonexistent/history.jsonl': No such file or directory (see 'memman import --help')"),
    (("export", "--what", "bogus"), 2,
     "Invalid value for '--what': 'bogus' is not one of 'memories', 'events'. (see 'memman export --help')"),
    # store
    (("store", "create", "Bad Name"), 2, f"invalid store name 'Bad Name': {STORE_NAME_RULE}"),
    (("store", "create", "-dash-first"), 2, "No such option '-d'. (see 'memman store create --help')"),
    (("store", "create", "x" * 65), 2, f"invalid store name '{'x' * 65}': {STORE_NAME_RULE}"),
    (("store", "create", "team", "--reads", "bogus"), 2,
     "Invalid value for '--reads': 'bogus' is not one of 'replica', 'server'. (see 'memman store create --help')"),
    (("store", "create", "team", "--reads", "server"), 2,
     "--reads server needs a store on PostgreSQL (--backend postgresql://...); nothing was created"),
    (("events", "replay", "--server"), 2,
     "--server needs a store on PostgreSQL; store 'default' keeps its log in SQLite"),
    (("store", "create", "other"), 2, "store 'other' already exists"),
    (("store", "create", "default"), 2, "store 'default' already exists"),
    (("store", "use", "nope"), 3, "unknown store 'nope'; create it with 'memman store create nope'"),
    (("store", "use", "UPPER"), 2, f"invalid store name 'UPPER': {STORE_NAME_RULE}"),
    (("store", "remove", "nope", "--yes"), 3, "unknown store 'nope'; create it with 'memman store create nope'"),
    (("store", "remove", "a/b", "--yes"), 2, f"invalid store name 'a/b': {STORE_NAME_RULE}"),
    # events
    (("events", "list", "--type", "memory.remember"), 2,
     "Invalid value for --type: unknown event type 'memory.remember'; known: "
     f"{', '.join(EVENT_CLASSES)} (see 'memman events list --help')"),
    (("events", "list", "--since", "yesterday"), 2, "bad --since 'yesterday'; use 7d, 24h, 30m or an ISO-8601 time"),
    (("events", "list", "--memory", UNKNOWN_ID), 3,
     f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
    (("events", "list", "--limit", "0"), 2,
     "Invalid value for '--limit': 0 is not in the range 1<=x<=1000000. (see 'memman events list --help')"),
    (("events", "show", "999"), 3, "no event with seq 999; see 'memman events list'"),
    (("events", "show", "0"), 3, "no event with seq 0; see 'memman events list'"),
    (("events", "show", "01XYZNOTANEVENT"), 3, "no event with id 01XYZNOTANEVENT; see 'memman events list'"),
    (("events", "show", "{A}"), 3, "no event with id {A}; see 'memman events list'"),  # a memory id is not an event id
    (("events", "replay", "--projection", "bogus"), 2,
     "unknown projection 'bogus'; choose from memories, graph, settings, queue, usage, vectors"),
    (("events", "replay", "--projection", "memories", "--projection", "nope"), 2,
     "unknown projection 'nope'; choose from memories, graph, settings, queue, usage, vectors"),
    (("events", "verify", "extra"), 2, "Got unexpected extra argument (extra) (see 'memman events verify --help')"),
    # scheduler
    (("scheduler", "drain", "--store", "nope"), 3, "unknown store 'nope'; create it with 'memman store create nope'"),
    (("scheduler", "drain", "--store", "BAD"), 2, f"invalid store name 'BAD': {STORE_NAME_RULE}"),
    (("scheduler", "drain", "--wait", "5", "--no-wait"), 2, "use either --wait SECONDS or --no-wait, not both"),
    (("scheduler", "drain", "--wait", "-1"), 2,
     "Invalid value for '--wait': -1 is not in the range 0<=x<=86400. (see 'memman scheduler drain --help')"),
    (("scheduler", "drain", "--limit", "0"), 2,
     "Invalid value for '--limit': 0 is not in the range x>=1. (see 'memman scheduler drain --help')"),
    # graph
    (("graph", "link", "{A}", UNKNOWN_ID), 3, f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
    (("graph", "link", "{A}", "{Aend}"), 2, "an edge needs two different memories"),
    (("graph", "related", UNKNOWN_ID), 3, f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
    (("graph", "related", "{A}", "--depth", "9"), 2,
     "Invalid value for '--depth': 9 is not in the range 1<=x<=5. (see 'memman graph related --help')"),
    (("graph", "related", "{A}", "--edge", "friendship"), 2,
     "Invalid value for '--edge': 'friendship' is not one of 'temporal', 'entity', 'semantic', 'causal', 'story', 'related'. "
     "(see 'memman graph related --help')"),
    (("graph", "rebuild", "--llm"), 2, "--llm needs an LLM: set llm.provider (see 'memman config show')"),
    (("recall", "x", "--intent", "how"), 2,
     "Invalid value for '--intent': 'how' is not one of 'why', 'when', 'entity', 'general'. (see 'memman recall --help')"),
    (("recall", "x", "--as-of", "yesterday"), 2, "bad time 'yesterday'; use ISO-8601, e.g. 2026-01-31T09:30:00Z"),
    (("recall", "x", "--min-score", "2"), 2, "--min-score must be between 0 and 1 (a calibrated probability), got 2.0"),
    (("recall", "x", "--min-score", "-0.1"), 2, "--min-score must be between 0 and 1 (a calibrated probability), got -0.1"),
    (("recall", "x", "--min-score", "nan"), 2, "--min-score must be between 0 and 1 (a calibrated probability), got nan"),
    (("recall", "x", "--min-score", "high"), 2,
     "Invalid value for '--min-score': 'high' is not a valid float. (see 'memman recall --help')"),
    (("recall", "x", "--order", "random"), 2,
     "Invalid value for '--order': 'random' is not one of 'score', 'time'. (see 'memman recall --help')"),
    (("graph", "link", "{A}", "{B}", "--weight", "11"), 2, "weight must be between 0 and 10, got 11.0"),
    (("graph", "link", "{A}", "{B}", "--weight", "-1"), 2, "weight must be between 0 and 10, got -1.0"),
    (("graph", "link", "{A}", "{B}", "--weight", "heavy"), 2,
     "Invalid value for '--weight': 'heavy' is not a valid float. (see 'memman graph link --help')"),
    (("graph", "link", "{A}", "{B}", "--type", "  "), 2, "edge type is empty; pass --type, e.g. --type causal"),
    (("graph", "link", "{A}", "{B}", "--meta", "x"), 2, "bad --meta 'x'; use key=value"),
    (("graph", "unlink", "{A}", "{B}"), 3, "no 'related' edge from {A} to {B}; see 'memman insights show {A}'"),
    (("graph", "unlink", UNKNOWN_ID, "{B}"), 3, f"unknown memory id '{UNKNOWN_ID}' in store 'default'; {NOT_FOUND_HINT}"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "message"), CASES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_bad_input_is_one_clear_line_the_right_exit_code_and_changes_nothing(
    seeded: Seeded, args: tuple[str, ...], code: int, message: str
) -> None:
    _check(seeded, args, code, message)


HOT_PATH_CASES = [case for case in CASES if case[0][0] in ("remember", "recall")]


@pytest.mark.parametrize(("args", "code", "message"), HOT_PATH_CASES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_the_click_path_rejects_hot_path_input_exactly_like_the_fast_path(
    seeded: Seeded, args: tuple[str, ...], code: int, message: str
) -> None:
    # remember and recall normally skip click (memman/fastpath.py); both parsers must agree on every error.
    _check(seeded, args, code, message, env={"MEMMAN_NO_FASTPATH": "1"})


def test_env_store_that_does_not_exist_is_not_found(seeded: Seeded) -> None:
    _check(seeded, ("recall", "x"), 3, "unknown store 'nope'; create it with 'memman store create nope'",
           env={"MEMMAN_STORE": "nope"})  # fmt: skip


def test_env_store_with_an_invalid_name_is_bad_input(seeded: Seeded) -> None:
    _check(seeded, ("remember", "x"), 2, f"invalid store name 'Bad!': {STORE_NAME_RULE}", env={"MEMMAN_STORE": "Bad!"})


# ------------------------------------------------------------------ text limits and encodings


def test_a_one_megabyte_text_on_stdin_is_rejected_naming_the_limit(seeded: Seeded) -> None:
    text = _check(seeded, ("remember", "-"), 2, None, input=b"a" * 1_048_576)
    assert text == "text is 1,048,576 bytes; the limit is 65,536 (remember one fact per call)"
    assert "limit" in text


def test_an_oversized_text_in_argv_is_rejected_naming_the_limit(seeded: Seeded) -> None:
    # argv caps one argument at 128 KiB (MAX_ARG_STRLEN), so 1 MB can only come on stdin.
    _check(seeded, ("remember", "b" * 100_000), 2,
           "text is 100,000 bytes; the limit is 65,536 (remember one fact per call)")  # fmt: skip


def test_a_replacement_text_over_the_limit_is_rejected(seeded: Seeded) -> None:
    _check(seeded, ("replace", "{A}", "-"), 2,
           "text is 65,537 bytes; the limit is 65,536 (remember one fact per call)", input=b"c" * 65_537)  # fmt: skip


def test_a_text_of_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    # The boundary belongs to the accepted side: 65,536 bytes are remembered, 65,537 are not (above).
    cli = Cli(tmp_path / "data")
    assert cli.json("remember", "-", input=b"d" * 65_536)["status"] == "pending"


def test_invalid_utf8_on_stdin_is_rejected(seeded: Seeded) -> None:
    _check(seeded, ("remember", "-"), 2, "text is not valid UTF-8 (byte 0); send UTF-8 text", input=b"\xff\xfe abc")


def test_invalid_utf8_in_the_middle_of_stdin_names_the_byte(seeded: Seeded) -> None:
    _check(seeded, ("remember", "-"), 2, "text is not valid UTF-8 (byte 4); send UTF-8 text", input=b"abc \xc3\x28 def")


def test_invalid_utf8_in_argv_is_rejected(seeded: Seeded) -> None:
    _check(seeded, ("remember", b"\xff\xfe abc"), 2, "argument 2 is not valid UTF-8; send UTF-8 text")


def test_invalid_utf8_replacement_text_is_rejected(seeded: Seeded) -> None:
    _check(seeded, ("replace", "{A}", b"new \xff"), 2, "argument 3 is not valid UTF-8; send UTF-8 text")


def test_a_nul_character_is_rejected(seeded: Seeded) -> None:
    _check(seeded, ("remember", "-"), 2, "text contains a NUL character", input=b"before\x00after")


def test_empty_stdin_is_an_empty_text(seeded: Seeded) -> None:
    _check(seeded, ("remember", "-"), 2, "text is empty; say what to remember", input=b"")


# Each case below crashed with exit 1 (UnicodeEncodeError, OverflowError, NotADirectoryError) or, for recall,
# silently matched nothing, until this suite found it; the messages are now part of the contract.
ARGV_UTF8 = "is not valid UTF-8; send UTF-8 text"


def test_an_undecodable_store_name_in_argv_names_the_argument(seeded: Seeded) -> None:
    _check(seeded, ("--store", b"\xff\xfe", "recall", "x"), 2, f"argument 2 {ARGV_UTF8}")


def test_undecodable_meta_in_argv_names_the_argument(seeded: Seeded) -> None:
    _check(seeded, ("remember", "x", "--meta", b"k=\xff"), 2, f"argument 4 {ARGV_UTF8}")


def test_undecodable_entities_in_argv_name_the_argument(seeded: Seeded) -> None:
    _check(seeded, ("remember", "x", "--entities", b"\xff"), 2, f"argument 4 {ARGV_UTF8}")


def test_an_undecodable_memory_id_in_argv_names_the_argument(seeded: Seeded) -> None:
    _check(seeded, ("forget", b"\xff\xfeabcdef"), 2, f"argument 2 {ARGV_UTF8}")


def test_an_undecodable_recall_query_is_bad_input_not_an_empty_result(seeded: Seeded) -> None:
    _check(seeded, ("recall", b"\xff\xfe abc"), 2, f"argument 2 {ARGV_UTF8}")


def test_an_event_seq_too_large_for_sqlite_is_not_found(seeded: Seeded) -> None:
    _check(seeded, ("events", "show", "99999999999999999999999"), 3,
           "no event with seq 99999999999999999999999; see 'memman events list'")  # fmt: skip


@pytest.mark.parametrize("command", [("log",), ("events", "list")])
@pytest.mark.parametrize("since", ["1000000d", "1000000000d", "99999999999999w"])
def test_a_since_duration_reaching_before_year_one_is_bad_input(
    seeded: Seeded, command: tuple[str, ...], since: str
) -> None:
    _check(seeded, (*command, "--since", since), 2, f"bad --since '{since}'; use 7d, 24h, 30m or an ISO-8601 time")


def test_an_at_time_before_year_one_in_utc_is_bad_input(seeded: Seeded) -> None:
    _check(seeded, ("remember", "x", "--at", "0001-01-01T00:00:00+01:00"), 2,
           "time '0001-01-01T00:00:00+01:00' is out of range; use a year from 1000 to 9999")  # fmt: skip


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00Z", "0999-12-31T23:59:59Z", "1-01-01", "10000-01-01T00:00:00Z",
                                "9999-12-31T23:59:59-05:00"])
def test_an_at_time_outside_years_1000_to_9999_is_refused(seeded: Seeded, at: str) -> None:
    # year 1 once went in with exit 0 and broke every later read of the store
    _check(seeded, ("remember", "x", "--at", at), 2, f"time {at!r} is out of range; use a year from 1000 to 9999")


def test_a_data_dir_that_is_a_file_is_bad_input(seeded: Seeded) -> None:
    not_a_dir = seeded.cli.data_dir.parent / "plain-file"
    not_a_dir.write_text("")
    _check(seeded, ("--data-dir", str(not_a_dir), "status"), 2,
           f"data dir {not_a_dir} is not a directory; pass --data-dir DIR or set MEMMAN_DATA_DIR")  # fmt: skip


# ------------------------------------------------------------------ import files


def _import_file(seeded: Seeded, tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "history.jsonl"
    path.write_bytes(body)
    return path


GOOD = b'{"text": "Epsilon ships on Mondays"}\n{"text": "Zeta uses Kafka", "cat": "fact"}\n'

IMPORT_CASES = [
    (b'{"txt": "typo"}\n', 3, "line 3: not a valid import object (Object missing required field `text`); nothing was imported"),
    (b"not json\n", 3, "line 3: not a valid import object (JSON is malformed: invalid character (byte 4)); nothing was imported"),
    (b"[1, 2]\n", 3, "line 3: not a valid import object (Expected `object`, got `array`); nothing was imported"),
    (b'{"text": ""}\n', 3, "line 3: text is empty; say what to remember; nothing was imported"),
    (b'{"text": "x", "cat": "bogus"}\n', 3,
     "line 3: unknown category 'bogus'; choose from preference, decision, fact, insight, context, general; "
     "nothing was imported"),
    (b'{"text": "x", "imp": 7}\n', 3, "line 3: importance must be 1-5, got 7; nothing was imported"),
    (b'{"text": "x", "source": "me"}\n', 3,
     "line 3: unknown source 'me'; choose from user, agent, external; nothing was imported"),
    (b'{"text": "x", "at": "soon"}\n', 3,
     "line 3: bad time 'soon'; use ISO-8601, e.g. 2026-01-31T09:30:00Z; nothing was imported"),
    (b'{"text": "x", "until": "later"}\n', 3,
     "line 3: bad time 'later'; use ISO-8601, e.g. 2026-01-31T09:30:00Z; nothing was imported"),
    (b'{"text": "x", "at": "2026-03-05T00:00:00Z", "until": "2026-03-01T00:00:00Z"}\n', 3,
     "line 3: --until 2026-03-01T00:00:00+00:00 is not after the memory occurred; give a later time;"
     " nothing was imported"),
    (b'{"text": "x", "meta": {"a": [1]}}\n', 3,
     "line 3: not a valid import object (Expected `bool | int | float | str | null`, got `array` - at `$.meta[...]`);"
     " nothing was imported"),
    (b'{"text": "' + b"e" * 70_000 + b'"}\n', 3,
     "line 3: text is 70,000 bytes; the limit is 65,536 (remember one fact per call); nothing was imported"),
    # blank lines are skipped but still counted, so N is the line an editor shows
    (b'\n\n{"text": 5}\n', 5, "line 5: not a valid import object (Expected `str`, got `int` - at `$.text`); nothing was imported"),
]  # fmt: skip


@pytest.mark.parametrize(("bad_line", "number", "message"), IMPORT_CASES)
def test_an_import_with_a_bad_line_names_it_and_imports_nothing(
    seeded: Seeded, tmp_path: Path, bad_line: bytes, number: int, message: str
) -> None:
    path = _import_file(seeded, tmp_path, GOOD + bad_line + b'{"text": "Eta is fine too"}\n')
    text = _check(seeded, ("import", str(path)), 2, message)
    assert text.startswith(f"line {number}: ")


def test_an_import_from_stdin_with_a_bad_line_imports_nothing(seeded: Seeded) -> None:
    _check(seeded, ("import", "-"), 2,
           "line 2: not a valid import object (Input data was truncated); nothing was imported",
           input=GOOD[: GOOD.index(b"\n") + 1] + b'{"text": "cut off')  # fmt: skip


def test_an_import_of_a_directory_is_rejected(seeded: Seeded, tmp_path: Path) -> None:
    _check(seeded, ("import", str(tmp_path)), 2,
           f"Invalid value for 'FILE': '{tmp_path}': Is a directory (see 'memman import --help')")  # fmt: skip


def test_an_import_line_with_invalid_utf8_names_the_line(seeded: Seeded, tmp_path: Path) -> None:
    path = _import_file(seeded, tmp_path, GOOD + b'{"text": "\xff\xfe"}\n')
    _check(seeded, ("import", str(path)), 2, "line 3: not valid UTF-8; nothing was imported")


def test_an_import_line_with_a_time_before_year_one_names_the_line(seeded: Seeded, tmp_path: Path) -> None:
    path = _import_file(seeded, tmp_path, GOOD + b'{"text": "x", "at": "0001-01-01T00:00:00+01:00"}\n')
    _check(seeded, ("import", str(path)), 2,
           "line 3: time '0001-01-01T00:00:00+01:00' is out of range; use a year from 1000 to 9999; nothing was imported")  # fmt: skip


def test_an_import_line_in_year_500_is_refused_and_imports_nothing(seeded: Seeded, tmp_path: Path) -> None:
    path = _import_file(seeded, tmp_path, GOOD + b'{"text": "x", "at": "0500-01-01T00:00:00Z"}\n')
    _check(seeded, ("import", str(path)), 2,
           "line 3: time '0500-01-01T00:00:00Z' is out of range; use a year from 1000 to 9999; nothing was imported")  # fmt: skip


def test_after_every_rejection_the_log_reads_back_exactly_as_before(seeded: Seeded) -> None:
    # Runs last: the log is append-only, so if any case above had written, it would show here.
    assert seeded.cli.events() == seeded.log
    assert seeded.cli.json("status")["events"] == len(seeded.log)


def test_an_at_time_more_than_a_few_minutes_ahead_is_refused_and_nothing_is_recorded(seeded: Seeded) -> None:
    result = seeded.cli("remember", "The freeze starts", "--at", "2999-01-01T00:00:00Z")
    assert_error(result, 2, contains=["--at 2999-01-01T00:00:00+00:00 is in the future", "give a past time"])
    seeded.assert_unchanged()


def test_an_import_line_with_a_future_at_is_refused_and_nothing_is_imported(seeded: Seeded, tmp_path: Path) -> None:
    source = tmp_path / "future.jsonl"
    source.write_text('{"text": "old"}\n{"text": "later", "at": "2999-01-01T00:00:00Z"}\n')
    assert_error(seeded.cli("import", str(source)), 2, contains=["line 2: --at 2999-01-01", "nothing was imported"])
    seeded.assert_unchanged()
