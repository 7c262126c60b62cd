"""One synthetic agent history for the graph benchmark, deterministic per seed:
memories (each with a stable key, a time, a source and a session) placed into
sessions under ordering constraints, and questions tagged with the intent
they exercise and the keys of their evidence (tools/bench_graph.py's
docstring describes what a history holds).
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tools.graph_bench.vocabulary import (
    CHANGES,
    CITIES,
    CIS,
    CODENAMES,
    DATABASES,
    DAYS,
    DECISIONS,
    EPISODES,
    FIRST,
    LANGUAGES,
    LAST,
    NOISE,
    REGIONS,
    ROLES,
    SUFFIXES,
    TASKS,
    TOOLS,
)

INTENTS = ("multi-hop", "why", "when", "entity", "general")
START = datetime(2025, 1, 6, tzinfo=timezone.utc)  # a Monday


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
