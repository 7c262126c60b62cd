"""Agent-style project histories: what a coding agent remembers about one
project over months of work sessions.

One store is one project: about 40 work sessions, 12-24 notes each, most of
them routine ("Ran the billing test suite: all green.", "Priya: thanks!").
Among them: decisions whose reason was noted sessions earlier, values that
change (a rate limit, a timeout, who is on call), preferences, conventions,
bugs with their fixes, who owns which service. Questions ask what an agent
must answer from memory, often in other words than the notes.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from tools.recall_bench import project_data as data
from tools.recall_bench.common import day_words, draw_slots, fill, iso, month_words
from tools.recall_bench.model import Memory, Question, Store

SESSIONS = 40


class _Project:
    def __init__(self, name: str, seed: int, sessions: int) -> None:
        self.n_sessions = sessions
        r = self.rng = random.Random(seed)
        self.name = name
        self.team = r.sample(data.TEAM, 6)
        self.services = r.sample(data.SERVICES, 8)
        start = datetime(2023, 1, 2, tzinfo=timezone.utc) + timedelta(days=r.randrange(500))
        self.starts: list[datetime] = []
        for _ in range(self.n_sessions):
            self.starts.append(start.replace(hour=r.randint(8, 18), minute=r.randrange(60)))
            start += timedelta(days=r.randint(1, 9))
        self.said: list[list[list[tuple[str, str]]]] = [[] for _ in range(self.n_sessions)]  # session -> groups of (ref, text)
        self.used: set[tuple[str, str]] = set()
        self.ref_session: dict[str, int] = {}
        self.questions: list[Question] = []
        self.refs: dict[str, str] = {}

    def _values(self, event: dict, service: str) -> dict:
        p, q = self.rng.sample(self.team, 2)
        return {**draw_slots(self.rng, event["slots"], self.used), "S": service, "P": p, "Q": q}

    def _place(self, event: dict, values: dict, ident: str, later: set[str], gap: tuple[int, int]) -> dict[str, int]:
        r = self.rng
        first = r.randrange(self.n_sessions - (gap[1] + 1 if later else 0))
        at, where = first, {}
        now = [(f"{ident}#{p}", fill(r.choice(w), values)) for p, w in event["parts"].items() if p not in later]
        if now:
            self.said[first].append(now)
        for p, w in event["parts"].items():
            if p in later:
                at = min(self.n_sessions - 1, at + r.randint(*gap))
                self.said[at].append([(f"{ident}#{p}", fill(r.choice(w), values))])
        for p in event["parts"]:
            where[p] = at if p in later else first
            self.ref_session[f"{ident}#{p}"] = where[p]
        return where

    def _ask(self, category: str, kind: str, wordings: list[str], values: dict, refs: list[str]) -> None:
        self.questions.append(Question("", fill(self.rng.choice(wordings), values), category, tuple(refs), kind))

    def plan(self) -> None:
        r = self.rng
        events = [(e, {"b"}, (1, 5)) for e in data.DECISIONS] + [(e, set(e.get("later", [])), (1, 6)) for e in data.OTHERS]
        events += [(e, set(e.get("later", [])), (1, 6)) for e in data.OTHERS for _ in range(1) if e["name"] in ("pref", "convention", "bug")]
        for n, (event, later, gap) in enumerate(events):
            values = self._values(event, self.services[n % len(self.services)])
            ident = f"{event['name']}-{n}"
            self._place(event, values, ident, later, gap)
            for category, kind, wordings, parts in event["questions"]:
                self._ask(category, kind, wordings, values, [f"{ident}#{p}" for p in parts])
        for n, event in enumerate(data.CHANGES * 2):
            self._change(event, self.services[(n * 3) % len(self.services)], f"{event['name']}-c{n}")

    def _change(self, event: dict, service: str, ident: str) -> None:
        r = self.rng
        values = self._values(event, service)
        where = self._place(event, values, ident, {"b"}, (4, 14))
        topic = fill(r.choice(event["topic"]), values)
        a, b = f"{ident}#a", f"{ident}#b"
        self._ask("single", "current", [f"What is {topic} now?", f"What's {topic} these days?"], {}, [b])
        self._ask("temporal", "when", [f"When did {topic} change?", f"When was {topic} last adjusted?"], {}, [b])
        self._ask("multi-hop", "history", [f"How has {topic} changed over time?", f"What was {topic} before, and what is it now?"], {}, [a, b])
        start_a, start_b = self.starts[where["a"]], self.starts[where["b"]]
        if (start_a.year, start_a.month) != (start_b.year, start_b.month):
            self._ask("temporal", "as-of", [f"What was {topic} in {month_words(start_a)}?"], {}, [a])

    def write(self) -> list[Memory]:
        r = self.rng
        memories: list[Memory] = []
        for number, groups in enumerate(self.said):
            notes: list[tuple[str | None, str]] = []
            r.shuffle(groups)
            for group in groups:
                notes += [(None, self._filler()) for _ in range(r.randint(0, 3))]
                notes += group
            notes += [(None, self._filler()) for _ in range(max(0, r.randint(12, 24) - len(notes)))]
            at = self.starts[number]
            for t, (ref, text) in enumerate(notes):
                at += timedelta(minutes=r.randint(2, 25))
                key = f"{self.name}:s{number:02d}:n{t:03d}"
                if ref:
                    self.refs[ref] = key
                memories.append(Memory(key, text[:1].upper() + text[1:], iso(at), f"{self.name}:s{number:02d}", r.choice(["agent", "agent", "user"])))
        return memories

    def _filler(self) -> str:
        p, q = self.rng.sample(self.team, 2)
        return fill(self.rng.choice(data.FILLERS), {"S": self.rng.choice(self.services), "P": p, "Q": q, "n": self.rng.randint(10, 999)})

    def finish(self) -> list[Question]:
        out = [Question("", q.text, q.category, tuple(self.refs[x] for x in q.evidence), q.kind) for q in self.questions]
        out += self._dated()
        return [Question(f"{self.name}:q{i:03d}", q.text, q.category, q.evidence, q.kind, q.asked_at) for i, q in enumerate(out)]

    def _dated(self) -> list[Question]:
        r = self.rng
        by_session: dict[int, list[str]] = {}
        for ref, key in self.refs.items():
            by_session.setdefault(self.ref_session[ref], []).append(key)
        out: list[Question] = []
        for number, keys in sorted(by_session.items()):
            day = self.starts[number]
            pick = r.random()
            if pick < 0.45:
                when = day_words(r, day)
                text = r.choice([f"What did we note on {when}?", f"What came up in the work session on {when}?",
                                 f"What did we decide or find on {when}?"])
                out.append(Question("", text, "temporal", tuple(sorted(keys)), "day"))
            elif pick < 0.7:
                month = (day.year, day.month)
                ev = sorted(k for n, ks in by_session.items() if (self.starts[n].year, self.starts[n].month) == month for k in ks)
                if len(ev) <= 8:
                    out.append(Question("", f"What happened on the project in {month_words(day)}?", "temporal", tuple(ev), "month"))
            else:
                gap, phrase = r.choice([(1, "yesterday"), (2, "two days ago"), (7, "last week"), (7, "a week ago")])
                asked = day + timedelta(days=gap)
                close = [n for n in by_session if abs((self.starts[n].date() - day.date()).days) <= gap // 4]
                if close == [number]:
                    text = r.choice([f"What did we work on {phrase}?", f"What did we decide {phrase}?"])
                    out.append(Question("", text, "temporal", tuple(sorted(keys)), "relative", iso(asked.replace(hour=12, minute=0))))
        return out


def project(name: str, seed: int, sessions: int = SESSIONS) -> Store:
    p = _Project(name, seed, max(16, sessions))
    p.plan()
    memories = p.write()
    return Store(name=name, seed=seed, kind="project", memories=memories, questions=p.finish())
