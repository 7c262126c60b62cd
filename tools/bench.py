"""Whole-process benchmark of memman against synthetic stores.

For each size it writes a deterministic JSON Lines file of realistic agent
memories, imports it into a fresh data dir, drains it, and then times the
commands an agent runs, each in a fresh process (the console script
`.venv/bin/memman`, as an agent calls it):

    remember          one new memory                      target <= 40 ms
    recall --basic    keyword only, 10 rotating queries   target <= 60 ms
    recall            hybrid, the same queries            target <= 150 ms (at 10k)
    recall --as-of    hybrid, valid time mid-history      target < 1 s
    recall --known-at hybrid, transaction time            target < 1 s
    scheduler drain   the whole imported backlog, once    target >= 300 memories/s
    events replay     rebuild every projection            target >= 20k events/s

plus import throughput, store size on disk and the cold-process floor
(`python -c pass`, `import apsw, msgspec, click`), so readers can see what is
fixed cost. Progress goes to stderr; a Markdown table for README goes to stdout.

    .venv/bin/python tools/bench.py                        # 1k and 10k, 15 runs
    .venv/bin/python tools/bench.py --sizes 1000,10000,100000 --json bench.json
    .venv/bin/python tools/bench.py --sizes 1000 --runs 5 --keep /tmp/mm-bench
    .venv/bin/python tools/bench.py --keep /tmp/mm-bench --reuse    # re-time, no rebuild

The same seed gives the same memories, and a smaller size is a prefix of a
larger one. Measurements are medians of fresh processes on a shared machine:
read them as proportions, and re-run before relying on one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
MEMMAN = VENV_BIN / "memman"

TARGETS = {  # (comparison, bound, unit); recall's hybrid bound is stated at 10k
    "remember": ("<=", 40.0, "ms"),
    "recall_basic": ("<=", 60.0, "ms"),
    "recall": ("<=", 150.0, "ms"),
    "drain_rate": (">=", 300.0, "memories/s"),
    "replay_rate": (">=", 20_000.0, "events/s"),
}

# Natural-language questions an agent would ask of this data; each one hits
# the vocabulary below (checked at run time: the hit counts are reported).
QUERIES = [
    "what timeout does the billing service use",
    "which editor does Priya prefer for code review",
    "why did we choose Postgres over MySQL",
    "where does the checkout project deploy",
    "what version of Python is the ingest pipeline on",
    "who owns the auth service",
    "how do we run database migrations",
    "what is the retry limit for the payments API",
    "where is the nginx config file",
    "which CI builds the mobile app",
]

# ---------------------------------------------------------------- synthetic data

PEOPLE = """Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert
Sybil Trent Victor Walter Priya Arjun Mei Kenji Sofia Lucas Amara Tomasz Ingrid Diego Fatima
Hiro Leila Mateo Nadia Oskar Rosa Sven Yara Zoe Kwame Anika Bruno Chen Dmitri Elif Farah Gustav
Hana Ines Jonas""".split()
TEAMS = "platform payments growth infra data mobile search security billing support".split()
PROJECTS = """checkout ingest atlas falcon orion helios nebula quartz beacon harbor ledger
pulse relay sentinel tundra vortex zephyr cobalt ember juniper kestrel lumen mosaic nimbus
onyx prism raven sierra titan umbra""".split()
SERVICES = """billing auth payments search notifications gateway inventory recommendations
analytics profile shipping pricing catalog reporting scheduler webhooks identity ledger
exports media""".split()
TOOLS = """ripgrep neovim VSCode Emacs tmux fzf jq httpie Docker Podman kubectl k9s Helm
Terraform Pulumi Ansible Grafana Prometheus Sentry Datadog pytest ruff mypy uv poetry pnpm
Bazel make just direnv Postman DBeaver pgcli Wireshark htop Vim JetBrains Obsidian
Excalidraw""".split()
TASKS = ["code review", "debugging", "log search", "load testing", "profiling", "database migrations",
         "writing docs", "incident response", "dependency updates", "release notes", "API testing", "schema design",
         "on-call handoffs", "refactoring", "benchmarks", "code search", "editing config", "dashboards"]
TECH = [
    ("Postgres", "MySQL"), ("SQLite", "Postgres"), ("Redis", "Memcached"), ("Kafka", "RabbitMQ"),
    ("gRPC", "REST"), ("FastAPI", "Flask"), ("Go", "Java"), ("Rust", "C++"), ("React", "Vue"),
    ("Kubernetes", "Nomad"), ("Terraform", "CloudFormation"), ("GitHub Actions", "Jenkins"),
    ("S3", "GCS"), ("ClickHouse", "BigQuery"), ("msgspec", "pydantic"), ("click", "argparse"),
    ("Celery", "RQ"), ("Temporal", "Airflow"), ("Envoy", "nginx"), ("OpenTelemetry", "Zipkin"),
    ("DuckDB", "pandas"), ("uv", "pip-tools"), ("Svelte", "Angular"), ("Caddy", "Traefik"),
]
REASONS = """it has better JSON support|the team already knows it|it halves our cloud bill|
its latency is lower under load|it needs no extra server|the licence is permissive|it has
first-class async support|operations are simpler|it scales to our write volume|migrations
are safer|the community is larger|it is embeddable|it supports point-in-time recovery|
backups are trivial|it cut build times by a third|its type checking caught real bugs|
vendor lock-in worried us|it runs offline|the client libraries are mature|it passed the
security review""".replace("\n", "").split("|")
ENVS = ["production", "staging", "dev", "eu-west-1", "us-east-1", "ap-south-1", "the canary cluster", "the edge pool"]
CIS = ["GitHub Actions", "GitLab CI", "Buildkite", "CircleCI", "Jenkins", "Argo CD", "Spinnaker", "a nightly cron job"]
LANGS = [("Python", ["3.10", "3.11", "3.12", "3.13"]), ("Node", ["18", "20", "22"]), ("Go", ["1.21", "1.22", "1.23"]),
         ("Java", ["17", "21"]), ("Rust", ["1.75", "1.79", "1.82"]), ("Postgres", ["14", "15", "16", "17"])]
SETTINGS = ["timeout", "retry limit", "rate limit", "connection pool size", "batch size", "cache TTL", "max payload"]
UNITS = {"timeout": "s", "retry limit": " attempts", "rate limit": " requests/s", "connection pool size": " connections",
         "batch size": " rows", "cache TTL": " minutes", "max payload": " MB"}
PATHS = ["/etc/nginx/nginx.conf", "/etc/{svc}/config.toml", "~/.config/{svc}/settings.yaml", "deploy/{proj}/values.yaml",
         "infra/terraform/{proj}/main.tf", "services/{svc}/Dockerfile", "/var/log/{svc}/app.log", "scripts/{proj}_migrate.sh",
         "docs/runbooks/{svc}.md", ".github/workflows/{proj}.yml"]
COMPONENTS = ["", "", "-api", "-worker", "-web", "-etl", "-cli", "-admin"]
MONTHS = "January February March April May June July August September October November December".split()
CITIES = ["Lisbon", "Berlin", "Toronto", "Nairobi", "Bangalore", "Tokyo", "Austin", "Warsaw", "Sao Paulo", "Dublin",
          "Seoul", "Cape Town"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MEETINGS = ["standup", "planning", "the retro", "the design review", "the incident review", "the 1:1"]
DRINKS = ["oat milk flat whites", "green tea", "espresso", "sparkling water", "chai"]
FORMATS = ["bullet points", "short summaries", "tables", "code snippets first", "diffs rather than full files"]


def _templates():  # type: ignore[no-untyped-def]
    """(category, weight, render(rng) -> (text, entities)) for each template."""
    c = random.Random.choice

    def project(r):  # type: ignore[no-untyped-def]
        return c(r, PROJECTS) + r.choice(COMPONENTS)

    def person_tool(r):  # type: ignore[no-untyped-def]
        p, t, k = c(r, PEOPLE), c(r, TOOLS), c(r, TASKS)
        return f"{p} prefers {t} for {k} on {project(r)}.", [p, t]

    def chose(r):  # type: ignore[no-untyped-def]
        a, b = c(r, TECH)
        proj = project(r)
        return f"We chose {a} over {b} for {proj} because {c(r, REASONS)}.", [a, b]

    def setting(r):  # type: ignore[no-untyped-def]
        s, name, env = c(r, SERVICES), c(r, SETTINGS), c(r, ENVS)
        n = r.choice([1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 250, 500, 1000])
        scope = r.choice(["", "", " per pod", " per tenant", " for batch traffic", " for the public API"])
        return f"The {s} service {name} is {n}{UNITS[name]}{scope} in {env}.", []

    def deploy(r):  # type: ignore[no-untyped-def]
        proj, env, ci = project(r), c(r, ENVS), c(r, CIS)
        return f"The {proj} project deploys to {env} via {ci}, about {r.randint(1, 30)} times a week.", [ci]

    def owner(r):  # type: ignore[no-untyped-def]
        p, s, team = c(r, PEOPLE), c(r, SERVICES), c(r, TEAMS)
        return f"{p} owns the {s} service on the {team} team since {c(r, MONTHS)} {r.randint(2018, 2025)}.", [p]

    def version(r):  # type: ignore[no-untyped-def]
        lang, versions = c(r, LANGS)
        proj, part = project(r), r.choice(["pipeline", "worker", "API", "test suite", "build image", "batch job"])
        return f"The {proj} {part} runs on {lang} {c(r, versions)} in {c(r, ENVS)}.", [lang]

    def config_path(r):  # type: ignore[no-untyped-def]
        path = c(r, PATHS).format(svc=c(r, SERVICES), proj=project(r))
        what = r.choice(["config file", "settings", "runbook", "deploy manifest", "log file"])
        owner = path.split("/")[-2] if path.count("/") > 1 else "it"
        return f"The {what} for {owner} lives at {path}; {c(r, PEOPLE)} last changed it in {c(r, MONTHS)}.", []

    def migrations(r):  # type: ignore[no-untyped-def]
        proj, tool = project(r), r.choice(["alembic", "Flyway", "goose", "sqlx", "Liquibase", "dbmate"])
        return (f"Database migrations for {proj} run with {tool} before each deploy to {c(r, ENVS)}"
                f" and take about {r.randint(2, 300)} seconds."), [tool]

    def incident(r):  # type: ignore[no-untyped-def]
        s, n = c(r, SERVICES), r.randint(2, 240)
        cause = r.choice(["an expired TLS certificate", "a full disk", "a bad feature flag", "a slow query",
                          "DNS misconfiguration", "a memory leak", "connection pool exhaustion"])
        return f"The {s} outage on {c(r, DAYS)} lasted {n} minutes and was caused by {cause}.", []

    def meeting(r):  # type: ignore[no-untyped-def]
        p, m, d, team = c(r, PEOPLE), c(r, MEETINGS), c(r, DAYS), c(r, TEAMS)
        hour = r.choice(["9:30", "10:00", "11:15", "14:00", "15:30", "16:45"])
        return f"{p} runs the {team} team's {m} every {d} at {hour}.", [p]

    def likes(r):  # type: ignore[no-untyped-def]
        p, roll = c(r, PEOPLE), r.random()
        if roll < 0.3:
            return f"{p} drinks {c(r, DRINKS)} and dislikes meetings before {r.randint(9, 11)}am.", [p]
        if roll < 0.6:
            return f"{p} works from {c(r, CITIES)} and is usually online {r.randint(6, 11)}:00-{r.randint(15, 20)}:00 UTC.", [p]
        return f"{p} wants answers about {c(r, TASKS)} as {c(r, FORMATS)}.", [p]

    def api(r):  # type: ignore[no-untyped-def]
        s, v = c(r, SERVICES), r.randint(1, 4)
        port = r.choice([8000, 8080, 8443, 9000, 9090, 5000, 3000, 50051])
        proxy = r.choice(["Envoy", "nginx", "Caddy", "Traefik"])
        return f"The {s} API v{v} listens on port {port} behind {proxy} in {c(r, ENVS)} with {r.randint(2, 48)} replicas.", []

    def mobile(r):  # type: ignore[no-untyped-def]
        ci = c(r, CIS)
        app = c(r, PROJECTS) + " " + r.choice(["mobile app", "iOS app", "Android app", "desktop client", "web frontend"])
        return f"{ci} builds the {app} on every merge to main, taking about {r.randint(3, 40)} minutes.", [ci]

    def decision_long(r):  # type: ignore[no-untyped-def]
        a, b = c(r, TECH)
        s = c(r, SERVICES)
        pct = r.randint(5, 70)
        return (f"Decision for the {s} service: move from {b} to {a}. "
                f"Benchmarks showed a {pct}% drop in p99 latency and {c(r, REASONS)}."), [a, b]

    def todo(r):  # type: ignore[no-untyped-def]
        p, proj = c(r, PEOPLE), project(r)
        due = r.choice(["end of sprint", "next Friday", "Q3", "the 1.0 release", "the audit"])
        return f"{p} will upgrade {proj} to {c(r, LANGS)[0]} before {due}.", [p]

    return [
        ("preference", 10, person_tool), ("decision", 9, chose), ("fact", 10, setting), ("fact", 8, deploy),
        ("fact", 7, owner), ("fact", 7, version), ("fact", 6, config_path), ("fact", 5, migrations),
        ("insight", 4, incident), ("context", 4, meeting), ("preference", 5, likes), ("fact", 5, api),
        ("fact", 4, mobile), ("decision", 4, decision_long), ("general", 3, todo),
    ]


SPACED_MAX = 150_000  # lines a synthetic file spaces ~10 minutes apart (see `synthetic`)


def synthetic(n: int, seed: int = 42):  # type: ignore[no-untyped-def]
    """n import lines (dicts), deterministic for (n, seed); prefix-stable in n
    up to SPACED_MAX lines.

    Lines are ~10 minutes apart on average from 2023-01-01, so their times do
    not depend on n; beyond SPACED_MAX lines that would run past today (and
    `import` refuses future times), so a larger n packs its lines closer
    (1M: ~90 s apart, the same ~3 years)."""
    r = random.Random(seed)
    templates = _templates()
    weights = [w for _, w, _ in templates]
    clock = random.Random(seed + 7)  # its own stream, so times do not depend on n
    at = datetime(2023, 1, 1, tzinfo=timezone.utc)
    mean_gap = 600 * min(1.0, SPACED_MAX / n) if n else 600
    for _ in range(n):
        at += timedelta(seconds=clock.expovariate(1 / mean_gap))
        category, _, render = r.choices(templates, weights)[0]
        text, entities = render(r)
        line: dict[str, object] = {"text": text}
        line["at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if r.random() < 0.6:  # otherwise "general": the extractor infers it
            line["cat"] = category
        if entities and r.random() < 0.5:
            line["entities"] = entities
        if r.random() < 0.15:
            line["imp"] = r.choice([1, 2, 4, 5])
        if r.random() < 0.1:
            line["source"] = "user"
        yield line


def write_jsonl(path: Path, n: int, seed: int) -> int:
    texts = set()
    with path.open("w", encoding="utf-8") as f:
        for line in synthetic(n, seed):
            texts.add(line["text"])
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(texts)


def remember_texts(seed: int):  # type: ignore[no-untyped-def]
    """Fresh texts for the timed `remember` runs (a different stream from the store's)."""
    for line in synthetic(10_000, seed + 1):
        yield line["text"]


# ---------------------------------------------------------------- running

def compile_bytecode() -> None:
    """Measure what an installed wheel runs: compiled bytecode. Without it (an
    editable checkout under PYTHONDONTWRITEBYTECODE=1, as some agent shells
    set) every process recompiles memman's modules, ~16 ms per command."""
    import compileall

    for package in ("memman", "events", "projections", "workers"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def child_env(data_dir: Path | None) -> dict[str, str]:
    """Cold processes by default: MEMMAN_SERVER=off, so every row but the
    warm ones measures a process that imports and works alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["MEMMAN_SERVER"] = "off"
    if data_dir is not None:
        env["MEMMAN_DATA_DIR"] = str(data_dir)
    return env


def run(argv: list[str], env: dict[str, str], stdin: bytes | None = None) -> tuple[float, bytes]:
    """Wall milliseconds of one whole process, and its stdout; fails loudly."""
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return ms, proc.stdout


def timed_child(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one whole process; exits
    with one line if it fails: the command, its exit code and the last line
    of its stderr (memman's one-line error, or a traceback's exception). On
    a loaded machine wall time measures the queue for the CPU as much as the
    work; CPU time does not."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        said = proc.stderr.decode(errors="replace").strip().splitlines() or ["(nothing on stderr)"]
        raise SystemExit(f"bench: {' '.join(argv[:4])} exited {proc.returncode}: {said[-1][-600:]}")
    return wall, (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[8] if len(ordered) > 1 else ordered[0]
    return {
        "median": round(statistics.median(ordered), 2),
        "min": round(ordered[0], 2),
        "p90": round(p90, 2),
        "n": len(ordered),
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def floor(runs: int) -> dict[str, dict[str, float]]:
    env = child_env(None)
    cases = {
        "python -c pass": [str(PYTHON), "-c", "pass"],
        "python -c 'import apsw, msgspec'": [str(PYTHON), "-c", "import apsw, msgspec"],
        "python -c 'import apsw, msgspec, click'": [str(PYTHON), "-c", "import apsw, msgspec, click"],
        "python -c 'import numpy'": [str(PYTHON), "-c", "import numpy"],
        "memman --version": [str(MEMMAN), "--version"],
        "python -m memman --version": [str(PYTHON), "-m", "memman", "--version"],
    }
    for argv in cases.values():  # warm the page cache
        run(argv, env)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):  # interleaved, so drift in machine load hits all alike
        for name, argv in cases.items():
            samples[name].append(run(argv, env)[0])
    out = {name: stats(s) for name, s in samples.items()}
    for name, s in out.items():
        log(f"floor {name}: {s['median']:.1f} ms")
    return out


def store_bytes(data_dir: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in sorted((data_dir / "stores").glob("*/*")):
        if path.is_file():
            sizes[path.name] = sizes.get(path.name, 0) + path.stat().st_size
    return sizes


def build(n: int, workdir: Path, seed: int, env: dict[str, str]) -> dict:
    """Write the synthetic file, import it into a fresh data dir and drain it
    (both timed, once); saved to workdir/build.json for --reuse."""
    data_dir = Path(env["MEMMAN_DATA_DIR"])
    if data_dir.exists():
        shutil.rmtree(data_dir)
    mm = [str(MEMMAN)]
    built: dict[str, object] = {"size": n, "seed": seed}
    source = workdir / "memories.jsonl"
    distinct = write_jsonl(source, n, seed)
    built["distinct_texts"] = distinct
    log(f"wrote {source} ({distinct:,} distinct texts of {n:,})")

    ms, out = run([*mm, "import", str(source), "--json"], env)
    report = json.loads(out)
    built["import"] = {
        "imported": report["imported"],
        "seconds": report["seconds"],
        "wall_ms": round(ms, 1),
        "rate": round(report["imported"] / report["seconds"], 1) if report["seconds"] else None,
        "wall_rate": round(report["imported"] / (ms / 1000), 1),
    }
    log(f"import: {report['imported']:,} in {ms / 1000:.2f}s wall ({built['import']['wall_rate']:,.0f}/s)")

    log("drain: running (one pass over the whole backlog)")
    ms, out = run([*mm, "scheduler", "drain", "--json"], env)
    (drained,) = json.loads(out)["stores"]
    built["drain"] = {
        **drained,
        "wall_ms": round(ms, 1),
        "rate": round(drained["processed"] / drained["seconds"], 1) if drained["seconds"] else None,
        "wall_rate": round(drained["processed"] / (ms / 1000), 1),
        "load_after": round(os.getloadavg()[0], 2),
    }
    log(f"drain: {drained['processed']:,} inputs in {ms / 1000:.2f}s wall ({built['drain']['wall_rate']:,.0f}/s),"
        f" {drained['failed']} failed, {drained['remaining']} remaining")

    built["drained_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, out = run([*mm, "status", "--json"], env)
    status = json.loads(out)
    built["status"] = {k: status[k] for k in ("events", "by_status", "vectors", "edges", "bytes", "embedder")}
    built["disk_bytes"] = store_bytes(data_dir)
    log(f"store: {status['events']:,} events, {status['by_status']}, {_mb(built, True):.1f} MB + {_mb(built, False):.1f} MB WAL")
    (workdir / "build.json").write_text(json.dumps(built, indent=2))
    return built


def _middle_at(source: Path) -> str:
    """The median `at` of an import file: a date inside the imported history."""
    times = sorted(json.loads(line)["at"] for line in source.read_text(encoding="utf-8").splitlines() if line.strip())
    return times[len(times) // 2]


def bench_size(
    n: int, workdir: Path, runs: int, replay_runs: int, seed: int, *, compare_launchers: bool, reuse: bool
) -> dict:
    log(f"--- {n:,} memories in {workdir}")
    workdir.mkdir(parents=True, exist_ok=True)
    env = child_env(workdir / "data")
    mm = [str(MEMMAN)]
    saved = workdir / "build.json"
    previous = json.loads(saved.read_text()) if reuse and saved.exists() else None
    if previous and previous.get("size") == n and previous.get("seed") == seed:
        log(f"reusing the store built earlier (import and drain figures from {saved})")
        result: dict = {**previous, "reused": True}
    else:
        result = build(n, workdir, seed, env)

    # Hits per query (untimed; also warms the page cache for both modes).
    hits: dict[str, dict[str, int]] = {}
    for q in QUERIES:
        counts = {}
        for mode, extra in (("basic", ["--basic"]), ("hybrid", [])):
            _, out = run([*mm, "recall", q, *extra, "--json"], env)
            meta = json.loads(out)
            counts[mode] = len(meta["results"])
            counts[f"{mode}_in_process_ms"] = meta["meta"]["took_ms"]
        hits[q] = counts
    result["query_hits"] = hits
    misses = [q for q, c in hits.items() if not c["hybrid"]]
    log(f"queries: {sum(1 for c in hits.values() if c['basic'])}/{len(QUERIES)} hit by keyword,"
        f" {len(QUERIES) - len(misses)}/{len(QUERIES)} by hybrid")

    # --as-of the middle of the imported history (valid time) and --known-at
    # the end of the drain (transaction time): both answered through the
    # projections' validity intervals and status history (memman/recall/timeline.py).
    as_of = _middle_at(workdir / "memories.jsonl")
    known_at = result.get("drained_at") or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    timed = (("recall_basic", ["--basic"]), ("recall", []), ("recall_as_of", ["--as-of", as_of]),
             ("recall_known_at", ["--known-at", known_at]))  # fmt: skip
    for key, extra in timed:
        samples = [run([*mm, "recall", QUERIES[i % len(QUERIES)], *extra], env)[0] for i in range(runs)]
        result[key] = stats(samples)
        log(f"{key}: median {result[key]['median']:.1f} ms")

    result.update(bench_hot_path(mm, env, runs))

    samples, rates, applied = [], [], 0
    for _ in range(replay_runs):
        ms, out = run([*mm, "events", "replay", "--json"], env)
        report = json.loads(out)
        applied = report["events_applied"]
        samples.append(ms)
        rates.append(report["events_applied"] / report["seconds"] if report["seconds"] else 0.0)
    result["replay"] = {
        "events_applied": applied,
        "wall_ms": stats(samples),
        "rate": stats(rates),
        "wall_rate": round(applied / (statistics.median(samples) / 1000), 1),
    }
    log(f"replay: {applied:,} events, {result['replay']['rate']['median']:,.0f}/s in process,"
        f" {result['replay']['wall_ms']['median']:.0f} ms wall")

    # remember last: each run adds a pending input, which would otherwise make
    # the next recall pay to catch its projection up.
    texts = remember_texts(seed)
    result["remember"] = stats([run([*mm, "remember", next(texts)], env)[0] for _ in range(runs)])
    log(f"remember: median {result['remember']['median']:.1f} ms")
    if compare_launchers:
        launchers: dict[str, list[float]] = {"memman": [], "python -m memman": []}
        for _ in range(runs):
            launchers["memman"].append(run([*mm, "remember", next(texts)], env)[0])
            launchers["python -m memman"].append(run([str(PYTHON), "-m", "memman", "remember", next(texts)], env)[0])
        result["remember_by_launcher"] = {name: stats(s) for name, s in launchers.items()}
        log("remember by launcher: " + ", ".join(f"{k} {v['median']:.1f} ms" for k, v in result["remember_by_launcher"].items()))
    return result


def _hook_payload(i: int) -> bytes:
    return json.dumps(
        {"hook_event_name": "UserPromptSubmit", "session_id": "bench", "cwd": "/tmp", "prompt": QUERIES[i % len(QUERIES)]}
    ).encode()


def socket_dir(prefix: str) -> str:
    """A short, private directory for a warm server's socket: under /tmp
    itself, not TMPDIR. A Unix socket's path cannot pass 107 bytes, which a
    test's TMPDIR (/tmp/pytest-of-USER/pytest-1000/test_.../tmp/...) does
    once pytest's counter reaches four digits: the server cannot bind."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.path.isdir("/tmp") else None)


def bench_hot_path(mm: list[str], env: dict[str, str], runs: int) -> dict:
    """The prompt hook cold, then recall and the hook through the warm server
    (memman/server/), interleaved so load drift hits both alike."""
    hook = [*mm, "hook", "user-prompt-submit"]
    out: dict = {"hook": stats([run(hook, env, _hook_payload(i))[0] for i in range(runs)])}
    log(f"hook user-prompt-submit (cold): median {out['hook']['median']:.1f} ms")
    run_dir = socket_dir("mmb")
    warm = {**env, "MEMMAN_SERVER": "auto", "XDG_RUNTIME_DIR": run_dir}
    try:
        run([*mm, "server", "start"], warm)
        for i in range(3):  # first requests load lazily imported modules
            run([*mm, "recall", QUERIES[i]], warm)
            run(hook, warm, _hook_payload(i))
        samples: dict[str, list[float]] = {"recall_warm": [], "recall_basic_warm": [], "hook_warm": []}
        for i in range(runs):
            samples["recall_warm"].append(run([*mm, "recall", QUERIES[i % len(QUERIES)]], warm)[0])
            samples["recall_basic_warm"].append(run([*mm, "recall", QUERIES[i % len(QUERIES)], "--basic"], warm)[0])
            samples["hook_warm"].append(run(hook, warm, _hook_payload(i))[0])
        _, status = run([*mm, "server", "status", "--json"], warm)
        state = json.loads(status)
        if not state["running"] or state["served"] < 3 * runs:
            raise SystemExit(f"bench: the warm server did not answer every request: {state}")
        out["server_rss_mb"] = state["rss_mb"]
    finally:
        subprocess.run([*mm, "server", "stop"], env=warm, capture_output=True)
        shutil.rmtree(run_dir, ignore_errors=True)
    for key, s in samples.items():
        out[key] = stats(s)
        log(f"{key}: median {out[key]['median']:.1f} ms")
    return out


# ---------------------------------------------------------------- report

def _size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _verdict(key: str, value: float, n: int) -> str:
    comparison, bound, _ = TARGETS[key]
    if key == "recall" and n != 10_000:
        return ""
    ok = value <= bound if comparison == "<=" else value >= bound
    return " ✓" if ok else " ✗"


def _mb(result: dict, db: bool) -> float:
    return sum(v for k, v in result["disk_bytes"].items() if k.endswith(".db") == db) / 1e6


def _ms(s: dict[str, float]) -> str:
    return f"{s['median']:.0f} ({s['min']:.0f} / {s['p90']:.0f})"


def markdown(results: list[dict], floor_stats: dict, meta: dict) -> str:
    head = "| measure | target | " + " | ".join(_size_label(r["size"]) for r in results) + " |"
    rule = "|---|---|" + "---:|" * len(results)
    rows = []

    def row(label: str, target: str, cells: list[str]) -> None:
        rows.append(f"| {label} | {target} | " + " | ".join(cells) + " |")

    row("`remember`, ms", "≤ 40", [_ms(r["remember"]) + _verdict("remember", r["remember"]["median"], r["size"]) for r in results])
    row("`recall --basic`, ms", "≤ 60",
        [_ms(r["recall_basic"]) + _verdict("recall_basic", r["recall_basic"]["median"], r["size"]) for r in results])
    row("`recall` (hybrid), ms", "≤ 150 at 10k",
        [_ms(r["recall"]) + _verdict("recall", r["recall"]["median"], r["size"]) for r in results])
    base = floor_stats["python -c pass"]["median"]

    def warm_row(label: str, target: str, key: str) -> None:
        if all(key in r for r in results):
            row(label, target, [f"{_ms(r[key])} = {r[key]['median'] / base:.1f}x" for r in results])

    warm_row("`recall` (hybrid), cold, x `python -c pass`", "≤ 8x at 10k", "recall")
    warm_row("`recall` through the warm server, ms", "≤ 3x", "recall_warm")
    warm_row("`recall --basic` through the warm server, ms", "≤ 3x", "recall_basic_warm")
    warm_row("prompt hook (`user-prompt-submit`), cold, ms", "", "hook")
    warm_row("prompt hook through the warm server, ms", "≤ 4x", "hook_warm")
    warm_row("`remember`, x `python -c pass`", "≤ 3x", "remember")
    warm_row("`recall --as-of` (mid-history), ms", "< 1,000", "recall_as_of")
    warm_row("`recall --known-at` (after drain), ms", "< 1,000", "recall_known_at")
    if all("server_rss_mb" in r for r in results):
        row("warm server peak RSS, MB", "", [f"{r['server_rss_mb']:.0f}" for r in results])
    row("`scheduler drain`, memories/s", "≥ 300",
        [f"{r['drain']['wall_rate']:,.0f} ({r['drain']['wall_ms'] / 1000:,.1f} s)"
         + _verdict("drain_rate", r["drain"]["wall_rate"], r["size"]) for r in results])
    row("`events replay`, events/s", "≥ 20,000",
        [f"{r['replay']['rate']['median']:,.0f} ({r['replay']['events_applied']:,} in {r['replay']['wall_ms']['median'] / 1000:,.2f} s)"
         + _verdict("replay_rate", r["replay"]["rate"]["median"], r["size"]) for r in results])
    row("`import`, memories/s", "", [f"{r['import']['wall_rate']:,.0f} ({r['import']['wall_ms'] / 1000:,.2f} s)" for r in results])
    row("store on disk, MB: *.db (+ WAL)", "", [f"{_mb(r, True):,.1f} (+ {_mb(r, False):,.1f})" for r in results])
    row("memories active / superseded; events", "",
        [f"{r['status']['by_status'].get('active', 0):,} / {r['status']['by_status'].get('superseded', 0):,};"
         f" {r['status']['events']:,}" for r in results])

    lines = [head, rule, *rows, ""]
    lines.append("| cold-process floor | ms |")
    lines.append("|---|---:|")
    for name, s in floor_stats.items():
        lines.append(f"| `{name}` | {_ms(s)} |")
    lines.append("")
    lines.append(
        f"Whole process through `{meta['launcher']}`, each run a fresh process; ms cells are median (min / p90) of "
        f"{meta['runs']} runs (recall rotates {len(QUERIES)} queries; replay: {meta['replay_runs']} run(s)). Drain and import "
        "are one whole-process run over the full imported backlog (inputs / wall seconds); replay is events_applied / "
        f"in-process seconds. {meta['cpus']} CPUs, Python {meta['python']}, memman {meta['memman']} ({meta['commit']}), "
        f"OPENBLAS_NUM_THREADS=1, load average {meta['load_before'][0]:.1f} before / {meta['load_after'][0]:.1f} after. "
        "✓/✗: against the target."
    )
    reused = [_size_label(r["size"]) for r in results if r.get("reused")]
    if reused:
        lines.append(f"Import, drain and store figures for {', '.join(reused)} come from the earlier run that built the store (--reuse).")
    by_launcher = [r for r in results if "remember_by_launcher" in r]
    if by_launcher:
        r = by_launcher[0]
        lines.append(
            f"Launcher, `remember` at {_size_label(r['size'])}: "
            + ", ".join(f"`{k}` {_ms(v)} ms" for k, v in r["remember_by_launcher"].items())
            + "."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated store sizes [1000,10000]")
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per timed command [15]")
    parser.add_argument("--replay-runs", type=int, default=3, help="runs of 'events replay' per size [3]")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="also write every measurement as JSON")
    parser.add_argument("--keep", metavar="DIR", help="build stores under DIR and keep them (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: reuse stores built by an earlier run (skip import and drain)"
    )
    args = parser.parse_args()
    compile_bytecode()
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep DIR")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not MEMMAN.exists():
        raise SystemExit(f"bench: {MEMMAN} is missing; run 'make venv' first")

    meta = {
        "launcher": ".venv/bin/memman",
        "runs": args.runs,
        "replay_runs": args.replay_runs,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "memman": run([str(MEMMAN), "--version"], child_env(None))[1].decode().split()[-1],
        "commit": subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": platform.platform(),
    }
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="memman-bench-"))
    try:
        floor_stats = floor(args.runs)
        results = []
        for i, n in enumerate(sizes):
            results.append(
                bench_size(
                    n, root / f"n{n}", args.runs, args.replay_runs, args.seed, compare_launchers=i == 0, reuse=args.reuse
                )
            )
            if args.json_path:  # written after every size, so a long run leaves partial results
                Path(args.json_path).write_text(json.dumps({"meta": meta, "floor": floor_stats, "results": results}, indent=2))
        meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
        if args.json_path:
            Path(args.json_path).write_text(json.dumps({"meta": meta, "floor": floor_stats, "results": results}, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(markdown(results, floor_stats, meta))


if __name__ == "__main__":
    main()
