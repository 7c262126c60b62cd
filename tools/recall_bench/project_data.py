"""What an agent's project history holds: decisions with their reasons,
values that change over time, preferences, conventions, bugs and their fixes,
who owns what. Same shape as conversation_data.EVENTS; {S} is a service, {P}
a teammate, {Q} another teammate."""

from __future__ import annotations

from typing import Any

TEAM = """Priya Arjun Mei Kenji Sofia Lucas Amara Tomasz Ingrid Diego Fatima Hiro Leila Mateo Nadia Oskar Rosa Sven
Yusuf Zainab""".split()
SERVICES = """billing search auth notifications ingest reporting checkout payments gateway scheduler exports
catalog inventory ledger""".split()
PROJECTS = "Falcon Orion Helios Nebula Quartz Beacon Harbor Pulse Relay Sentinel Tundra Vortex".split()

Event = dict[str, Any]

DECISIONS: list[Event] = [
    {"name": "queue", "slots": {},
     "parts": {"a": ["The {S} RabbitMQ queue dropped messages during every deploy.", "Lost {S} events again when the RabbitMQ consumer restarted."],
               "b": ["Decision: replace RabbitMQ with Kafka for {S} events.", "We're moving the {S} event stream onto Kafka."]},
     "questions": [("multi-hop", "cause-effect", ["Why did {S} switch to Kafka?", "What problem made us change the {S} message broker?"], ["a", "b"]),
                   ("single", "fact", ["Which message broker does {S} use now?", "What carries {S}'s events these days?"], ["b"])]},
    {"name": "cache", "slots": {},
     "parts": {"a": ["{S} p95 latency hit 2.5 seconds under peak load.", "{S} pages take forever at lunchtime peak, p95 over two seconds."],
               "b": ["Added a Redis cache in front of the {S} API.", "Put Redis in front of {S} to absorb the reads."]},
     "questions": [("multi-hop", "cause-effect", ["Why is there a Redis layer in front of {S}?", "What prompted caching for {S}?"], ["a", "b"])]},
    {"name": "db", "slots": {},
     "parts": {"a": ["{S} needs transactions spanning several tables and the document store can't do that.",
                     "MongoDB keeps giving us inconsistent {S} records after partial writes."],
               "b": ["We're migrating {S} from MongoDB to PostgreSQL.", "Decided to move {S} onto Postgres."]},
     "questions": [("multi-hop", "cause-effect", ["Why did we choose PostgreSQL for {S}?", "What drove the {S} database migration?"], ["a", "b"]),
                   ("single", "fact", ["Which database does {S} store its data in?", "Where does {S} persist its records?"], ["b"])]},
    {"name": "lang", "slots": {},
     "parts": {"a": ["The Python {S} workers use three gigabytes of memory each.", "{S} workers keep getting OOM-killed, Python is too heavy there."],
               "b": ["Rewriting the {S} workers in Go.", "The {S} worker rewrite in Go starts this sprint."]},
     "questions": [("multi-hop", "cause-effect", ["Why are the {S} workers being rewritten in Go?", "Why did we abandon Python for {S}'s background jobs?"], ["a", "b"])]},
    {"name": "k8s", "slots": {},
     "parts": {"a": ["Deploying {S} by hand over SSH takes an hour and breaks half the time.", "Manual {S} deploys failed twice this week."],
               "b": ["{S} now deploys to Kubernetes through Helm charts.", "Moved {S} onto the k8s cluster."]},
     "questions": [("multi-hop", "cause-effect", ["Why did {S} move to Kubernetes?", "What made us containerise {S}?"], ["a", "b"])]},
    {"name": "freeze", "slots": {},
     "parts": {"a": ["Two Friday releases of {S} in a row broke checkout.", "The Friday {S} deploy took down production over the weekend again."],
               "b": ["No {S} deploys on Fridays from now on.", "New rule: {S} releases freeze every Friday."]},
     "questions": [("multi-hop", "cause-effect", ["Why can't we ship {S} on Fridays?", "Why is there a weekly release freeze for {S}?"], ["a", "b"]),
                   ("inference", "convention", ["Can I release {S} this Friday afternoon?", "Is it fine to push a {S} update at the end of the week?"], ["b"])]},
    {"name": "monitoring", "slots": {},
     "parts": {"a": ["The Datadog bill for {S} tripled last quarter.", "{S} observability costs are out of control on Datadog."],
               "b": ["{S} monitoring moves from Datadog to Prometheus and Grafana.", "We dropped Datadog for {S}, Grafana dashboards instead."]},
     "questions": [("multi-hop", "cause-effect", ["Why did {S} leave Datadog?", "What made us change {S}'s monitoring vendor?"], ["a", "b"])]},
    {"name": "tokens", "slots": {},
     "parts": {"a": ["The pentest found that {S} session tokens never expire.", "Security review: {S} tokens live forever, that's a finding."],
               "b": ["{S} now rotates session tokens every 24 hours.", "Token lifetime for {S} is capped at one day."]},
     "questions": [("multi-hop", "cause-effect", ["Why does {S} rotate its tokens daily?", "What security issue led to shorter {S} sessions?"], ["a", "b"])]},
]

CHANGES: list[Event] = [
    {"name": "ratelimit", "slots": {"v1": ["100", "200", "250"], "v2": ["500", "800", "1000"]},
     "parts": {"a": ["The {S} API rate limit is {v1} requests per second.", "{S} is throttled at {v1} rps per client."],
               "b": ["Raised the {S} rate limit to {v2} rps after the load test.", "{S} throttling bumped up to {v2} requests a second."]},
     "topic": ["the {S} rate limit", "the {S} request quota"]},
    {"name": "timeout", "slots": {"v1": ["30", "45", "60"], "v2": ["5", "10", "15"]},
     "parts": {"a": ["The {S} upstream timeout is {v1} seconds.", "{S} waits {v1}s for upstream calls before giving up."],
               "b": ["Cut the {S} upstream timeout to {v2} seconds.", "{S} now gives up on upstreams after {v2}s."]},
     "topic": ["the {S} upstream timeout", "the {S} deadline for upstream calls"]},
    {"name": "replicas", "slots": {"v1": ["2", "3", "4"], "v2": ["8", "12", "16"]},
     "parts": {"a": ["{S} runs {v1} replicas in production.", "Production {S} is {v1} pods."],
               "b": ["Scaled {S} out to {v2} replicas.", "{S} production is now {v2} pods after the traffic spike."]},
     "topic": ["the {S} replica count", "the size of the {S} production deployment"]},
    {"name": "python", "slots": {"v1": ["3.9", "3.10"], "v2": ["3.12", "3.13"]},
     "parts": {"a": ["The {S} service runs on Python {v1}.", "{S} is pinned to Python {v1}."],
               "b": ["Upgraded {S} to Python {v2}.", "{S} moved to Python {v2} today."]},
     "topic": ["the {S} Python version", "the {S} interpreter release"]},
    {"name": "oncall", "slots": {},
     "parts": {"a": ["{P} is the on-call owner for {S}.", "Pages for {S} go to {P}."],
               "b": ["{Q} took over {S} on-call from {P}.", "{S} pager duty is {Q}'s now."]},
     "topic": ["the {S} on-call owner", "the person paged for {S} incidents"]},
]

OTHERS: list[Event] = [
    {"name": "bug", "slots": {"bg": [
        {"bug": "{S} crashes when the uploaded CSV is empty.", "fix": "Fixed the empty-CSV crash in {S} by checking for a header row first.",
         "bq": "How did we fix the crash on blank uploads in {S}?", "bs": "What went wrong in {S} with files that have no rows?"},
        {"bug": "{S} double-charges customers when the retry fires after a timeout.", "fix": "{S} retries now carry an idempotency key, no more double charges.",
         "bq": "How did we stop {S} from billing people twice?", "bs": "What was the duplicate payment problem in {S}?"},
        {"bug": "{S} shows yesterday's numbers because the cache never invalidates.", "fix": "{S} now purges its cache on every write.",
         "bq": "How was the stale data issue in {S} resolved?", "bs": "Why did {S} display outdated figures?"},
        {"bug": "{S} leaks file handles until the process hits ulimit.", "fix": "Closed the leaking handles in {S} with a context manager.",
         "bq": "How did we stop {S} running out of descriptors?", "bs": "What resource problem did {S} have?"},
        {"bug": "Timezones in {S} reports are off by one hour after DST.", "fix": "{S} reports are computed in UTC now and converted at render time.",
         "bq": "How did we fix the daylight-saving error in {S}?", "bs": "What was wrong with times in {S} around the clock change?"},
    ]},
     "parts": {"a": ["Bug: {bug}", "Found a bug: {bug}"], "b": ["{fix}"]},
     "questions": [("multi-hop", "same-session", ["{bq}"], ["a", "b"]), ("single", "fact", ["{bs}"], ["a"]),
                   ("temporal", "when", ["When did we fix the {S} bug?", "When was the {S} defect resolved?"], ["b"])]},
    {"name": "owner", "slots": {"lang": ["Rust", "Go", "Kotlin", "TypeScript", "Elixir", "Java"]},
     "parts": {"a": ["{P} owns the {S} service now.", "{P} is the tech lead for {S}."], "b": ["{S} is written in {lang}.", "The {S} codebase is {lang}."]},
     "later": ["b"],
     "questions": [("multi-hop", "same-entity", ["What language is the service {P} leads written in?", "Which programming language does {P}'s service use?"], ["a", "b"]),
                   ("single", "fact", ["Who owns {S}?", "Who is responsible for {S}?"], ["a"])]},
    {"name": "pref", "slots": {"pf": [
        {"pref": "{P} prefers squash merges over merge commits.", "pq": "Should I merge {P}'s pull request with a merge commit?"},
        {"pref": "{P} wants review comments as numbered lists, not prose.", "pq": "How should I format feedback for {P}?"},
        {"pref": "{P} prefers tabs for indentation in shell scripts.", "pq": "What whitespace style should a bash script for {P} use?"},
        {"pref": "{P} likes short answers without bullet points.", "pq": "How long should a reply to {P} be?"},
        {"pref": "{P} hates meetings before 10am.", "pq": "Is 8:30 a good time to schedule a call with {P}?"},
        {"pref": "{P} prefers pytest fixtures over unittest setUp methods.", "pq": "How should test setup look in code {P} reviews?"},
    ]}, "parts": {"a": ["{pref}"]},
     "questions": [("inference", "preference", ["{pq}"], ["a"])]},
    {"name": "convention", "slots": {"cv": [
        {"conv": "Convention: database migrations live in db/migrations, one file per change, named by date.", "cq": "Where do I put a new schema change?"},
        {"conv": "Convention: every API error returns JSON with an error code field.", "cq": "What should an endpoint send back when a request fails?"},
        {"conv": "Convention: feature flags are removed within two sprints after launch.", "cq": "How long may a toggle stay in the code once a feature is live?"},
        {"conv": "Convention: main is protected, all changes go through pull requests.", "cq": "Can I commit straight to the primary branch?"},
        {"conv": "Convention: secrets live in Vault, never in environment files.", "cq": "Where should I store the new API key?"},
        {"conv": "Convention: log lines are structured JSON with a request id.", "cq": "What format should new logging use?"},
    ]}, "parts": {"a": ["{conv}"]},
     "questions": [("inference", "convention", ["{cq}"], ["a"])]},
]

# Routine notes: most of a store. Numbers, services and names vary, so hardly
# two are the same text (the drain would deduplicate a repeated one).
FILLERS = [
    "Ran the {S} test suite: all green ({n} tests).", "Opened PR #{n} for {S}.", "{P} reviewed PR #{n}.",
    "Deployed {S} build {n} to staging.", "Standup: {P} is on {S} today, {Q} on reviews.", "Synced with {P} about {S} ticket {n}.",
    "Lint fixes in {S}, {n} files touched.", "Rebased the {S} branch on main, {n} commits.", "Bumped {S} dependencies, {n} packages changed.",
    "{P}: thanks for the review on #{n}!", "{P}: looks good to me, merging #{n}.", "{P} is out sick today, {Q} covers {S}.",
    "{P}: sounds good, I'll pick up {S}-{n}.", "Merged PR #{n} into {S}.", "{P} asked for a status update on {S}-{n}.",
    "CI took {n} minutes on the {S} pipeline today.", "{P}: ok, will do after lunch.", "Retro notes shared with {P} and {Q}.",
    "{P} and {Q} paired on {S} for {n} minutes.", "Closed ticket {S}-{n}.", "{P}: nice work on #{n}!", "Updated the {S} README section {n}.",
    "Sprint {n} planning with {P} and {Q}.", "{P}: +1 on #{n}", "Re-ran the flaky {S} job {n}, passed.", "{P} is on holiday until Monday, ask {Q}.",
    "Demo of {S} went fine, {n} people joined.", "{P}: agreed, let's keep {S} as is for now.", "{Q} shared a draft doc on {S} naming.",
    "Triaged {n} new {S} issues with {P}.", "{P}: can someone look at {S}-{n}?", "Cleaned up {n} stale branches in {S}.",
]
