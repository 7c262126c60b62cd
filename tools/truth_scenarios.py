"""Data for measuring truth over time (tools/bench_supersession.py and
tests/cli/test_truth_week.py): a generator of many similar service facts about
different subjects, and a scripted week of project memories that change.

Service facts: every generated fact has its own subject (service, component,
environment; ticket, host, incident numbers), so any supersession among them
is false. Lower-case names and identifiers are the point: they are what a
rule reconciler used to read as "the same sentence with another value".

The week: each scenario is a few memories written with `--at` over a week,
worded the way people write changes, then a "what is X now" question whose
answer must rank the current value first, and a past date whose `--as-of`
answer must be the value valid then.
"""

from __future__ import annotations

import itertools
import random

import msgspec

SERVICES = """billing auth payments search notification gateway inventory recommendations analytics profile
shipping pricing catalog reporting scheduler webhooks identity ledger exports media checkout ingest
fraud loyalty invoicing tax refunds onboarding messaging audit""".split()
COMPONENTS = """metrics exporter|log shipper|queue consumer|cache warmer|batch worker|api gateway|cron runner|
event relay|health checker|report builder|index builder|schema registry|rate limiter|session store|feature flagger|
token signer|image resizer|webhook sender|ledger writer|backup agent""".replace("\n", "").split("|")
ENVS = ["staging", "production", "dev", "canary"]
REGIONS = ["us-west-2", "us-east-1", "eu-west-1", "eu-central-1", "ap-south-1", "ap-northeast-1"]
PEOPLE = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Priya Arjun Mei Kenji Sofia Lucas Amara Dana".split()
TECH = [("Postgres", ["14", "15", "16"]), ("Python", ["3.11", "3.12"]), ("Redis", ["6", "7"]), ("Node", ["18", "20"])]
HOSTS = ["web", "db", "worker", "cache", "edge"]


def _subject_facts(rng: random.Random):  # type: ignore[no-untyped-def]
    """(subject key, text) for every service subject, in a seeded order."""
    combos = list(itertools.product(SERVICES, COMPONENTS, ENVS, range(5)))  # 12,000 subjects
    rng.shuffle(combos)
    templates = [
        lambda s, c, e: f"The {s} {c} in {e} runs in {rng.choice(REGIONS)} every {rng.randint(2, 59)} minutes",
        lambda s, c, e: f"The {s} {c} in {e} has a timeout of {rng.randint(5, 120)}s",
        lambda s, c, e: f"The {s} {c} in {e} uses {(t := rng.choice(TECH))[0]} {rng.choice(t[1])}",
        lambda s, c, e: f"{rng.choice(PEOPLE)} owns the {s} {c} runbook for {e}",
        lambda s, c, e: f"The {s} {c} in {e} retries {rng.randint(2, 9)} times before paging",
    ]
    for s, c, e, t in combos:  # one subject per (service, component, environment, attribute)
        yield (s, c, e, t), templates[t](s, c, e)


def _identifier_facts(rng: random.Random):  # type: ignore[no-untyped-def]
    for n in itertools.count(1):
        kind = n % 3
        if kind == 0:
            yield ("ticket", n), f"Ticket {100 + n} is assigned to {rng.choice(PEOPLE)}"
        elif kind == 1:
            yield ("host", n), f"{rng.choice(HOSTS)}{n} listens on port {rng.choice([8080, 8443, 9090, 5432, 6379])}"
        else:
            yield ("incident", n), f"Incident {2000 + n} affected the {rng.choice(SERVICES)} service for {rng.randint(3, 90)} minutes"


def service_facts(n: int, seed: int = 7) -> list[str]:
    """`n` facts, each about a different subject: four in five about services
    (many near-identical sentences), one in five naming a ticket, host or incident."""
    rng = random.Random(seed)
    subjects, identifiers = _subject_facts(rng), _identifier_facts(rng)
    out: list[str] = []
    seen: set[object] = set()
    while len(out) < n:
        key, text = next(identifiers) if len(out) % 5 == 4 else next(subjects, None) or next(identifiers)
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out


class Step(msgspec.Struct, frozen=True):
    at: str  # ISO-8601 occurred time
    text: str


class Scenario(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    steps: list[Step]
    question: str  # a "what is X now" question
    current: str  # a fragment only the current memory holds
    stale: str  # a fragment only the superseded memory holds
    past: str  # a date when the stale value was valid
    past_value: str  # a fragment the memory valid then holds


def week() -> list[Scenario]:
    """The scripted week (2026-03-02 .. 2026-03-08), including the issue's phrasings."""
    d = "2026-03-0{}T{:02d}:00:00Z".format
    return [
        Scenario(name="ci", steps=[Step(d(2, 9), "We use GitHub Actions for CI"),
                                   Step(d(5, 14), "Switched CI from GitHub Actions to Buildkite")],
                 question="which CI system do we use", current="Buildkite", stale="We use GitHub Actions",
                 past=d(3, 12), past_value="GitHub Actions"),
        Scenario(name="postgres", steps=[Step(d(2, 10), "We use Postgres 15 in production"),
                                         Step(d(3, 11), "We use Postgres 15 in staging and production"),
                                         Step(d(6, 16), "We use Postgres 16 in staging and production")],
                 question="which Postgres version do we use", current="Postgres 16", stale="We use Postgres 15",
                 past=d(4, 12), past_value="Postgres 15"),
        Scenario(name="timeout", steps=[Step(d(2, 11), "The API timeout is 30s"),
                                        Step(d(4, 15), "We raised the API timeout to 60s")],
                 question="what is the API timeout now", current="60s", stale="API timeout is 30s",
                 past=d(3, 12), past_value="30s"),
        Scenario(name="session-cache", steps=[Step(d(2, 12), "The session cache runs on Redis"),
                                              Step(d(6, 10), "Replaced Redis with Memcached for the session cache")],
                 question="what does the session cache run on", current="Memcached", stale="runs on Redis",
                 past=d(5, 12), past_value="Redis"),
        Scenario(name="payments-lead", steps=[Step(d(2, 13), "Dana leads the payments team"),
                                              Step(d(5, 9), "Dana no longer leads the payments team"),
                                              Step(d(5, 10), "Kenji leads the payments team from now on")],
                 question="who leads the payments team", current="Kenji", stale="Dana leads",
                 past=d(3, 12), past_value="Dana leads"),
        Scenario(name="deploys", steps=[Step(d(2, 14), "Deploys go through Jenkins"),
                                        Step(d(7, 9), "From now on deploys go through Argo CD")],
                 question="what do deploys go through", current="Argo CD", stale="Deploys go through Jenkins",
                 past=d(4, 12), past_value="Jenkins"),
        Scenario(name="backup-host", steps=[Step(d(2, 15), "The nightly backup job runs on web1"),
                                            Step(d(6, 18), "Moved the nightly backup job from web1 to web2")],
                 question="where does the nightly backup job run", current="to web2", stale="runs on web1",
                 past=d(4, 12), past_value="web1"),
        Scenario(name="release", steps=[Step(d(2, 16), "The mobile release is version 7.0"),
                                        Step(d(5, 17), "The mobile release is version 7.2")],
                 question="which version is the mobile release", current="7.2", stale="release is version 7.0",
                 past=d(3, 12), past_value="7.0"),
        Scenario(name="search-ci", steps=[Step(d(3, 9), "The search team builds on Jenkins"),
                                          Step(d(7, 11), "The search team builds on Buildkite instead of Jenkins")],
                 question="what does the search team build on", current="instead of Jenkins", stale="builds on Jenkins",
                 past=d(5, 12), past_value="builds on Jenkins"),
        Scenario(name="python", steps=[Step(d(2, 17), "The ingest pipeline runs Python 3.11"),
                                       Step(d(8, 9), "Upgraded the ingest pipeline to Python 3.12")],
                 question="which Python does the ingest pipeline run", current="3.12", stale="pipeline runs Python 3.11",
                 past=d(4, 12), past_value="3.11"),
    ]  # fmt: skip
