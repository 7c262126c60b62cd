"""Run the benchmark: build each store through the real CLI, then ask every
question in every mode and score the ranked evidence keys.

Ingest: the store's JSON Lines (each line's `meta.bench_key` is the memory's
key, `at` its occurred time) go through `memman import` and `memman scheduler
drain` in subprocesses, with the offline defaults (static embedder, rule
pipeline) and no provider variables. Query: in-process
`memman.service.Memman.recall` (the same service the CLI calls; a few
questions per store are also asked through `memman recall --json` and must
return the same ids). Results map back to keys through the memories table's
meta, which the drain copies onto every fact split off a text.

A question asked on a given day ("a week ago") runs with the service clock
set to its `asked_at`, so recall that reads "now" from the clock sees that day.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tools.recall_bench.bm25 import BM25
from tools.recall_bench.metrics import LIMIT, distinct, score
from tools.recall_bench.model import Question, Store

# mode -> keyword arguments for Memman.recall; "bm25" is the independent baseline.
MODES: dict[str, dict[str, object]] = {
    "basic": {"basic": True},
    "hybrid": {},
    "no-keyword": {"disable": ("keyword",)},
    "no-vector": {"disable": ("vector",)},
    "no-recency": {"disable": ("recency",)},
    "no-entity": {"disable": ("entity",)},
    "no-hop": {"disable": ("hop",)},
    "no-story": {"disable": ("story",)},
    "no-retention": {"disable": ("retention",)},
    "no-succession": {"disable": ("succession",)},
    "graph-off": {"graph": False},
    "graph-on": {"graph": True},
}
BASELINE = "bm25"
ALL_MODES = (*MODES, BASELINE)
SPOT_CHECKS = 2  # questions per store also asked through the CLI
_CLEARED = ("MEMMAN_", "OPENAI_", "VOYAGE_", "ANTHROPIC_", "OLLAMA_")

Log = Callable[[str], None]


class BenchError(Exception):
    """The benchmark could not build or query a store (names the step)."""


class NotBuilt(BenchError):
    """--reuse names a directory without this store, or with another version of it."""


def _env() -> dict[str, str]:
    """No memman or provider variables (offline defaults), and the cold CLI
    path: a warm server (memman/server/) spawned per temp store would outlive
    the run, and the spot check compares the in-process path with a fresh process."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(_CLEARED)}, "MEMMAN_SERVER": "off"}


def memman_cli(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "memman", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, env=_env(), check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"memman {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return done.stdout


def build(store: Store, root: Path, postgres: tuple[str, str] | None = None) -> tuple[Path, float]:
    """Import and drain `store` into a fresh data dir under `root`; (dir,
    seconds). `postgres` = (database URL, "replica" or "server" reads) puts
    the store's log in PostgreSQL (its drain keeps the server projections)."""
    data_dir = root / store.name
    data_dir.mkdir(parents=True, exist_ok=False)
    lines = root / f"{store.name}.jsonl"
    lines.write_bytes(store.jsonl())
    started = time.perf_counter()
    if postgres is not None:
        dsn, reads = postgres
        memman_cli(data_dir, "config", "set", "scope.projects", "false")  # the default store, wherever this runs
        memman_cli(data_dir, "store", "create", "default", "--backend", dsn, "--reads", reads)
    memman_cli(data_dir, "import", str(lines))
    memman_cli(data_dir, "scheduler", "drain")
    (root / f"{store.name}.built").write_text(_fingerprint(store))
    return data_dir, time.perf_counter() - started


def built(store: Store, root: Path) -> Path:
    """The data dir a previous `build` made for exactly this store under `root`."""
    marker = root / f"{store.name}.built"
    if not marker.is_file() or marker.read_text() != _fingerprint(store):
        raise NotBuilt(f"{root} holds no build of {store.name} from this generator; build it with --keep")
    return root / store.name


def _fingerprint(store: Store) -> str:
    import hashlib

    return hashlib.sha256(store.jsonl()).hexdigest()


def supported(modes: list[str]) -> tuple[list[str], list[str]]:
    """(modes this recall can run, modes it cannot: a keyword it lacks)."""
    from memman.service import Memman

    params = inspect.signature(Memman.recall).parameters
    ok, missing = [], []
    for mode in modes:
        needs = set(MODES.get(mode, {}))
        (ok if needs <= set(params) else missing).append(mode)
    return ok, missing


def _keys(app) -> tuple[dict[str, str], dict[str, bool]]:  # type: ignore[no-untyped-def]
    """memory id -> key, and key -> whether any of its memories is active."""
    by_id: dict[str, str] = {}
    active: dict[str, bool] = {}
    for memory_id, meta, status in app.fresh().main.conn.execute("SELECT id, meta, status FROM memories"):
        key = json.loads(meta or "{}").get("bench_key")
        if key:
            by_id[memory_id] = key
            active[key] = active.get(key, False) or status == "active"
    return by_id, active


@contextmanager
def memoised_embedders() -> Iterator[None]:
    """Load each shipped embedder once per run instead of once per recall (as
    each CLI process does once): `embedder_for` is a pure function of the
    fingerprint, so results are unchanged and a run is twice as fast."""
    import workers.embedders as embedders

    original = embedders.embedder_for
    cache: dict[str, object] = {}

    def cached(fingerprint_key: str, settings=None):  # type: ignore[no-untyped-def]
        if settings is not None:
            return original(fingerprint_key, settings)
        if fingerprint_key not in cache:
            cache[fingerprint_key] = original(fingerprint_key)
        return cache[fingerprint_key]

    embedders.embedder_for = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        embedders.embedder_for = original


def evaluate(store: Store, data_dir: Path, modes: list[str], log: Log) -> dict:
    """Every question of `store` in every mode: per-question rows and build facts."""
    from memman.service import Memman

    app = Memman(data_dir)
    try:
        by_id, active = _keys(app)
        bm25 = BM25([m.key for m in store.memories], [m.text for m in store.memories])
        texts = {m.key: m.text for m in store.memories}
        rows, hidden = [], 0
        with memoised_embedders():
            for q in store.questions:
                evidence = tuple(k for k in q.evidence if active.get(k))
                hidden += len(q.evidence) - len(evidence)
                if evidence:  # evidence the drain superseded cannot be recalled: score what is left
                    rows.append(_ask(store, q, evidence, app, data_dir, modes, by_id, bm25, texts))
        checks = spot_check(app, store.questions, data_dir, by_id)
    finally:
        app.close()
    return {"rows": rows, "hidden_evidence": hidden, "active_memories": sum(active.values()), "cli_checks": checks}


def _ask(store: Store, q: Question, evidence: tuple[str, ...], app, data_dir: Path, modes: list[str],  # type: ignore[no-untyped-def]
         by_id: dict[str, str], bm25: BM25, texts: dict[str, str]) -> dict:
    from events.clock import from_iso
    from memman.service import Memman

    row: dict = {"qid": q.qid, "store": store.name, "question": q.text, "category": q.category, "kind": q.kind,
                 "evidence": list(evidence), "paraphrased": q.paraphrased, "asked_at": q.asked_at, "modes": {}}
    asker = app if q.asked_at is None else Memman(data_dir, clock=_fixed(from_iso(q.asked_at)))
    try:
        for mode in modes:
            ranked = bm25.search(q.text, LIMIT) if mode == BASELINE else _ranked(asker, q, by_id, MODES[mode])
            row["modes"][mode] = {**score(ranked, evidence), "name_only": name_only(q.text, ranked, texts), "top": ranked}
    finally:
        if asker is not app:
            asker.close()
    return row


def name_only(question: str, ranked: list[str], texts: dict[str, str]) -> float | None:
    """The share of results that have no content word in common with the
    question but a person's name ("Tomas: Same here." for "What did Tomas
    bake?"); None for an empty list. The issue measured 41% in hybrid."""
    from tools.recall_bench.common import content_words
    from tools.recall_bench.suite import NAMES

    shown = [texts[k] for k in ranked if k in texts]
    if not shown:
        return None
    asked = content_words(question, set(NAMES))
    return sum(1 for t in shown if not asked & content_words(t, set(NAMES))) / len(shown)


def _fixed(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


def _ranked(app, q: Question, by_id: dict[str, str], kwargs: dict) -> list[str]:  # type: ignore[no-untyped-def]
    result = app.recall(q.text, limit=LIMIT, **kwargs)
    ids = [h.id for h in result.results]
    return distinct([by_id.get(i) for i in ids], ids)


def spot_check(app, questions: list[Question], data_dir: Path, by_id: dict[str, str]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Ask a few questions through `memman recall --json` in a subprocess, hybrid
    and --basic: the ids must equal the in-process service's, in order."""
    out = []
    for q in [q for q in questions if q.asked_at is None][:SPOT_CHECKS]:
        for flags, kwargs in (((), {}), (("--basic",), {"basic": True})):
            cli = json.loads(memman_cli(data_dir, "recall", q.text, "--json", "--limit", str(LIMIT), *flags))
            cli_ids = [h["id"] for h in cli["results"]]
            ids = [h.id for h in app.recall(q.text, limit=LIMIT, **kwargs).results]
            out.append({"qid": q.qid, "mode": "basic" if flags else "hybrid", "agree": cli_ids == ids})
    return out
