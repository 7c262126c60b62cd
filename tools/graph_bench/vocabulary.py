"""What the graph benchmark's histories are made of (tools/graph_bench/history.py):
people, projects and their attributes, decisions with their reasons, values
that change over time, multi-step episodes, and distractors that share the
same names and vocabulary. Templates take `{P}` (a project), `{X}` / `{Y}`
(people) and the other fields their users fill in.
"""

from __future__ import annotations

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
