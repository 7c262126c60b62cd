"""Measure the prompt-injection gate (memman/integration/inject.py) as it is:
recall's calibrated probability of relevance against `INJECT_MIN_SCORE`.

A store of 30 project memories (decisions, facts, preferences) is built and
drained with the default embedder; then two kinds of prompt go through the
real `inject()` (the code the UserPromptSubmit hook runs, with a generous
time budget so only the gate decides):

    relevant   a paraphrased question whose answer is one memory (the target)
    unrelated  prompts with nothing to do with the store (arithmetic, a
               haiku, "continue", general knowledge, other tech stacks)

Reported: relevant prompts whose target is injected (and injected first),
unrelated prompts that inject anything (false injections). INJECT_MIN_SCORE
was fitted on the recall benchmark's tuning half, not on these prompts, so
all of them are held out; the halves (even / odd cases) are shown apart to
show the spread. A sweep over other thresholds shows where the gate sits.

    .venv/bin/python tools/inject_calibration.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MEMORIES = [
    ("Chose SQLite over Postgres for the cache: zero dependencies and embeddable", "decision"),
    ("The staging deploy runs every Tuesday at 10:00 UTC", "fact"),
    ("API rate limit for the public endpoints is 600 requests per minute per key", "fact"),
    ("We use pnpm workspaces for the frontend monorepo", "decision"),
    ("The user prefers tabs over spaces in Go code", "preference"),
    ("Integration tests need the fake payment server on port 8099", "fact"),
    ("Login sessions expire after 12 hours of inactivity", "fact"),
    ("Switched from Jest to Vitest because Jest was too slow on CI", "decision"),
    ("The billing service owns the invoices table; nobody else writes to it", "decision"),
    ("Feature flags live in LaunchDarkly, project key web-main", "fact"),
    ("Logs are shipped to Loki with a 14 day retention", "fact"),
    ("The user wants commit messages in the imperative mood, under 72 characters", "preference"),
    ("Images are stored in S3 bucket acme-media-prod in eu-west-1", "fact"),
    ("The search index is rebuilt nightly at 02:00 by a cron job", "fact"),
    ("Chose gRPC for internal service calls and REST for the public API", "decision"),
    ("The mobile app supports iOS 16 and newer only", "decision"),
    ("Database migrations are written with Alembic and run in CI before deploy", "fact"),
    ("Customer emails are sent through Postmark, not SES", "decision"),
    ("The on-call rotation changes every Monday at 09:00", "fact"),
    ("Never log full credit card numbers; mask all but the last four digits", "decision"),
    ("The user dislikes emoji in code comments", "preference"),
    ("Redis is used only as a cache, never as a source of truth", "decision"),
    ("The design system components live in packages/ui", "fact"),
    ("Passwords are hashed with argon2id", "decision"),
    ("The analytics pipeline uses dbt models in the warehouse repo", "fact"),
    ("Kubernetes cluster upgrades happen in the first week of each quarter", "fact"),
    ("The user prefers pytest fixtures over unittest setUp methods", "preference"),
    ("PDF invoices are generated with WeasyPrint", "decision"),
    ("The CDN is Cloudflare with a 1 hour default cache TTL", "fact"),
    ("Webhooks are retried five times with exponential backoff", "fact"),
]
RELEVANT = [
    ("which database did we pick for the cache and why", 0),
    ("when does staging get deployed", 1),
    ("what is the rate limit on the public API", 2),
    ("how is the frontend monorepo managed, npm or pnpm", 3),
    ("how should I indent Go code", 4),
    ("the integration tests fail to connect to the payment server, what port", 5),
    ("how long until a login session expires", 6),
    ("why did we move off Jest", 7),
    ("can the orders service write to the invoices table", 8),
    ("where are feature flags configured", 9),
    ("how long do we keep logs", 10),
    ("write a commit message for this change", 11),
    ("which S3 bucket holds uploaded images", 12),
    ("when is the search index rebuilt", 13),
    ("should the new internal service use REST or gRPC", 14),
    ("what is the minimum iOS version we support", 15),
    ("how do we run database migrations", 16),
    ("which provider sends customer emails", 17),
    ("when does on-call rotate", 18),
    ("can I log the card number for debugging", 19),
]
UNRELATED = [
    "what is 17 times 23",
    "write a haiku about autumn",
    "continue",
    "thanks, that looks good",
    "explain the difference between a list and a tuple in Python",
    "what is the capital of Australia",
    "summarize the plot of Hamlet",
    "translate good morning into Spanish",
    "how do I reverse a string in JavaScript",
    "tell me a joke",
    "what does HTTP 418 mean",
    "convert 30 degrees Celsius to Fahrenheit",
    "who painted the Mona Lisa",
    "ok",
    "write a limerick about a cat",
    "what is a monad",
    "how many bytes are in a kilobyte",
    "explain big O notation briefly",
    "yes please do that",
    "what year did the Berlin wall fall",
]


def build(data_dir: Path) -> dict[int, str]:
    from memman.maintenance import drain_all
    from memman.service import Memman

    ids = {}
    with Memman(data_dir) as app:
        for i, (text, cat) in enumerate(MEMORIES):
            ids[i] = app.remember(text, category=cat).id
    drain_all(data_dir)
    return ids


def gated(data_dir: Path, prompt: str) -> list[str]:
    """The ids the hook would inject for `prompt`, in order (the real gate)."""
    from memman.integration.inject import Injected, inject

    found = inject(data_dir, None, None, prompt, limit=5, budget_ms=120_000, started=time.perf_counter())
    return found.ids if isinstance(found, Injected) else []


def scored(data_dir: Path, prompt: str) -> list[tuple[str, float]]:
    """(id, calibrated score) of every hit the gate could pass but for its threshold."""
    from memman.scope.service import Scoped

    with Scoped.at(data_dir, None, None) as scoped:
        result = scoped.recall(prompt, limit=15)
    return [(h.id, h.score) for h in result.results if h.status == "active" and h.signals.similarity is not None]


def main() -> None:
    from memman.recall import INJECT_MIN_SCORE

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        ids = build(data_dir)
        rel = [(i, ids[t], gated(data_dir, p), scored(data_dir, p)) for i, (p, t) in enumerate(RELEVANT)]
        unrel = [(i, gated(data_dir, p), scored(data_dir, p)) for i, p in enumerate(UNRELATED)]
    print(f"gate: calibrated score >= INJECT_MIN_SCORE = {INJECT_MIN_SCORE} (and embedded)")
    for name, part in (("even half", 0), ("odd half", 1), ("all", None)):
        r = [(target, got) for i, target, got, _ in rel if part is None or i % 2 == part]
        u = [got for i, got, _ in unrel if part is None or i % 2 == part]
        injected = sum(1 for target, got in r if target in got)
        first = sum(1 for target, got in r if got[:1] == [target])
        false = sum(1 for got in u if got)
        print(f"{name:9} relevant: target injected {injected}/{len(r)}, first {first}/{len(r)};"
              f" unrelated: {false}/{len(u)} inject anything"
              f" ({sum(len(got) for got in u)} memories in all)")
    missed = [RELEVANT[i][0] for i, target, got, _ in rel if target not in got]
    print(f"relevant prompts whose target is not injected: {missed}")
    print("threshold sweep (all prompts): threshold, relevant target passes, unrelated injecting anything")
    for threshold in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5):
        hit = sum(1 for _, target, _, s in rel if any(m == target and v >= threshold for m, v in s))
        false = sum(1 for _, _, s in unrel if any(v >= threshold for _, v in s))
        mark = "  <- INJECT_MIN_SCORE" if abs(threshold - INJECT_MIN_SCORE) < 1e-9 else ""
        print(f"  {threshold:5.2f}  {hit:2d}/{len(rel)}  {false:2d}/{len(unrel)}{mark}")


if __name__ == "__main__":
    main()
