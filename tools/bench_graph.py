"""Does graph expansion help recall? A benchmark on synthetic agent histories.

Each history is a deterministic (seeded) multi-session record of a small
engineering org, remembered by a user and an agent over several weeks:

- people lead, join and mentor projects; projects have a language, a
  database, a region, a CI system; people have an office and tool habits;
  these links are spread over separate memories (multi-hop questions);
- decisions whose reason is stated in a separate, earlier memory, sometimes
  repeated in the decision with a cue ("because ..."), sometimes not (why);
- values that change over time ("the rate limit is 100 rps", weeks later
  "we raised the rate limit to 500 rps") and episodes whose steps follow one
  another in one session, not all naming the episode (when);
- what we know about a person or a project: every durable (non-noise) fact
  naming it (entity); single facts asked in other words (general);
- and plenty of distractors that share the same names and vocabulary.

Every memory has a stable key (`lead:Priya`, `why:Falcon:etl:decision`,
`noise:0042`); every question is tagged with the intent it exercises and the
keys of its evidence (a key the drain superseded is left out of the score and
reported). Each history is imported (JSON Lines with `at` and
`source`) into a fresh data dir and drained; each question is recalled with
`limit=10`, with graph expansion off and on. Results map back to keys by
content (the drain may split a text into facts). Reported per intent:

    R@k   fraction of the evidence keys in a limit=k recall, out of min(|evidence|, k)
    MRR   mean of 1 / rank of the first evidence hit (0 when none in the top 10);
          WHY and WHEN results are in causal or time order, so read R@k there

`--perf` also builds a 10k-memory history and reports edge inference in the
drain, edges per memory, `graph rebuild` time and the latency graph expansion
adds to an in-process recall (targets from issue 5: <= 15 ms at 10k with ~20
edges per memory; >= 200 memories/s; rebuild of 10k <= 30 s).

    .venv/bin/python tools/bench_graph.py --quick                  # 1 small history
    .venv/bin/python tools/bench_graph.py                          # 3 histories x 60 questions
    .venv/bin/python tools/bench_graph.py --histories 5 --perf --json graph-bench.json

Progress goes to stderr; Markdown tables go to stdout. Intents are detected
by recall unless `--oracle-intent` passes each question's tagged intent.
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMMAN = ROOT / ".venv" / "bin" / "memman"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

INTENTS = ("multi-hop", "why", "when", "entity", "general")
# What to pass as `intent=` under --oracle-intent (multi-hop questions are about entities).
ORACLE = {"multi-hop": "entity", "why": "why", "when": "when", "entity": "entity", "general": "general"}
LIMIT = 10
MODES = (("off", False), ("on", True), ("default", None))  # graph= passed to recall
START = datetime(2025, 1, 6, tzinfo=timezone.utc)  # a Monday
PERF_SIZE = 10_000
TARGETS = {"added_ms": ("<=", 15.0), "edge_rate": (">=", 200.0), "rebuild_s": ("<=", 30.0)}

# ---------------------------------------------------------------- vocabulary

FIRST = """Priya Arjun Mei Kenji Sofia Lucas Amara Tomasz Ingrid Diego Fatima Hiro Leila Mateo
Nadia Oskar Rosa Sven Yara Zoe Kwame Anika Bruno Chen Dmitri Elif Farah Gustav Hana Ines Jonas
Alice Carol Erin Frank Grace Heidi Ivan Judy Olivia Peggy Rupert Sybil Trent Victor Walter Wendy
Xavier Yusuf Zainab""".split()
LAST = """Shah Tanaka Okafor Novak Silva Berg Haddad Kowalski Moreau Lindqvist Ito Mensah Rossi
Fischer Park Costa Nguyen Kaur Dubois Petrov""".split()
CODENAMES = """Falcon Orion Helios Nebula Quartz Beacon Harbor Pulse Relay Sentinel Tundra Vortex
Zephyr Cobalt Ember Juniper Kestrel Lumen Mosaic Nimbus Onyx Prism Raven Sierra Titan Umbra Atlas
Comet Drift Echo Flint Glacier Horizon Iris Jade Kite Lynx Meteor Nova Opal Pike Quill Rook Sable
Talon Vega Willow Yukon Zenith Aurora""".split()
SUFFIXES = "Prime North Blue Red Gold Iron Silver Delta".split()
LANGUAGES = ["Rust", "Go", "Kotlin", "TypeScript", "Elixir", "Scala", "Java", "Python", "C#", "Swift"]
DATABASES = ["Postgres", "ClickHouse", "DynamoDB", "Cassandra", "MongoDB", "CockroachDB", "Redis", "Snowflake"]
REGIONS = ["eu-west-1", "us-east-1", "ap-south-1", "eu-central-1", "us-west-2", "sa-east-1"]
CIS = ["GitHub Actions", "GitLab CI", "Buildkite", "CircleCI", "Jenkins", "TeamCity"]
CITIES = ["Lisbon", "Berlin", "Toronto", "Nairobi", "Bangalore", "Tokyo", "Austin", "Warsaw", "Dublin", "Seoul"]
TOOLS = ["neovim", "VS Code", "Emacs", "IntelliJ", "tmux", "ripgrep", "k9s", "Postman", "DBeaver", "Zed"]
TASKS = ["code review", "debugging", "log search", "profiling", "schema design", "writing docs", "API testing"]
ROLES = ["backend engineer", "frontend engineer", "SRE", "data engineer", "designer", "product manager"]

# (name, problem, decision, cue clause, why-question); {P} is the project.
DECISIONS = [
    ("etl", "The nightly {P} ETL kept timing out on the orders table.",
     "We moved the {P} ETL to Spark", "because the nightly job kept timing out",
     "Why did we move the {P} ETL to Spark?"),
    ("cache", "{P} page loads took over three seconds at peak traffic.",
     "We put a Redis cache in front of the {P} API", "because page loads were too slow at peak",
     "Why did we add a Redis cache to {P}?"),
    ("kafka", "{P} lost webhook events whenever the consumer restarted.",
     "We replaced the {P} webhook consumer with a Kafka queue", "because events were lost on restarts",
     "Why did {P} switch its webhooks to Kafka?"),
    ("monorepo", "Every cross-cutting change in {P} needed five coordinated pull requests.",
     "We merged the {P} repositories into a monorepo", "because cross-cutting changes needed five pull requests",
     "Why is {P} a monorepo now?"),
    ("resizer", "The {P} image resizer used four gigabytes of memory per worker.",
     "We rewrote the {P} image resizer in Rust", "because the old resizer used too much memory",
     "What was the reason for rewriting the {P} image resizer in Rust?"),
    ("freeze", "Two {P} releases in a row broke the checkout flow.",
     "We introduced a Friday release freeze for {P}", "because two releases in a row broke checkout",
     "Why do we freeze {P} releases on Fridays?"),
    ("monitoring", "The Datadog bill for {P} tripled last quarter.",
     "We moved {P} monitoring from Datadog to Prometheus and Grafana", "because the Datadog bill tripled",
     "Why did {P} leave Datadog?"),
    ("tokens", "A penetration test found that {P} session tokens never expired.",
     "{P} now rotates session tokens every 24 hours", "because the pentest found tokens that never expired",
     "Why does {P} rotate session tokens daily?"),
    ("postgres", "The {P} MySQL replica lagged by minutes during batch imports.",
     "We migrated {P} from MySQL to Postgres", "because the replica lagged during batch imports",
     "Why did {P} migrate from MySQL to Postgres?"),
    ("flaky", "Flaky integration tests blocked {P} merges several times a week.",
     "We moved the flaky {P} integration tests into a nightly job", "because they blocked merges every week",
     "Why were the {P} integration tests moved to a nightly job?"),
]

# (name, before, after, when-question, now-question); {a} and {b} are the old and new values.
CHANGES = [
    ("ratelimit", "The {P} API rate limit is {a} rps.", "We raised the {P} API rate limit to {b} rps.",
     "When did the {P} rate limit change?", "What is the {P} API rate limit now?", (100, 250), (500, 1000)),
    ("ttl", "The {P} cache TTL is {a} minutes.", "We cut the {P} cache TTL to {b} minutes.",
     "When was the {P} cache TTL changed?", "How long do {P} cache entries live?", (30, 60), (5, 10)),
    ("python", "The {P} workers run on Python 3.{a}.", "We upgraded the {P} workers to Python 3.{b}.",
     "When did the {P} workers move to a newer Python?", "Which Python version do the {P} workers use?",
     (9, 10), (12, 13)),
    ("pool", "The {P} database connection pool holds {a} connections.",
     "We doubled the {P} connection pool to {b} connections.",
     "When did we resize the {P} connection pool?", "How many connections are in the {P} pool?", (20, 25), (40, 50)),
    ("cadence", "{P} ships to production once a week.", "{P} now ships to production every day.",
     "When did {P} start shipping daily?", "How often does {P} ship to production?", (0, 0), (0, 0)),
]

# (name, steps, question, the step the question names); the steps stay in order in
# one session. A step is (text, text with the project left implicit, as later
# notes in a session often do); the named step always names it.
EPISODES = [
    ("outage", [("{P} had a two-hour outage after a bad config push.", ""),
                ("{X} rolled back the {P} config to the last good release.",
                 "{X} rolled back the config to the last good release."),
                ("We added a config schema check to the {P} deploy pipeline.",
                 "We added a config schema check to the deploy pipeline.")],
     "What happened after the {P} outage?", 0),
    ("launch", [("{X} load-tested {P} at three times peak traffic.", "{X} load-tested at three times peak traffic."),
                ("We froze the {P} database schema for the release.", "We froze the database schema for the release."),
                ("{P} launched to all customers.", "")],
     "What did we do before the {P} launch?", 2),
    ("cluster", [("We finished moving {P} to the new Kubernetes cluster.", ""),
                 ("{X} saw the {P} p99 latency drop from 800 ms to 120 ms.",
                  "{X} saw the p99 latency drop from 800 ms to 120 ms."),
                 ("We decommissioned the old {P} virtual machines.", "We decommissioned the old virtual machines.")],
     "What followed the {P} cluster move?", 0),
]

NOISE = [
    "Reviewed {X}'s pull request for {P}.",
    "Ran the {P} test suite on the {n}th build; all green.",
    "{X} is out on {day} for a dentist appointment.",
    "{X} missed standup because of a train delay.",
    "We postponed the {P} demo because the staging cluster was down.",
    "Discussed the Q{q} roadmap for {P} with {X}.",
    "The {P} dashboard now lives in Grafana folder {n}.",
    "{X} renamed the {P} Slack channel to #{p}-dev.",
    "Bumped the {P} dependencies; {n} packages changed.",
    "Read a blog post about rate limiting in Envoy.",
    "The staging ETL for {P} finished in {n} minutes today.",
    "{X} asked for shorter summaries in the {P} weekly update.",
    "Paired with {X} on a {P} bug in the billing export.",
    "The {P} on-call handoff is on {day} mornings.",
    "{X} prefers tables over bullet points in incident reports.",
    "Cleaned up {n} stale feature flags in {P}.",
    "The {P} team lunch moved to {day}.",
    "{X} shared notes from the {city} meetup on observability.",
    "Opened an issue about slow {P} cold starts.",
    "Wrote the {P} runbook section on restoring backups.",
    "{X} and {Y} will pair on the {P} onboarding flow.",
    "Our error budget for {P} is {n} percent burned this month.",
    "The design review for {P} is scheduled for {day}.",
    "{X} thinks the {P} API docs need more examples.",
    "Tried a new prompt for summarising {P} logs; it was worse.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


# ---------------------------------------------------------------- the generator


@dataclass(frozen=True)
class Memory:
    key: str
    text: str
    at: str  # ISO-8601 UTC: when it occurred
    source: str  # "user" or "agent"
    session: str


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    intent: str  # one of INTENTS: what the question exercises
    evidence: tuple[str, ...]  # keys of the memories that answer it


@dataclass
class History:
    seed: int
    memories: list[Memory]
    questions: list[Question]

    def jsonl(self) -> bytes:
        lines = (
            json.dumps({"text": m.text, "at": m.at, "source": m.source, "meta": {"session": m.session}})
            for m in self.memories
        )
        return ("\n".join(lines) + "\n").encode()


@dataclass
class _Session:
    day: int
    hour: int
    source: str
    groups: list[list[tuple[str, str]]] = field(default_factory=list)  # runs of (key, text) kept in order


class _Builder:
    """Builds one history: the world, then the memories placed into sessions
    under ordering constraints, then the candidate questions."""

    def __init__(self, seed: int, size: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.size = size
        r = self.rng
        n_people = max(8, size // 60)
        n_projects = max(6, size // 80)
        if n_people <= len(FIRST):
            self.people = r.sample(FIRST, n_people)
        else:
            self.people = r.sample([f"{f} {s}" for f in FIRST for s in LAST], n_people)
        names = list(CODENAMES) + [f"{c} {s}" for s in SUFFIXES for c in CODENAMES]
        self.projects = names[:n_projects] if n_projects > len(CODENAMES) else r.sample(CODENAMES, n_projects)
        weeks = max(8, size // 400)
        n_sessions = max(12, size // 10)
        days = sorted(r.randrange(weeks * 7) for _ in range(n_sessions))
        self.sessions = [
            _Session(day=d, hour=r.choice([9, 10, 11, 14, 15, 16]), source=r.choice(["user", "agent", "agent"]))
            for d in days
        ]
        self.texts: dict[str, str] = {}  # key -> text
        self.seen: set[str] = set()
        self.questions: list[tuple[str, str, tuple[str, ...]]] = []  # (intent, text, evidence)
        self.deck: list[tuple[str, ...]] = []

    # -- placing memories

    def _session(self, lo: float = 0.0, hi: float = 1.0) -> int:
        """A random session in the [lo, hi] fraction of the timeline."""
        last = len(self.sessions) - 1
        return self.rng.randint(int(lo * last), int(hi * last))

    def _after(self, i: int, gap: float) -> int:
        """A random session at least `gap` of the timeline after session i."""
        last = len(self.sessions) - 1
        return self.rng.randint(min(last, i + 1 + int(gap * last)), last)

    def put(self, session: int, *items: tuple[str, str]) -> None:
        for key, text in items:
            assert key not in self.texts and text not in self.seen, (key, text)
            self.texts[key] = text
            self.seen.add(text)
        self.sessions[session].groups.append(list(items))

    def ask(self, intent: str, text: str, *evidence: str) -> None:
        self.questions.append((intent, text, tuple(evidence)))

    # -- the world

    def build(self) -> None:
        r = self.rng
        leads = dict(zip(self.projects, r.sample(self.people, min(len(self.people), len(self.projects)))))
        self.leads = leads
        for p, person in leads.items():
            self.put(self._session(0, 0.5), (f"lead:{p}", f"{person} leads the {p} project."))
        for p in self.projects:
            self.put(self._session(0, 0.6), (f"lang:{p}", f"The {p} backend is written in {r.choice(LANGUAGES)}."))
            self.put(self._session(0, 0.6), (f"db:{p}", f"{p} keeps its data in {r.choice(DATABASES)}."))
            self.put(self._session(0, 0.6), (f"region:{p}", f"{p} runs in the {r.choice(REGIONS)} region."))
            self.put(self._session(0, 0.6), (f"ci:{p}", f"{p} builds on {r.choice(CIS)}."))
        for person in self.people:
            city, tool, task = r.choice(CITIES), r.choice(TOOLS), r.choice(TASKS)
            self.put(self._session(0, 0.7), (f"office:{person}", f"{person} works from the {city} office."))
            self.put(self._session(), (f"tool:{person}", f"{person} uses {tool} for {task}."))
            self.ask("general", f"What does {person} use for {task}?", f"tool:{person}")
            self.ask("general", f"Where is {person} based?", f"office:{person}")
            if person not in leads.values():
                p = r.choice(self.projects)
                self.put(self._session(), (f"joined:{person}", f"{person} joined the {p} team as a {r.choice(ROLES)}."))
        lead_of = {person: p for p, person in leads.items()}
        mentors = [x for x in self.people if x not in lead_of]
        for mentee in r.sample(sorted(lead_of), max(1, len(lead_of) // 2)):
            if not mentors:
                break
            mentor = mentors.pop(r.randrange(len(mentors)))
            self.put(self._session(), (f"mentor:{mentor}", f"{mentor} mentors {mentee}."))
            p = lead_of[mentee]
            self.ask("multi-hop", f"What language does the project of {mentor}'s mentee use?",
                     f"mentor:{mentor}", f"lead:{p}", f"lang:{p}")
        for p, person in leads.items():
            self.ask("multi-hop", f"What language is {person}'s project written in?", f"lead:{p}", f"lang:{p}")
            self.ask("multi-hop", f"Where does the project {person} leads store its data?", f"lead:{p}", f"db:{p}")
            self.ask("multi-hop", f"Which region does {person}'s project run in?", f"lead:{p}", f"region:{p}")
            self.ask("multi-hop", f"What CI system builds the project that {person} leads?", f"lead:{p}", f"ci:{p}")
            self.ask("multi-hop", f"Which office does the {p} lead work from?", f"lead:{p}", f"office:{person}")
            self.ask("general", f"Who leads {p}?", f"lead:{p}")
            self.ask("general", f"Which CI does {p} use?", f"ci:{p}")
        for p in self.projects:
            self._decisions(p)
            self._changes(p)
            self._episode(p)
        self._noise()
        for person in self.people:
            self._about(person, f"What do we know about {person}?")
        for p in r.sample(self.projects, min(len(self.projects), 4)):
            self._about(p, f"Tell me about the {p} project.")

    def _decisions(self, p: str) -> None:
        r = self.rng
        for _ in range(2):  # dealt from a shuffled deck: two projects rarely share a decision
            if not self.deck:
                self.deck = r.sample(DECISIONS, len(DECISIONS))
            name, problem, decision, cue, question = self.deck.pop()
            if f"why:{p}:{name}:reason" in self.texts:
                continue  # drawn again across a reshuffle
            i = self._session(0, 0.7)
            j = self._after(i, 0.05)
            said = f"{decision.format(P=p)} {cue}." if r.random() < 0.5 else f"{decision.format(P=p)}."
            reason = (f"why:{p}:{name}:reason", problem.format(P=p))
            if i == j:  # the last session: reason, then decision
                self.put(i, reason, (f"why:{p}:{name}:decision", said))
            else:
                self.put(i, reason)
                self.put(j, (f"why:{p}:{name}:decision", said))
            self.ask("why", question.format(P=p), f"why:{p}:{name}:decision", f"why:{p}:{name}:reason")

    def _changes(self, p: str) -> None:
        r = self.rng
        for name, before, after, when_q, now_q, old, new in r.sample(CHANGES, 2):
            a, b = r.choice(old), r.choice(new)
            i = self._session(0, 0.5)
            j = self._after(i, 0.1)
            was = (f"change:{p}:{name}:before", before.format(P=p, a=a))
            now = (f"change:{p}:{name}:after", after.format(P=p, b=b))
            if i == j:
                self.put(i, was, now)
            else:
                self.put(i, was)
                self.put(j, now)
            self.ask("when", when_q.format(P=p), f"change:{p}:{name}:before", f"change:{p}:{name}:after")
            self.ask("general", now_q.format(P=p), f"change:{p}:{name}:after")

    def _episode(self, p: str) -> None:
        r = self.rng
        name, steps, question, named = r.choice(EPISODES)
        x = r.choice(self.people)
        keys = [f"episode:{p}:{name}:{k}" for k in range(len(steps))]
        texts = []
        for k, (full, implicit) in enumerate(steps):
            text = implicit.format(X=x) if k != named and r.random() < 0.5 else ""
            texts.append(full.format(P=p, X=x) if not text or text in self.seen else text)
        self.put(self._session(0.2, 1.0), *zip(keys, texts, strict=True))
        self.ask("when", question.format(P=p), *keys)

    def _noise(self) -> None:
        r = self.rng
        n, tries = 0, 0
        while len(self.texts) < self.size and tries < self.size * 20:
            tries += 1
            x, y = r.sample(self.people, 2)
            p = r.choice(self.projects)
            text = r.choice(NOISE).format(
                X=x, Y=y, P=p, p=p.lower().replace(" ", "-"), n=r.randint(2, 99), q=r.randint(1, 4),
                day=r.choice(DAYS), city=r.choice(CITIES),
            )
            if text in self.seen:
                continue
            self.put(self._session(), (f"noise:{n:05d}", text))
            n += 1

    def _about(self, name: str, question: str) -> None:
        """Evidence: every durable fact naming it (the noise naming it is not knowledge)."""
        pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        evidence = [k for k, t in self.texts.items() if pattern.search(t) and not k.startswith("noise:")]
        self.ask("entity", question, *evidence)

    # -- output

    def history(self, questions: int) -> History:
        r = self.rng
        memories: list[Memory] = []
        for number, s in enumerate(self.sessions):
            r.shuffle(s.groups)
            at = START + timedelta(days=s.day, hours=s.hour)
            for group in s.groups:
                for key, text in group:
                    at += timedelta(minutes=r.randint(2, 12))
                    memories.append(Memory(key, text, at.strftime("%Y-%m-%dT%H:%M:%SZ"), s.source, f"s{number:04d}"))
        memories.sort(key=lambda m: m.at)  # sessions on one day may overlap; the log is in time order
        by_intent: dict[str, list[tuple[str, str, tuple[str, ...]]]] = defaultdict(list)
        for q in self.questions:
            by_intent[q[0]].append(q)
        quota, chosen = questions // len(INTENTS), []
        for intent in INTENTS:
            pool = by_intent[intent]
            chosen += r.sample(pool, min(quota, len(pool)))
        rest = [q for q in self.questions if q not in chosen]
        chosen += r.sample(rest, min(len(rest), questions - len(chosen)))
        chosen.sort(key=lambda q: (INTENTS.index(q[0]), q[1]))
        return History(
            seed=self.seed,
            memories=memories,
            questions=[Question(f"{self.seed}-q{i:03d}", t, intent, ev) for i, (intent, t, ev) in enumerate(chosen)],
        )


def generate(seed: int, *, size: int = 500, questions: int = 60) -> History:
    """The history for `seed`: about `size` memories and `questions` questions."""
    builder = _Builder(seed, size)
    builder.build()
    return builder.history(questions)


# ---------------------------------------------------------------- evaluation


def _normal(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?;: ")


class KeyMap:
    """Memory ids -> history keys, by content: exact, or contained in one
    remembered text (a fact split off it by the drain)."""

    def __init__(self, history: History) -> None:
        self.exact = {_normal(m.text): m.key for m in history.memories}
        self.texts = [(_normal(m.text), m.key) for m in history.memories]
        self.by_id: dict[str, str | None] = {}

    def load(self, conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
        """Map every memory row; returns key -> status of its memory."""
        status: dict[str, str] = {}
        for memory_id, content, st in conn.execute("SELECT id, content, status FROM memories"):
            key = self.key(memory_id, content)
            if key is not None and status.get(key) != "active":
                status[key] = st
        return status

    def key(self, memory_id: str, content: str) -> str | None:
        if memory_id not in self.by_id:
            c = _normal(content)
            key = self.exact.get(c)
            if key is None:
                key = next((k for t, k in self.texts if c and c in t), None)
            self.by_id[memory_id] = key
        return self.by_id[memory_id]


def _recall_api():  # type: ignore[no-untyped-def]
    from memman.service import Memman

    params = inspect.signature(Memman.recall).parameters
    return "graph" in params, "intent" in params


def recall_keys(  # type: ignore[no-untyped-def]
    app, keymap: KeyMap, text: str, *, graph: bool | None, intent: str | None, has_graph: bool, has_intent: bool,
    limit: int = LIMIT,
):
    """(ranked distinct keys, the result's meta, wall ms) of one recall;
    graph=None leaves expansion to recall's per-intent default."""
    kwargs: dict[str, object] = {"limit": limit}
    if has_graph and graph is not None:
        kwargs["graph"] = graph
    if has_intent and intent is not None:
        kwargs["intent"] = intent
    started = time.perf_counter()
    result = app.recall(text, **kwargs)
    ms = (time.perf_counter() - started) * 1000
    keys: list[str] = []
    for hit in result.results:
        k = keymap.key(hit.id, hit.content)
        if k is not None and k not in keys:
            keys.append(k)
        elif k is None:
            keys.append(f"?{hit.id}")
    return keys, result.meta, ms


def score(keys: list[str], evidence: tuple[str, ...], top5: list[str] | None = None) -> dict[str, float]:
    """R@5 (from `top5`, the keys of a limit=5 recall, when given), R@10 and RR."""
    ev = set(evidence)
    five = keys[:5] if top5 is None else top5
    out = {f"r@{k}": len(ev & set(got)) / min(len(ev), k) for k, got in ((5, five), (10, keys))}
    first = next((i for i, key in enumerate(keys[:LIMIT], start=1) if key in ev), None)
    out["rr"] = 0.0 if first is None else 1.0 / first
    return out


@contextmanager
def timing(owner: object, method: str, spent: list[float]) -> Iterator[None]:
    """Add the wall time of every call of `owner.method` to spent[0] (in-process only)."""
    original = getattr(owner, method)

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    setattr(owner, method, timed)
    try:
        yield
    finally:
        setattr(owner, method, original)


def load(history: History, data_dir: Path, edge_time: list[float] | None = None, progress=None):  # type: ignore[no-untyped-def]
    """Import and drain a history into a fresh store; (app, keymap, drain seconds).
    With `edge_time`, the time spent inferring edges in the drain is added to it."""
    from memman.operations.maintenance import drain_all
    from memman.service import Memman
    from memman.operations.transfer import import_jsonl

    app = Memman(data_dir, "default")
    import_jsonl(app, io.BytesIO(history.jsonl()))
    app.close()
    with ExitStack() as stack:
        if edge_time is not None:
            try:
                from workers.stages.edges import EdgeInferer

                stack.enter_context(timing(EdgeInferer, "infer", edge_time))
            except ImportError:
                pass
        started = time.perf_counter()
        drain_all(data_dir, progress=progress)
        drained = time.perf_counter() - started
    app = Memman(data_dir, "default")
    keymap = KeyMap(history)
    return app, keymap, drained


def evaluate(history: History, data_dir: Path, *, oracle: bool, log) -> dict:  # type: ignore[no-untyped-def]
    has_graph, has_intent = _recall_api()
    app, keymap, drained = load(history, data_dir)
    try:
        status = keymap.load(app.fresh().main.conn)
        hidden = sorted({k for q in history.questions for k in q.evidence if status.get(k) != "active"})
        if hidden:
            log(f"  {len(hidden)} evidence keys not active after the drain: {hidden[:5]}")
        rows = []
        for q in history.questions:
            # A superseded memory cannot be recalled: score the evidence that is still there.
            evidence = tuple(k for k in q.evidence if status.get(k) == "active")
            if not evidence:
                continue
            intent = ORACLE[q.intent] if oracle else None
            row: dict[str, object] = {"qid": q.qid, "question": q.text, "intent": q.intent, "evidence": list(evidence)}
            for mode, graph in MODES:
                keys, meta, ms = recall_keys(
                    app, keymap, q.text, graph=graph, intent=intent, has_graph=has_graph, has_intent=has_intent
                )
                # WHY and WHEN results come back in causal or time order, not by score: the
                # top 5 of a limit-10 list is not what limit=5 returns, so ask for it.
                top5, _, _ = recall_keys(
                    app, keymap, q.text, graph=graph, intent=intent, has_graph=has_graph, has_intent=has_intent, limit=5
                )
                row[mode] = {
                    **score(keys, evidence, top5),
                    "top": keys,
                    "detected": getattr(meta, "intent", None),
                    "graph": getattr(meta, "graph", None),
                    "ordering": getattr(meta, "ordering", None),
                    "ms": round(ms, 2),
                }
            row["reach"] = reach(app, keymap, q.text, evidence, intent, has_graph, has_intent)
            rows.append(row)
        edges = dict(app.fresh().main.conn.execute("SELECT edge_type, count(*) FROM edges GROUP BY edge_type").fetchall())
    finally:
        app.close()
    return {
        "seed": history.seed,
        "memories": len(history.memories),
        "drain_s": round(drained, 3),
        "edges": edges,
        "hidden_evidence": hidden,
        "graph_api": has_graph,
        "intent_api": has_intent,
        "questions": rows,
    }


def reach(app, keymap: KeyMap, text: str, evidence: tuple[str, ...], intent, has_graph: bool, has_intent: bool):  # type: ignore[no-untyped-def]
    """Where the graph puts evidence the anchors miss: in a limit-50 recall with
    graph on, the evidence hits that came only through the graph (`via` set),
    and their best rank (None when there is none)."""
    if not has_graph:
        return {"via_graph": 0, "best_rank": None}
    kwargs: dict[str, object] = {"limit": 50, "graph": True}
    if has_intent and intent is not None:
        kwargs["intent"] = intent
    result = app.recall(text, **kwargs)
    ranks = [
        rank for rank, hit in enumerate(result.results, start=1)
        if getattr(hit.signals, "via", None) and keymap.key(hit.id, hit.content) in evidence
    ]
    return {"via_graph": len(ranks), "best_rank": min(ranks) if ranks else None}


def reach_markdown(rows: list[dict]) -> str:
    lines = [
        "| intent | questions with evidence reached only via the graph (top 50) | their best rank, median |",
        "|---|---:|---:|",
    ]
    for intent in INTENTS:
        sel = [r for r in rows if r["intent"] == intent]
        hit = [r["reach"]["best_rank"] for r in sel if r["reach"]["via_graph"]]
        med = f"{statistics.median(hit):g}" if hit else "-"
        lines.append(f"| {intent} | {len(hit)}/{len(sel)} | {med} |")
    return "\n".join(lines)


def summarise(rows: list[dict]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for intent in (*INTENTS, "all"):
        sel = [r for r in rows if intent in ("all", r["intent"])]
        if not sel:
            continue
        cell: dict[str, float] = {"n": len(sel)}
        for mode, _ in MODES:
            if mode not in sel[0]:
                continue
            for metric in ("r@5", "r@10", "rr"):
                cell[f"{metric} {mode}"] = round(statistics.fmean(r[mode][metric] for r in sel), 3)
        table[intent] = cell
    return table


def markdown(table: dict[str, dict[str, float]]) -> str:
    lines = [
        "| intent | n | R@5 off | R@5 on | Δ R@5 | R@10 off | R@10 on | Δ R@10 | MRR off | MRR on"
        " | R@10 default |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for intent, c in table.items():
        d5, d10 = c["r@5 on"] - c["r@5 off"], c["r@10 on"] - c["r@10 off"]
        lines.append(
            f"| {intent} | {c['n']} | {c['r@5 off']:.3f} | {c['r@5 on']:.3f} | {d5:+.3f} | {c['r@10 off']:.3f}"
            f" | {c['r@10 on']:.3f} | {d10:+.3f} | {c['rr off']:.3f} | {c['rr on']:.3f} | {c.get('r@10 default', float('nan')):.3f} |"
        )
    return "\n".join(lines)


def detection(rows: list[dict]) -> str:
    """How recall classified each kind of question, and how often its default
    (graph=None) expanded the graph."""
    counts: dict[str, Counter] = defaultdict(Counter)
    expanded: Counter = Counter()
    for r in rows:
        counts[r["intent"]][str(r["default"]["detected"])] += 1
        expanded[r["intent"]] += bool(r["default"]["graph"])
    found = sorted({d for c in counts.values() for d in c})
    lines = [
        "| question kind | " + " | ".join(f"detected {d}" for d in found) + " | graph on by default |",
        "|---|" + "---:|" * (len(found) + 1),
    ]
    for intent in INTENTS:
        if intent in counts:
            cells = [str(counts[intent][d]) for d in found] + [f"{expanded[intent]}/{sum(counts[intent].values())}"]
            lines.append(f"| {intent} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- performance


def perf(tmp: Path, *, seed: int, questions: int, runs: int, log) -> dict:  # type: ignore[no-untyped-def]
    from memman.operations.maintenance import status

    has_graph, has_intent = _recall_api()
    log(f"perf: generating {PERF_SIZE} memories")
    history = generate(seed, size=PERF_SIZE, questions=questions)
    data_dir = tmp / "perf"
    edge_time = [0.0]
    marks: list[tuple[int, float, float]] = []  # (inputs done, drain seconds, edge seconds) per chunk
    started = time.perf_counter()

    def progress(store: str, done: int, total: int) -> None:
        marks.append((done, time.perf_counter() - started, edge_time[0]))
        if done % 1000 < 100:
            log(f"perf: drained {done}/{total}")

    app, keymap, drained = load(history, data_dir, edge_time, progress)
    out: dict[str, object] = {"memories_generated": len(history.memories), "drain_s": round(drained, 2)}
    try:
        st = status(app)
        active = st.by_status.get("active", 0)
        conn = app.fresh().main.conn
        out.update(
            active=active,
            edges=st.edges,
            edges_per_memory=round(st.edges / max(active, 1), 2),
            edges_by_type=dict(conn.execute("SELECT edge_type, count(*) FROM edges GROUP BY edge_type").fetchall()),
            drain_rate=round(len(history.memories) / drained, 1),
        )
        spent = edge_time[0]  # EdgeInferer.infer, timed in-process during the drain
        if len(marks) > 20:  # does inferring edges slow down as the store grows?
            (n0, _, e0), (n1, _, e1) = marks[9], marks[-11]
            out["edge_ms_first_1k"] = round(e0 / n0 * 1000, 2)
            out["edge_ms_last_1k"] = round((marks[-1][2] - e1) / (marks[-1][0] - n1) * 1000, 2)
        out["edge_stage_s"] = round(spent, 2)
        out["edge_rate"] = round(len(history.memories) / spent, 1) if spent > 0 else None
        log(f"perf: drained {len(history.memories)} in {drained:.1f}s, {st.edges} edges")
        keymap.load(conn)
        offs, ons, deltas, rows = [], [], [], []
        for q in history.questions:  # warm caches (vectors, embedder, graph) once
            recall_keys(app, keymap, q.text, graph=True, intent=None, has_graph=has_graph, has_intent=has_intent)
            break
        for q in history.questions:
            off_ms, on_ms = [], []
            for _ in range(runs):
                _, _, a = recall_keys(app, keymap, q.text, graph=False, intent=None, has_graph=has_graph, has_intent=has_intent)
                _, _, b = recall_keys(app, keymap, q.text, graph=True, intent=None, has_graph=has_graph, has_intent=has_intent)
                off_ms.append(a)
                on_ms.append(b)
            offs.append(statistics.median(off_ms))
            ons.append(statistics.median(on_ms))
            deltas.append(ons[-1] - offs[-1])
            row: dict[str, object] = {"intent": q.intent}
            for mode, graph in MODES:  # untimed: the keys of limit=10 and limit=5 recalls
                ten, _, _ = recall_keys(app, keymap, q.text, graph=graph, intent=None, has_graph=has_graph, has_intent=has_intent)
                five, _, _ = recall_keys(app, keymap, q.text, graph=graph, intent=None, has_graph=has_graph, has_intent=has_intent, limit=5)
                row[mode] = score(ten, q.evidence, five)
            rows.append(row)
        deltas.sort()
        out.update(
            recall_off_ms=round(statistics.median(offs), 2),
            recall_on_ms=round(statistics.median(ons), 2),
            added_ms=round(statistics.median(deltas), 2),
            added_ms_p90=round(deltas[int(0.9 * (len(deltas) - 1))], 2),
            quality_10k=summarise(rows),
        )
    finally:
        app.close()
    out["rebuild_s"] = rebuild(data_dir, log)
    return out


def rebuild(data_dir: Path, log) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds for `memman graph rebuild`, or None when the command does not exist."""
    help_text = subprocess.run([str(MEMMAN), "graph", "--help"], capture_output=True, text=True).stdout
    if not re.search(r"^\s+rebuild\b", help_text, re.M):
        log("perf: no 'graph rebuild' command yet")
        return None
    started = time.perf_counter()
    done = subprocess.run(
        [str(MEMMAN), "--data-dir", str(data_dir), "graph", "rebuild"], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        log(f"perf: graph rebuild failed: {done.stderr.strip()[:300]}")
        return None
    return round(seconds, 2)


def perf_markdown(p: dict) -> str:
    def verdict(name: str, value: float | None) -> str:
        if value is None:
            return "n/a"
        op, bound = TARGETS[name]
        ok = value <= bound if op == "<=" else value >= bound
        return f"{'met' if ok else 'MISSED'} ({op} {bound:g})"

    rows = [
        ("active memories", p["active"], ""),
        ("edges (by type)", f"{p['edges']} ({', '.join(f'{k} {v}' for k, v in sorted(p['edges_by_type'].items()))})", ""),
        ("edges per memory", p["edges_per_memory"], ""),
        ("whole drain", f"{p['drain_s']} s, {p['drain_rate']} memories/s", ""),
        ("edge stage in the drain", f"{p['edge_stage_s']} s, {p['edge_rate']} memories/s" if p["edge_rate"] else "n/a",
         verdict("edge_rate", p["edge_rate"] or p["drain_rate"])),
        ("edge inference per input, first 1k / last 1k",
         f"{p.get('edge_ms_first_1k')} ms / {p.get('edge_ms_last_1k')} ms", ""),
        ("`graph rebuild`", f"{p['rebuild_s']} s" if p["rebuild_s"] is not None else "no such command",
         verdict("rebuild_s", p["rebuild_s"])),
        ("recall, graph off (median)", f"{p['recall_off_ms']} ms", ""),
        ("recall, graph on (median)", f"{p['recall_on_ms']} ms", ""),
        ("added by graph expansion", f"{p['added_ms']} ms median, {p['added_ms_p90']} ms p90",
         verdict("added_ms", p["added_ms"])),
    ]
    return "\n".join(["| at 10k | value | target |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)])


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--histories", type=int, default=3, help="histories to generate and evaluate; 0 with --perf [3]")
    parser.add_argument("--seeds", type=int, default=1, help="seed of the first history; the next ones follow [1]")
    parser.add_argument("--questions", type=int, default=60, help="questions per history [60]")
    parser.add_argument("--memories", type=int, default=500, help="memories per history [500]")
    parser.add_argument("--quick", action="store_true", help="one history of 200 memories and 30 questions")
    parser.add_argument("--oracle-intent", action="store_true", help="pass each question's tagged intent to recall")
    parser.add_argument("--perf", action="store_true", help=f"also measure speed on a {PERF_SIZE}-memory store")
    parser.add_argument("--perf-runs", type=int, default=5, help="timed recalls per question and mode [5]")
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="write every number as JSON")
    parser.add_argument("--keep", metavar="DIR", help="build stores under DIR and keep them")
    args = parser.parse_args(argv)
    if args.quick:
        args.histories, args.memories, args.questions = 1, 200, 30

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    has_graph, has_intent = _recall_api()
    if not has_graph:
        log("recall has no graph= parameter yet: 'on' and 'off' are the same recall")
    tmp_ctx = tempfile.TemporaryDirectory(prefix="memman-graph-bench-") if not args.keep else None
    tmp = Path(args.keep) if args.keep else Path(tmp_ctx.name)  # type: ignore[union-attr]
    report: dict[str, object] = {
        "command": " ".join(["tools/bench_graph.py", *(argv if argv is not None else sys.argv[1:])]),
        "graph_api": has_graph,
        "intent_api": has_intent,
        "oracle_intent": args.oracle_intent,
        "histories": [],
    }
    rows: list[dict] = []
    try:
        for i in range(args.histories):
            seed = args.seeds + i
            history = generate(seed, size=args.memories, questions=args.questions)
            log(f"history {i + 1}/{args.histories} (seed {seed}): {len(history.memories)} memories,"
                f" {len(history.questions)} questions")
            result = evaluate(history, tmp / f"h{seed}", oracle=args.oracle_intent, log=log)
            log(f"  drained in {result['drain_s']} s; edges {result['edges']}")
            report["histories"].append(result)  # type: ignore[union-attr]
            rows += result["questions"]
        if rows:
            table = summarise(rows)
            report["summary"] = table
            print(f"### Recall of the evidence, graph expansion off vs on ({len(rows)} questions,"
                  f" {args.histories} histories of ~{args.memories} memories)\n")
            print(markdown(table))
            print("\n### Detected intent per question kind, and recall's default\n")
            print(detection(rows))
            print("\n### Evidence the graph reaches but the anchors miss\n")
            print(reach_markdown(rows))
        if args.perf:
            p = perf(tmp, seed=10_000 + args.seeds, questions=60, runs=args.perf_runs, log=log)
            report["perf"] = p
            print(f"\n### Performance at {PERF_SIZE} memories\n")
            print(perf_markdown(p))
            print(f"\nRecall of the evidence at {PERF_SIZE} memories (60 questions):\n")
            print(markdown(p["quality_10k"]))  # type: ignore[arg-type]
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
