"""The fast path handles well-formed remember/recall calls without click and
behaves exactly like the click CLI; anything else falls through to click.
The hot path imports nothing heavy: remember, keyword recall and (once a
drain has written the centred vector cache) hybrid recall leave numpy,
usearch, httpx, structlog (and click) out of sys.modules."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from memman.fastpath import parse


@pytest.mark.parametrize(
    "argv",
    [
        ["remember", "x"],
        ["remember", "-"],
        ["remember", "x", "--cat", "decision", "--imp", "5", "--json"],
        ["remember", "x", "--redact"],
        ["remember", "--cat=fact", "x", "--meta", "a=1", "--meta", "b=2", "--entities", "A,B", "--at", "2025-01-01"],
        ["--store", "s", "--data-dir", "/tmp/x", "-v", "remember", "x"],
        ["--store=s", "recall", "q", "--limit", "3", "--basic", "--cat", "fact", "--source", "user", "--json"],
        ["recall", "--", "--not-an-option"],
        ["recall", "q", "--as-of", "2026-01-31", "--known-at=2026-02-01T00:00:00Z"],
        ["hook", "user-prompt-submit"],
        ["--data-dir", "/tmp/x", "hook", "pre-tool-use", "--agent", "codex", "--json"],
    ],
)
def test_well_formed_calls_take_the_fast_path(argv: list[str]) -> None:
    assert parse(argv) is not None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["remember", "--help"],
        ["remember"],
        ["remember", "a", "b"],
        ["remember", "x", "--cat", "bogus"],
        ["remember", "x", "--imp", "9"],
        ["remember", "x", "--imp", "two"],
        ["remember", "x", "--unknown"],
        ["remember", "x", "--cat"],
        ["recall", "q", "--limit", "0"],
        ["recall", "q", "--entities", "a"],
        ["--version"],
        ["--store"],
        ["forget", "x"],
        ["events", "list"],
        ["hook"],
        ["hook", "no-such-event"],
        ["hook", "stop", "--agent", "vim"],
        ["hook", "stop", "--help"],
        ["hook", "stop", "extra"],
    ],
)
def test_anything_else_falls_through_to_click(argv: list[str]) -> None:
    assert parse(argv) is None


def test_the_fast_path_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMMAN_NO_FASTPATH", "1")
    assert parse(["remember", "x"]) is None


def _normalise(text: str) -> str:
    text = re.sub(r"[0-9A-HJKMNP-TV-Z]{26}", "<ID>", text)
    text = re.sub(r"\b[0-9A-HJKMNP-TV-Z]{8}\b", "<SHORT>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "<TIME>", text)
    text = re.sub(r'"(seq|took_ms)":[\d.]+', r'"\1":<N>', text)
    return text


@pytest.mark.parametrize(
    "args",
    [
        ["remember", "The cache TTL is 5 minutes", "--cat", "fact"],
        ["remember", "The cache TTL is 5 minutes", "--json", "--entities", "cache"],
        ["remember", ""],
        ["remember", "x" * 70_000],
        ["remember", "The prod database password is hunter2"],
        ["remember", "The prod database password is hunter2", "--redact", "--json"],
        ["recall", "cache TTL"],
        ["recall", "cache TTL", "--json", "--limit", "2"],
        ["recall", "   "],
        ["recall", "cache TTL", "--as-of", "2020-01-01"],
        ["recall", "cache TTL", "--as-of", "2999-01-01T00:00:00Z", "--json"],
        ["recall", "cache TTL", "--known-at", "2999-01-01", "--basic"],
        ["recall", "cache TTL", "--as-of", "not a date"],
        ["recall", "cache TTL", "--known-at", ""],
        ["--store", "nope", "recall", "cache"],
        ["--store", "Bad Name", "remember", "x"],
    ],
)
def test_fast_path_and_click_agree(memman, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    memman("remember", "The cache TTL is 5 minutes")
    fast = memman(*args)
    slow = memman(*args, env={"MEMMAN_NO_FASTPATH": "1"})
    assert fast.code == slow.code
    assert _normalise(fast.out) == _normalise(slow.out)
    assert fast.err == slow.err


def test_the_fast_path_knows_every_hook_event() -> None:
    from memman.fastpath import HOOK_EVENTS
    from memman.install.hookrun import EVENTS

    assert HOOK_EVENTS == EVENTS


PROMPT = '{"hook_event_name": "UserPromptSubmit", "session_id": "s1", "cwd": "/tmp", "prompt": "what is the cache TTL"}'


@pytest.mark.parametrize(
    ("args", "payload"),
    [
        (["hook", "user-prompt-submit"], PROMPT),
        (["hook", "user-prompt-submit", "--json"], '{"prompt": ""}'),
        (["hook", "pre-tool-use", "--agent", "codex"], '{"tool_name": "Task"}'),
        (["hook", "pre-tool-use", "--json"], '{"tool_name": "Read"}'),
        (["hook", "stop"], '{"session_id": "s2"}'),
        (["hook", "session-start"], '{"source": "startup", "cwd": "/tmp"}'),
        (["hook", "user-prompt-submit"], "this is not json"),
        (["--store", "nope", "hook", "user-prompt-submit"], PROMPT),
        (["--store", "Bad Name", "hook", "user-prompt-submit"], PROMPT),
    ],
)
def test_hooks_answer_alike_on_both_paths(memman, args: list[str], payload: str) -> None:  # type: ignore[no-untyped-def]
    memman("remember", "The cache TTL is 5 minutes")
    memman("scheduler", "drain")
    memman("config", "set", "recall.inject_budget_ms", "30000")  # a loaded machine must not turn one into the reminder
    fast = memman(*args, input=payload)
    slow = memman(*args, input=payload, env={"MEMMAN_NO_FASTPATH": "1"})
    def same(text: str) -> str:
        return re.sub(r"last drain \d+s ago", "last drain <N>s ago", _normalise(text))

    assert (fast.code, same(fast.out), fast.err) == (slow.code, same(slow.out), slow.err)
    if payload == PROMPT and "--store" not in args:
        assert "cache TTL is 5 minutes" in fast.out  # the memory was injected, not the reminder


def _loaded_modules(argv: list[str], data_dir: str, stdin: str = "") -> set[str]:
    probe = (
        "import sys, atexit\n"
        "atexit.register(lambda: None)  # keeps main() from skipping teardown (os._exit), so the print runs\n"
        f"sys.argv = ['memman', *{argv!r}]\n"
        "from memman.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'usearch', 'httpx', 'structlog', 'click', 'onnxruntime', 'psycopg')\n"
        "print('HEAVY:' + ','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    env = {**os.environ, "MEMMAN_DATA_DIR": data_dir}
    out = subprocess.run([sys.executable, "-c", probe], input=stdin, capture_output=True, text=True, env=env, check=True).stdout
    [marker] = [line for line in out.splitlines() if line.startswith("HEAVY:")]
    return set(filter(None, marker.removeprefix("HEAVY:").split(",")))


def test_remember_and_keyword_recall_import_nothing_heavy(data_dir) -> None:  # type: ignore[no-untyped-def]
    assert _loaded_modules(["remember", "The cache TTL is 5 minutes"], str(data_dir)) == set()
    assert _loaded_modules(["recall", "--basic", "cache"], str(data_dir)) == set()
    assert _loaded_modules(["recall", "cache"], str(data_dir)) == set()


def test_hybrid_recall_over_drained_vectors_imports_nothing_heavy(memman, data_dir) -> None:  # type: ignore[no-untyped-def]
    """The drain leaves the flat vector cache current, and recall scans it
    with simsimd (memman/recall/scan.py): no numpy on the cold path
    (docs/scale.md). The recall really used the vectors: the paraphrase
    shares no word with the memory."""
    memman("remember", "Deployments go through GitHub Actions")
    memman("remember", "The cache TTL is 5 minutes")
    memman("scheduler", "drain")
    assert _loaded_modules(["recall", "cache"], str(data_dir)) == set()
    assert _loaded_modules(["hook", "user-prompt-submit"], str(data_dir), PROMPT) == set()
    found = memman("recall", "how do we ship code to production", "--json")
    assert "GitHub Actions" in found.out
    facts = _probe(
        ["recall", "how do we ship code to production"], str(data_dir), {"numpy": "'numpy' in sys.modules"}
    )
    assert facts == {"numpy": "False"}


def test_a_prompt_hook_loads_only_what_it_uses(memman, data_dir) -> None:  # type: ignore[no-untyped-def]
    """Per prompt: no click (the fast path), no hashlib (events/digests.py),
    and not the session-start primer's importlib.resources, which pulls in
    tempfile, shutil, bz2 and lzma."""
    memman("remember", "The cache TTL is 5 minutes")
    memman("scheduler", "drain")
    memman("config", "set", "recall.inject_budget_ms", "30000")
    modules = ("click", "hashlib", "tempfile", "importlib.resources", "memman.install.prime", "numpy")
    facts = _probe(
        ["hook", "user-prompt-submit"], str(data_dir),
        {"loaded": f"sorted(m for m in {modules!r} if m in sys.modules)", "out": "1"}, stdin=PROMPT,
    )
    assert facts == {"loaded": "[]", "out": "1"}


def test_verbose_explains_recall_on_stderr_in_both_paths(memman) -> None:  # type: ignore[no-untyped-def]
    memman("remember", "The cache TTL is 5 minutes")
    for env in ({}, {"MEMMAN_NO_FASTPATH": "1"}):
        run = memman("-v", "recall", "cache", env=env)
        assert run.code == 0
        assert run.err.startswith("memman: recall[hybrid] store=default took=")
        assert "keyword_hits=1" in run.err
        assert "cache TTL" in run.out and "memman:" not in run.out


def _probe(argv: list[str], data_dir: str, expressions: dict[str, str], stdin: str = "") -> dict[str, str]:
    """Run `memman argv` in a fresh interpreter, then evaluate `expressions` there."""
    lines = "".join(f"print({name!r} + '=' + repr({expr}))\n" for name, expr in expressions.items())
    probe = (
        "import sys, atexit\n"
        "atexit.register(lambda: None)  # keeps main() from skipping teardown, so the prints run\n"
        f"sys.argv = ['memman', *{argv!r}]\n"
        "from memman.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n" + lines
    )
    env = {**os.environ, "MEMMAN_DATA_DIR": data_dir}
    out = subprocess.run([sys.executable, "-c", probe], input=stdin, capture_output=True, text=True, env=env, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and line.split("=", 1)[0] in expressions)


def test_a_cold_recall_compiles_and_loads_only_what_it_uses(memman, data_dir) -> None:  # type: ignore[no-untyped-def]
    """The lean cold path (docs/scale.md): an ASCII query compiles neither the
    extractor's sentence and category rules nor the wide-script class, reads
    no TOML without a config file, does not import inspect (with ast, dis and
    tokenize, ~5 ms: projections/base.py), and the static embedder's
    vocabulary comes from the bucketed index, not a 30k-entry dict."""
    memman("remember", "The cache TTL is 5 minutes")
    memman("scheduler", "drain")
    facts = _probe(
        ["recall", "what is the cache TTL"],
        str(data_dir),
        {
            "terminal": "sys.modules['workers.stages.extract']._TERMINAL._compiled is None",
            "cues": "all(p._compiled is None for _, p in sys.modules['workers.stages.extract']._CATEGORY_CUES)",
            "wide": "sys.modules['projections.scripts']._RUN._compiled is None",
            "tomllib": "'tomllib' in sys.modules",
            "inspect": "'inspect' in sys.modules",
        },
    )
    assert facts == {"terminal": "True", "cues": "True", "wide": "True", "tomllib": "False", "inspect": "False"}


def test_reads_on_a_postgres_store_leave_psycopg_unloaded(data_dir, pg_dsn: str) -> None:  # type: ignore[no-untyped-def]
    """A read whose local replica is level with the shared log only asks the
    server for a few small rows, through libpq itself (events/backends/libpq.py):
    psycopg (~150 ms to import) is loaded by writes alone."""
    from tests.cli.conftest import Cli

    cli = Cli(data_dir)
    cli.ok("store", "create", "default", "--backend", pg_dsn)
    cli.ok("remember", "The cache TTL is 5 minutes")
    cli.ok("scheduler", "drain")
    cli.ok("recall", "cache")  # the replica catches up once
    assert _loaded_modules(["recall", "--basic", "cache"], str(data_dir)) == set()
    assert _loaded_modules(["recall", "cache"], str(data_dir)) <= {"numpy"}
    assert "psycopg" in _loaded_modules(["remember", "The cache TTL is 10 minutes now"], str(data_dir))
    assert _loaded_modules(["recall", "--basic", "cache"], str(data_dir)) == set()  # catching up reads through libpq too


def test_server_reads_leave_psycopg_unloaded(data_dir, pg_dsn: str) -> None:  # type: ignore[no-untyped-def]
    """Recall from the server projections (`--reads server`) reads through
    libpq too, and keeps no local replica."""
    from tests.cli.conftest import Cli

    cli = Cli(data_dir)
    cli.ok("store", "create", "default", "--backend", pg_dsn, "--reads", "server")
    cli.ok("remember", "The cache TTL is 5 minutes")
    cli.ok("scheduler", "drain")
    assert _loaded_modules(["recall", "--basic", "cache"], str(data_dir)) == set()
    assert _loaded_modules(["recall", "cache"], str(data_dir)) <= {"numpy"}
