"""tools/bench.py's corpus: deterministic, realistic agent memories (people,
services, projects, settings, decisions, incidents...) written as memman
import lines, and the questions the benchmark asks of them.

The same seed gives the same memories, and a smaller size is a prefix of a
larger one (up to SPACED_MAX lines). Each template draws from the rng in a
fixed order: changing one changes every store built from a seed after it.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

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

_pick = random.Random.choice  # _pick(r, seq): r.choice(seq)


def _project(r):  # type: ignore[no-untyped-def]
    return _pick(r, PROJECTS) + r.choice(COMPONENTS)


def _person_tool(r):  # type: ignore[no-untyped-def]
    p, t, k = _pick(r, PEOPLE), _pick(r, TOOLS), _pick(r, TASKS)
    return f"{p} prefers {t} for {k} on {_project(r)}.", [p, t]


def _chose(r):  # type: ignore[no-untyped-def]
    a, b = _pick(r, TECH)
    proj = _project(r)
    return f"We chose {a} over {b} for {proj} because {_pick(r, REASONS)}.", [a, b]


def _setting(r):  # type: ignore[no-untyped-def]
    s, name, env = _pick(r, SERVICES), _pick(r, SETTINGS), _pick(r, ENVS)
    n = r.choice([1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 250, 500, 1000])
    scope = r.choice(["", "", " per pod", " per tenant", " for batch traffic", " for the public API"])
    return f"The {s} service {name} is {n}{UNITS[name]}{scope} in {env}.", []


def _deploy(r):  # type: ignore[no-untyped-def]
    proj, env, ci = _project(r), _pick(r, ENVS), _pick(r, CIS)
    return f"The {proj} project deploys to {env} via {ci}, about {r.randint(1, 30)} times a week.", [ci]


def _owner(r):  # type: ignore[no-untyped-def]
    p, s, team = _pick(r, PEOPLE), _pick(r, SERVICES), _pick(r, TEAMS)
    return f"{p} owns the {s} service on the {team} team since {_pick(r, MONTHS)} {r.randint(2018, 2025)}.", [p]


def _version(r):  # type: ignore[no-untyped-def]
    lang, versions = _pick(r, LANGS)
    proj, part = _project(r), r.choice(["pipeline", "worker", "API", "test suite", "build image", "batch job"])
    return f"The {proj} {part} runs on {lang} {_pick(r, versions)} in {_pick(r, ENVS)}.", [lang]


def _config_path(r):  # type: ignore[no-untyped-def]
    path = _pick(r, PATHS).format(svc=_pick(r, SERVICES), proj=_project(r))
    what = r.choice(["config file", "settings", "runbook", "deploy manifest", "log file"])
    owner = path.split("/")[-2] if path.count("/") > 1 else "it"
    return f"The {what} for {owner} lives at {path}; {_pick(r, PEOPLE)} last changed it in {_pick(r, MONTHS)}.", []


def _migrations(r):  # type: ignore[no-untyped-def]
    proj, tool = _project(r), r.choice(["alembic", "Flyway", "goose", "sqlx", "Liquibase", "dbmate"])
    return (f"Database migrations for {proj} run with {tool} before each deploy to {_pick(r, ENVS)}"
            f" and take about {r.randint(2, 300)} seconds."), [tool]


def _incident(r):  # type: ignore[no-untyped-def]
    s, n = _pick(r, SERVICES), r.randint(2, 240)
    cause = r.choice(["an expired TLS certificate", "a full disk", "a bad feature flag", "a slow query",
                      "DNS misconfiguration", "a memory leak", "connection pool exhaustion"])
    return f"The {s} outage on {_pick(r, DAYS)} lasted {n} minutes and was caused by {cause}.", []


def _meeting(r):  # type: ignore[no-untyped-def]
    p, m, d, team = _pick(r, PEOPLE), _pick(r, MEETINGS), _pick(r, DAYS), _pick(r, TEAMS)
    hour = r.choice(["9:30", "10:00", "11:15", "14:00", "15:30", "16:45"])
    return f"{p} runs the {team} team's {m} every {d} at {hour}.", [p]


def _likes(r):  # type: ignore[no-untyped-def]
    p, roll = _pick(r, PEOPLE), r.random()
    if roll < 0.3:
        return f"{p} drinks {_pick(r, DRINKS)} and dislikes meetings before {r.randint(9, 11)}am.", [p]
    if roll < 0.6:
        return f"{p} works from {_pick(r, CITIES)} and is usually online {r.randint(6, 11)}:00-{r.randint(15, 20)}:00 UTC.", [p]
    return f"{p} wants answers about {_pick(r, TASKS)} as {_pick(r, FORMATS)}.", [p]


def _api(r):  # type: ignore[no-untyped-def]
    s, v = _pick(r, SERVICES), r.randint(1, 4)
    port = r.choice([8000, 8080, 8443, 9000, 9090, 5000, 3000, 50051])
    proxy = r.choice(["Envoy", "nginx", "Caddy", "Traefik"])
    return f"The {s} API v{v} listens on port {port} behind {proxy} in {_pick(r, ENVS)} with {r.randint(2, 48)} replicas.", []


def _mobile(r):  # type: ignore[no-untyped-def]
    ci = _pick(r, CIS)
    app = _pick(r, PROJECTS) + " " + r.choice(["mobile app", "iOS app", "Android app", "desktop client", "web frontend"])
    return f"{ci} builds the {app} on every merge to main, taking about {r.randint(3, 40)} minutes.", [ci]


def _decision_long(r):  # type: ignore[no-untyped-def]
    a, b = _pick(r, TECH)
    s = _pick(r, SERVICES)
    pct = r.randint(5, 70)
    return (f"Decision for the {s} service: move from {b} to {a}. "
            f"Benchmarks showed a {pct}% drop in p99 latency and {_pick(r, REASONS)}."), [a, b]


def _todo(r):  # type: ignore[no-untyped-def]
    p, proj = _pick(r, PEOPLE), _project(r)
    due = r.choice(["end of sprint", "next Friday", "Q3", "the 1.0 release", "the audit"])
    return f"{p} will upgrade {proj} to {_pick(r, LANGS)[0]} before {due}.", [p]


TEMPLATES = (  # (category, weight, render(rng) -> (text, entities))
    ("preference", 10, _person_tool), ("decision", 9, _chose), ("fact", 10, _setting), ("fact", 8, _deploy),
    ("fact", 7, _owner), ("fact", 7, _version), ("fact", 6, _config_path), ("fact", 5, _migrations),
    ("insight", 4, _incident), ("context", 4, _meeting), ("preference", 5, _likes), ("fact", 5, _api),
    ("fact", 4, _mobile), ("decision", 4, _decision_long), ("general", 3, _todo),
)


SPACED_MAX = 150_000  # lines a synthetic file spaces ~10 minutes apart (see `synthetic`)


def synthetic(n: int, seed: int = 42):  # type: ignore[no-untyped-def]
    """n import lines (dicts), deterministic for (n, seed); prefix-stable in n
    up to SPACED_MAX lines.

    Lines are ~10 minutes apart on average from 2023-01-01, so their times do
    not depend on n; beyond SPACED_MAX lines that would run past today (and
    `import` refuses future times), so a larger n packs its lines closer
    (1M: ~90 s apart, the same ~3 years)."""
    r = random.Random(seed)
    templates = TEMPLATES
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
