"""Calibrate the prompt-injection gate (memman/integration/inject.py).

A store of 40 project memories (decisions, facts, preferences) is built and
drained with the default embedder; then three kinds of prompt are recalled:

    relevant   a paraphrased question whose answer is one memory (the target)
    unrelated  prompts with nothing to do with the store (arithmetic, a
               haiku, "continue", general knowledge, other tech stacks)

For each relevant prompt we record the target's similarity (cosine, the
signal the gate reads) and whether it ranks first among those passing; for
each unrelated prompt the best similarity of any memory. The threshold is
chosen on the tuning half (even-numbered cases: the highest unrelated
maximum plus a margin) and reported on the held-out half (odd-numbered).

    .venv/bin/python tools/inject_calibration.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
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


def similarities(data_dir: Path, prompt: str) -> list[tuple[str, float, str]]:
    from memman.service import Memman

    with Memman(data_dir) as app:
        result = app.recall(prompt, limit=30)
    return [(h.id, h.signals.similarity or 0.0, h.status) for h in result.results]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        ids = build(data_dir)
        target_ids = {i: ids[t] for i, (_, t) in enumerate(RELEVANT)}
        rel = []
        for i, (prompt, _) in enumerate(RELEVANT):
            sims = similarities(data_dir, prompt)
            target = next((s for mid, s, _ in sims if mid == target_ids[i]), 0.0)
            ranked = sorted(sims, key=lambda x: -x[1])
            rel.append((i, target, ranked[0][0] == target_ids[i] if ranked else False))
        unrel = []
        for i, prompt in enumerate(UNRELATED):
            sims = similarities(data_dir, prompt)
            unrel.append((i, max((s for _, s, _ in sims), default=0.0)))
    tune_unrel = [s for i, s in unrel if i % 2 == 0]
    threshold = round(max(tune_unrel) + 0.05, 2)
    print(f"tuning half: unrelated max similarity {max(tune_unrel):.3f}; threshold = max + 0.05 = {threshold}")
    for name, part in (("tuning", 0), ("held-out", 1)):
        r = [(s, first) for i, s, first in rel if i % 2 == part]
        u = [s for i, s in unrel if i % 2 == part]
        injected = sum(1 for s, _ in r if s >= threshold)
        first = sum(1 for s, f in r if s >= threshold and f)
        print(
            f"{name:9} relevant: {injected}/{len(r)} injected, {first}/{len(r)} with the target first"
            f" (target similarity median {statistics.median(s for s, _ in r):.3f});"
            f" unrelated: {sum(1 for s in u if s >= threshold)}/{len(u)} inject anything"
            f" (max similarity median {statistics.median(u):.3f}, max {max(u):.3f})"
        )


if __name__ == "__main__":
    main()
