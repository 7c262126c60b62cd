"""Multi-session conversations between two named people.

One store is one conversation: about 24 dated sessions over a year or two,
30-45 turns each, most of them small talk ("Dana: That's so nice!"), every
turn prefixed by its speaker's name. Each person lives through life events
(conversation_data.EVENTS), told in one session and followed up in later
ones; the questions ask about them as a friend would, often in other words.
Temporal questions name the day, the month or a relative time ("a week
ago", asked on a given day) that only the turn's occurred time holds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tools.recall_bench import conversation_data as data
from tools.recall_bench.common import day_words, draw_slots, fill, iso, month_words
from tools.recall_bench.model import Memory, Question, Store

SESSIONS = 24
EVENTS_PER_PERSON = 11


@dataclass
class _Turn:
    speaker: str
    text: str
    ref: str | None = None  # "event#part" for evidence turns


@dataclass
class _Session:
    start: datetime
    groups: list[list[_Turn]] = field(default_factory=list)  # evidence runs kept in order
    turns: list[_Turn] = field(default_factory=list)


class _Conversation:
    def __init__(self, name: str, seed: int, sessions: int) -> None:
        self.n_sessions = sessions
        self.rng = random.Random(seed)
        self.name = name
        self.seed = seed
        self.a, self.b = self.rng.sample(data.FIRST_NAMES, 2)
        start = datetime(2022, 1, 3, tzinfo=timezone.utc) + timedelta(days=self.rng.randrange(600))
        self.sessions: list[_Session] = []
        for _ in range(self.n_sessions):
            self.sessions.append(_Session(start.replace(hour=self.rng.randint(8, 21), minute=self.rng.randrange(60))))
            start += timedelta(days=self.rng.randint(4, 26))
        self.used: set[tuple[str, str]] = set()
        self.refs: dict[str, str] = {}  # "event#part" -> memory key
        self.ref_session: dict[str, int] = {}
        self.pending: list[tuple[str, str, list[str], dict, list[str], str]] = []  # category, kind, wordings, values, refs, owner

    def other(self, person: str) -> str:
        return self.b if person == self.a else self.a

    def plan(self) -> None:
        for person in (self.a, self.b):
            for n, event in enumerate(self.rng.sample(data.EVENTS, EVENTS_PER_PERSON)):
                self._event(person, event, f"{person}-{event['name']}-{n}")

    def _event(self, person: str, event: dict, ident: str) -> None:
        r = self.rng
        values = {**draw_slots(r, event["slots"], self.used), "X": person, "Y": self.other(person)}
        later = set(event["later"])
        first = r.randrange(self.n_sessions - (3 if later else 0))
        now_parts = [p for p in event["parts"] if p not in later]
        next_parts = [p for p in event["parts"] if p in later]
        if now_parts:
            self.sessions[first].groups.append(self._say(person, event, now_parts, values, ident, first))
        at = first
        for part in next_parts:  # each follow-up a session or more later, in order
            at = min(self.n_sessions - 1, at + r.randint(1, 3))
            self.sessions[at].groups.append(self._say(person, event, [part], values, ident, at))
        for category, kind, wordings, parts in event["questions"]:
            self.pending.append((category, kind, wordings, values, [f"{ident}#{p}" for p in parts], person))

    def _say(self, person: str, event: dict, parts: list[str], values: dict, ident: str, session: int) -> list[_Turn]:
        turns = []
        for part in parts:
            text = fill(self.rng.choice(event["parts"][part]), values)
            turns.append(_Turn(person, text, f"{ident}#{part}"))
            self.ref_session[f"{ident}#{part}"] = session
        return turns

    def write(self) -> list[Memory]:
        r = self.rng
        memories: list[Memory] = []
        for number, s in enumerate(self.sessions):
            speaker = r.choice((self.a, self.b))
            turns = [_Turn(speaker, self._reaction())]
            r.shuffle(s.groups)
            for group in s.groups:
                for _ in range(r.randint(1, 4)):
                    speaker = self.other(speaker)
                    turns.append(self._small_talk(speaker))
                for turn in group:
                    turns.append(turn)
                    speaker = turn.speaker
                    if r.random() < 0.5:  # the friend reacts
                        speaker = self.other(speaker)
                        turns.append(_Turn(speaker, self._reaction()))
            while len(turns) < r.randint(30, 45):
                speaker = self.other(speaker)
                turns.append(self._small_talk(speaker))
            at = s.start
            for t, turn in enumerate(turns):
                at += timedelta(seconds=r.randint(20, 240))
                key = f"{self.name}:s{number:02d}:t{t:03d}"
                if turn.ref:
                    self.refs[turn.ref] = key
                text = fill(turn.text, {"Y": self.other(turn.speaker), "city": r.choice(data.CITIES)})
                memories.append(Memory(key, f"{turn.speaker}: {text}", iso(at), f"{self.name}:s{number:02d}", "user"))
        return memories

    def _small_talk(self, speaker: str) -> _Turn:
        if self.rng.random() >= 0.3:
            return _Turn(speaker, self._reaction())
        template, slots = self.rng.choice(data.CHATTER)
        return _Turn(speaker, fill(template, {k: self.rng.choice(v) for k, v in slots.items()} | {"city": "{city}"}))

    def _reaction(self) -> str:
        """"Haha, that's so nice, {Y}!": an opener (or none), a reaction, an ending."""
        r = self.rng
        reaction = r.choice(data.REACTIONS)
        text = f"{r.choice(data.OPENERS)}, {reaction}" if r.random() < 0.7 else reaction[:1].upper() + reaction[1:]
        return text + r.choice(data.ENDINGS)

    def questions(self, memories: list[Memory]) -> list[Question]:
        r = self.rng
        out: list[Question] = []
        for category, kind, wordings, values, refs, _ in self.pending:
            text = fill(r.choice(wordings), values)
            out.append(Question("", text, category, tuple(self.refs[x] for x in refs), kind))
        out += self._dated(memories)
        return [Question(f"{self.name}:q{i:03d}", q.text, q.category, q.evidence, q.kind, q.asked_at) for i, q in enumerate(out)]

    def _dated(self, memories: list[Memory]) -> list[Question]:
        """Questions naming a day, a month or a relative time: the evidence is
        what the person told in that session (or month)."""
        r = self.rng
        said: dict[tuple[str, int], list[str]] = {}
        for ref, key in self.refs.items():
            said.setdefault((ref.split("-", 1)[0], self.ref_session[ref]), []).append(key)
        out: list[Question] = []
        for (person, number), keys in sorted(said.items()):
            day = self.sessions[number].start
            other = self.other(person)
            pick = r.random()
            if pick < 0.4:
                when = day_words(r, day)
                text = r.choice([f"What did {person} tell {other} about on {when}?", f"What news did {person} share on {when}?",
                                 f"On {when}, what was {person} talking about?"])
                out.append(Question("", text, "temporal", tuple(sorted(keys)), "day"))
            elif pick < 0.7:
                month = (day.year, day.month)
                ev = sorted(k for (p, n), ks in said.items() if p == person
                            and (self.sessions[n].start.year, self.sessions[n].start.month) == month for k in ks)
                if len(ev) <= 6:
                    text = r.choice([f"What happened in {person}'s life in {month_words(day)}?",
                                     f"What was new with {person} in {month_words(day)}?"])
                    out.append(Question("", text, "temporal", tuple(ev), "month"))
            else:
                gap, phrase = r.choice([(1, "yesterday"), (3, "three days ago"), (7, "a week ago"), (14, "two weeks ago")])
                asked = day + timedelta(days=gap)
                lo, hi = day - timedelta(days=max(0, gap // 4)), day + timedelta(days=max(0, gap // 4))
                close = [n for (p, n) in said if p == person and lo.date() <= self.sessions[n].start.date() <= hi.date()]
                if close == [number]:
                    text = r.choice([f"What did {person} mention {phrase}?", f"What did {person} tell {other} {phrase}?"])
                    out.append(Question("", text, "temporal", tuple(sorted(keys)), "relative", iso(asked.replace(hour=12, minute=0))))
        return out


def conversation(name: str, seed: int, sessions: int = SESSIONS) -> Store:
    c = _Conversation(name, seed, max(6, sessions))
    c.plan()
    memories = c.write()
    return Store(name=name, seed=seed, kind="conversation", memories=memories, questions=c.questions(memories))
