"""An honest quality comparison of memman's embedders on a retrieval set
written for it (see PAIRS below), and the command that prints the README table:

    .venv/bin/python tools/eval_embedders.py [--onnx-model DIR] [--json]

Every query is a paraphrase that shares no content word with its memory (the
script checks and drops any pair that does), among distractors. Reported per
method: hit@10 (the memory is in the top 10) and MRR (mean of 1/rank, 0 when
absent from the top 10).

    fts5            memman recall --basic: keyword (bm25) + recency
    static          vector ranking alone with the shipped static model
    hybrid          memman recall: keyword + static vectors + recency + graph
    onnx            vector ranking alone with the ONNX MiniLM (if the model is built)
    hybrid+onnx     memman recall on a store bound to the onnx embedder

By construction keyword search can hardly win here: the set measures what
embeddings add on paraphrases, not recall in general.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
PAIRS = [
    ("We chose SQLite because it needs no separate server process", "which embedded database did we pick and why"),
    ("Alice prefers tabs over spaces for indentation", "what whitespace style does she like in code"),
    ("The cache entries expire after five minutes", "how long until stored results go stale"),
    ("Deployments to production happen on Tuesday mornings", "when do we ship releases live"),
    ("The staging database is hosted in Frankfurt", "where is the test environment's data kept geographically"),
    ("Bob is allergic to peanuts", "what food can he not eat"),
    ("The quarterly revenue grew by twelve percent", "how much did sales increase this period"),
    ("Our team meets every Monday at nine", "when is the weekly standup"),
    ("The car needs new brake pads", "what repair does the vehicle require"),
    ("My flight to Tokyo leaves at 6 pm on Friday", "when does the plane to Japan depart"),
    ("The API rate limit is one hundred requests per minute", "how many calls can a client make before being throttled"),
    ("Carol leads the search infrastructure group", "who manages the team behind query indexing"),
    ("We migrated the frontend from Angular to React", "which UI framework replaced the old one"),
    ("The office Wi-Fi password changes every month", "how often is the wireless network key rotated"),
    ("Passwords are hashed with argon2", "what algorithm protects stored credentials"),
    ("The CI pipeline takes about twenty minutes", "how long do automated builds run"),
    ("Dave is on paternity leave until March", "when will the new father return to work"),
    ("The logo uses a dark blue and orange palette", "what colors are in our brand mark"),
    ("Customer support answers tickets within four hours", "how quickly do we respond to help requests"),
    ("The backup job runs nightly at 2 am", "when are copies of the data taken"),
    ("Eve speaks fluent Portuguese and Spanish", "which languages does she know"),
    ("The main server has sixty-four gigabytes of memory", "how much RAM does the primary machine have"),
    ("We rejected MongoDB because of licensing concerns", "why was the document store turned down"),
    ("Grandma's birthday is on the fourth of July", "when should I call my grandmother to celebrate"),
    ("The kitchen faucet is leaking", "what plumbing problem is there at home"),
    ("Frank prefers email over phone calls", "how does he like to be contacted"),
    ("The conference talk was accepted for October", "when will I present at the event"),
    ("Our dog needs his vaccinations renewed in May", "when is the pet due for shots"),
    ("The mobile app crashes when the camera permission is denied", "what causes the phone application to fail"),
    ("Invoices are due thirty days after issue", "what are our payment terms"),
    ("The project deadline moved to the end of June", "when must the work now be finished"),
    ("Gina is the best person to ask about Kubernetes", "who knows container orchestration well"),
    ("We store user uploads in an S3 bucket", "where do files people send end up"),
    ("The heating bill doubled this winter", "why are energy costs up lately"),
    ("Henry started learning the cello", "what instrument is he studying"),
    ("The contract with the vendor renews automatically in January", "when does the supplier agreement extend itself"),
    ("Lunch is usually ordered from the Thai place downstairs", "where do we get food at noon"),
    ("The monitoring alerts go to the on-call pager", "who gets woken up when something breaks"),
    ("My passport expires next spring", "when do I need a new travel document"),
    ("The recipe calls for two cups of flour", "how much of the dry ingredient goes into the dough"),
    ("Ivan moved to the Berlin office last year", "where does he work now"),
    ("The database connection pool is capped at fifty", "how many simultaneous links to storage are allowed"),
    ("We use semantic versioning for all libraries", "how are package releases numbered"),
    ("The garden tomatoes ripen in August", "when can I pick the vegetables"),
    ("Julia's favourite author is Ursula Le Guin", "which writer does she love"),
    ("The login page must load in under two seconds", "what is the performance target for signing in"),
    ("Our rent goes up by three percent next year", "how much more will housing cost"),
    ("The printer on the second floor is out of toner", "why can't documents be printed upstairs"),
    ("Kevin cannot attend meetings on Fridays", "which day is he unavailable"),
    ("The feature flag service is LaunchDarkly", "what tool toggles functionality at runtime"),
    ("The river trail is closed for repairs", "why can't we hike along the water"),
    ("We picked Rust for the parsing module for its memory safety", "why was a systems language chosen for that component"),
    ("Laura handles all press inquiries", "who talks to journalists"),
    ("The warranty on the laptop lasts three years", "how long is the computer covered"),
    ("Error logs are kept for ninety days", "how long do we retain failure records"),
    ("The children's school starts at eight fifteen", "what time do the kids need to be in class"),
    ("Mike thinks the new design is too cluttered", "what is his opinion of the redesign"),
    ("The payment provider charges 2.9 percent per transaction", "what fee do we pay on each sale"),
    ("The office closes early on Christmas Eve", "when do we leave work before the holiday"),
    ("Nina is vegetarian", "does she eat meat"),
    ("Search results are ranked by relevance and freshness", "how is the order of hits decided"),
    ("Our electricity comes from a solar panel installation on the roof", "how is the house powered"),
    ("The onboarding checklist lives in the wiki", "where can new hires find their first steps"),
    ("Oscar broke his wrist skiing", "how did he get injured"),
    ("The marketing budget was cut in half", "how much less money does advertising get"),
    ("The espresso machine needs descaling every month", "how often should the coffee maker be cleaned"),
    ("All timestamps are stored in UTC", "which time zone do we record dates in"),
    ("Paula wants a standing desk", "what furniture did she ask for"),
    ("The bridge on Elm Street will be closed all weekend", "which road crossing is unavailable on Saturday and Sunday"),
    ("We deprecated the version one endpoints last quarter", "which old API routes are being retired"),
    ("The apartment lease ends in September", "when do we have to move out"),
    ("Quentin's daughter plays soccer on Saturdays", "what sport does his kid do at the weekend"),
    ("The model is retrained weekly on fresh data", "how often is the machine learning system updated"),
    ("The elevator in building B is broken", "why must people take the stairs there"),
    ("Rachel approved the budget request", "who signed off on the spending"),
    ("The test suite must pass before merging", "what is required for a pull request to land"),
    ("I keep my spare house key with the neighbour", "who can let me in if I am locked out"),
    ("Sam is colorblind and struggles with red and green", "what visual condition does he have"),
    ("The warehouse ships orders within two business days", "how fast do packages go out"),
    ("We switched the mail provider to Postmark", "which service sends our transactional messages"),
    ("The piano needs tuning before the recital", "what must be done to the instrument ahead of the concert"),
    ("Tina is moving to Canada in the autumn", "where is she relocating and when"),
    ("Traffic spikes every day around noon", "when is the site busiest"),
    ("My doctor recommended cutting back on salt", "what dietary advice did the physician give"),
    ("The wedding is planned for the twelfth of June", "when are they getting married"),
    ("Uma owns the billing microservice", "who is responsible for charging customers"),
    ("The library closes at six on weekdays", "until when can I borrow books after work"),
    ("Our TLS certificates renew automatically via Let's Encrypt", "how do the HTTPS credentials stay valid"),
    ("The basement floods when it rains heavily", "what happens downstairs during storms"),
    ("Victor is the only one with admin access to the firewall", "who can change the network security rules"),
    ("We limit uploads to ten megabytes", "what is the largest file a person can send"),
    ("The bakery on the corner sells sourdough on Wednesdays", "when can I buy that tangy bread nearby"),
    ("Wendy joined as head of design in April", "when did the new creative director start"),
    ("The data warehouse is Snowflake", "where do analysts run their queries"),
    ("My bike has a flat tire", "why can't I cycle to work today"),
    ("Xavier is presenting the roadmap at the all-hands", "who will explain future plans to the company"),
    ("Sessions time out after thirty minutes of inactivity", "when are idle users logged out"),
    ("The cat only eats the salmon flavoured food", "what does our pet refuse to give up at dinner"),
    ("Yara manages relationships with our biggest clients", "who looks after key accounts"),
    ("Zoe finished the marathon in under four hours", "how fast did she run the long race"),
]

DISTRACTORS = [
    "The blue notebook is on the top shelf", "Parking is free after seven in the evening",
    "The quarterly report template was updated", "Our neighbours adopted two kittens",
    "The museum reopened after renovation", "The new intern starts next week",
    "Umbrellas are kept by the front door", "The podcast episode was recorded on Sunday",
    "Train tickets are cheaper when booked early", "The hallway lights are on a timer",
    "We ordered new chairs for the meeting room", "The spreadsheet has a hidden column",
    "The community garden needs volunteers", "Octopuses have three hearts",
    "The town hall clock is five minutes fast", "The swimming pool is heated in winter",
    "A new bookstore opened on Main Street", "The printer driver was reinstalled",
    "The photo album is in the attic", "The board game night moved to Thursday",
    "The fridge makes a humming noise at night", "Volcanic soil is very fertile",
    "The sofa cushions were cleaned last month", "Jupiter has dozens of moons",
    "The guest room has a new mattress", "The chess club meets in the library",
    "Sunflowers turn to follow the sun", "The old laptop was donated",
    "The choir practices on Wednesday evenings", "The kettle switches off automatically",
    "The fountain in the park is being repaired", "The wall calendar shows the wrong month",
    "The knitting pattern uses three colours", "Honey never spoils if sealed",
    "The tram line was extended to the airport", "The staff photo will be taken on Monday",
    "The lamp in the study flickers", "The festival sold out in two hours",
    "The recycling bins are collected on Thursdays", "The violin teacher retired last year",
    "Penguins live mostly in the southern hemisphere", "The dishwasher salt needs refilling",
    "The rooftop terrace opens in May", "The map of the campus was redesigned",
    "The bakery's croissants sell out by ten", "The mural downtown was painted by students",
    "The winter coats are in the storage room", "The running club meets at the lake",
    "A hummingbird visited the feeder", "The meeting notes were shared in the channel",
    "The plant in the lobby needs more light", "The gym added a rowing machine",
    "The glass recycling point is behind the school", "The ferry runs every half hour in summer",
    "The desk drawer sticks when it rains", "The story hour for kids is on Saturdays",
    "The stadium renovation will take two years", "The soup of the day is lentil",
    "The bike rack is next to the side entrance", "The lighthouse was built in 1870",
]


STOP = set(
    "a an the and or of to in on at for by with from is are was were be been it its this that these those we our "
    "i my me you your he his him she her they them their what which who whom when where why how do does did can "
    "not no out up so if as than then there here all any some new old after before until under over about into "
    "should must will would could has have had get gets got take takes until per each every".split()
)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP and len(w) > 2}


def clean_pairs() -> tuple[list[tuple[str, str]], list[tuple[str, str, set[str]]]]:
    kept, dropped = [], []
    for memory, query in PAIRS:
        shared = _stems(memory) & _stems(query)
        (dropped.append((memory, query, shared)) if shared else kept.append((memory, query)))
    return kept, dropped


def build_store(root: Path, name: str, embeddings: dict[str, str], pairs: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    from memman import config
    from memman.operations.maintenance import drain_all
    from memman.service import Memman

    data_dir = root / name
    for key, value in embeddings.items():
        config.set_value(data_dir, f"embeddings.{key}", value)
    app = Memman(data_dir)
    ids = [app.remember(memory).id for memory, _ in pairs]
    for text in DISTRACTORS:
        app.remember(text)
    drain_all(data_dir)
    return app, ids


def score(ranked: list[list[str]], ids: list[str]) -> dict[str, float]:
    hits, rr = 0, 0.0
    for results, wanted in zip(ranked, ids, strict=True):
        top = results[:10]
        if wanted in top:
            hits += 1
            rr += 1 / (top.index(wanted) + 1)
    return {"hit@10": round(hits / len(ids), 3), "mrr": round(rr / len(ids), 3)}


def vector_only(app, queries: list[str]) -> list[list[str]]:  # type: ignore[no-untyped-def]
    import numpy as np

    from memman.operations.embed import embedder_settings
    from projections.vectors import matrix
    from workers.embedders import embedder_for

    db = app.fresh_vectors()
    key = db.setting("embedder")
    embedder = embedder_for(key, embedder_settings(app.registry.data_dir, app.store))
    ids, rows = matrix(db.vectors.conn, db.directory, key)
    q = embedder.embed(queries, kind="query")
    order = np.argsort(-(q @ np.asarray(rows).T), axis=1)[:, :10]
    return [[ids[i] for i in row] for row in order]


def recall_ranks(app, queries: list[str], *, basic: bool) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[h.id for h in app.recall(q, limit=10, basic=basic).results] for q in queries]


def evaluate(onnx_model: Path | None) -> dict:  # type: ignore[type-arg]
    pairs, dropped = clean_pairs()
    queries = [q for _, q in pairs]
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="memman-eval-") as tmp:
        app, ids = build_store(Path(tmp), "static", {"provider": "static"}, pairs)
        rows["fts5 (recall --basic)"] = score(recall_ranks(app, queries, basic=True), ids)
        rows["static (vectors only)"] = score(vector_only(app, queries), ids)
        rows["hybrid (memman recall, static)"] = score(recall_ranks(app, queries, basic=False), ids)
        app.close()
        onnx_note = None
        if onnx_model is not None and (onnx_model / "model-int8.onnx").is_file():
            app, ids = build_store(Path(tmp), "onnx", {"provider": "onnx", "model_path": str(onnx_model)}, pairs)
            rows["onnx (vectors only)"] = score(vector_only(app, queries), ids)
            rows["hybrid (memman recall, onnx)"] = score(recall_ranks(app, queries, basic=False), ids)
            app.close()
        else:
            onnx_note = f"onnx skipped: no model at {onnx_model} (build it with tools/build_onnx_model.py)"
    return {
        "queries": len(pairs),
        "distractors": len(DISTRACTORS),
        "dropped_pairs_sharing_a_word": [{"memory": m, "query": q, "shared": sorted(s)} for m, q, s in dropped],
        "methods": rows,
        "note": onnx_note,
    }


def markdown(result: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"{result['queries']} paraphrase queries, {result['queries'] + result['distractors']} memories "
        f"({result['distractors']} distractors); no query shares a content word with its memory.",
        "",
        "| method | hit@10 | MRR |",
        "|---|---:|---:|",
    ]
    for name, m in result["methods"].items():
        lines.append(f"| {name} | {m['hit@10']:.2f} | {m['mrr']:.2f} |")
    if result["note"]:
        lines += ["", result["note"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnx-model", type=Path, default=Path.home() / ".memman" / "models" / "minilm-onnx")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()
    result = evaluate(args.onnx_model)
    print(json.dumps(result, indent=2) if args.json else markdown(result))


if __name__ == "__main__":
    main()
