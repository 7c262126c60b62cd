"""The vocabulary of stories: families of words that a life event or a
project event is told in, written from general knowledge of how people and
teams talk, and of the settings a service has (not from any benchmark's word lists; docs/recall-ranking.md
"Story links" says how much they overlap with our benchmark's generator).

Two memories continue one story when both speak a family's words (a job:
"quit", "notice" ... "offered", "position", "contract"; health: "sprained",
"ankle" ... "physio", "crutches") or when the earlier names a problem and the
later a change ("deploys failed twice" ... "moved onto the k8s cluster").
Relatives are no family here: people mention a sister or a dad in passing
all the time, and a relative's story is carried by their name, which the
rare-word hops (memman/recall/hop.py) and entity edges follow (with them,
tuning multi-hop all@10 was the same and a chat line about a sister took a
hop place from the rare-word answer). Words are matched whole, lowercased,
with a trailing "'s" dropped; a few two-word phrases ("last day", "broke
down") are matched as phrases.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_FAMILIES: dict[str, str] = {
    "work": """job jobs career employer employers employee hired hire hiring fired sacked layoff layoffs redundant
        redundancy quit quitting resign resigned resigning resignation notice retire retired retirement interview
        interviews interviewed offer offered position role contract promotion promoted salary payslip raise raises
        boss manager colleague colleagues coworker coworkers overtime onboarding probation recruiter recruiters
        applied application applications cv resume workplace internship intern freelance freelancing unemployed
        employment paycheck commute|last day|first day|new job|start as|starting as|started as|work as|working as
        |laid off|two weeks' notice""",
    "health": """injury injuries injured hurt hurts pain painful sprain sprained fracture fractured torn tore
        ligament ankle knee wrist shoulder surgery operation hospital clinic doctor doctors gp physio physiotherapy
        physiotherapist rehab recovery recovering recover crutches cast stitches sick ill illness flu fever
        diagnosis diagnosed medication medicine prescription therapy therapist x-ray mri scan bandage healing healed
        concussion symptoms allergy allergic infection|broke my|broken arm|broken leg""",
    "pets": """dog dogs puppy puppies pup cat cats kitten kittens pet pets vet vets adopted adopt adoption shelter
        rescue breed leash kennel groomer obedience hamster rabbit parrot""",
    "home": """move moving moved movers relocate relocated relocating relocation lease landlord rent tenant flat
        apartment house mortgage bedroom neighbourhood neighborhood packing boxes unpacking housewarming deposit
        renovation renovating roommate flatmate""",
    "study": """exam exams test tests studying study studied revision revise revising flashcards passed pass
        results grade grades score course degree thesis graduate graduated graduation certificate diploma licence
        license university college semester tutor homework coursework quiz""",
    "pastime": """hobby hobbies class classes lesson lessons practice practising practicing workshop club choir
        rehearsal rehearsals performed performance recital gig painting painted pottery knitting woodworking sewing
        guitar piano singing dancing climbing bouldering sketching photography gardening baking pastime""",
    "travel": """trip travel travelled traveled travelling holiday vacation flight flights passport hotel airport
        visa luggage abroad sightseeing itinerary|jet lag|jet-lagged""",
    "service": """replica replicas pod pods instance instances node nodes timeout timeouts deadline throttled
        throttling throttle quota quotas rps qps on-call oncall pager paged owner owners owns maintainer maintainers
        version pinned runtime interpreter threshold ttl retention capacity concurrency|rate limit|tech lead
        |written in|codebase""",
    "vehicle": """car cars mechanic garage engine motorway highway breakdown tyre tyres tire tires dealer
        dealership insurance bike motorbike scooter|broke down|second-hand|test drive""",
}
# A project's problems and the changes made because of them.
_PROBLEM = """fail fails failed failing failure failures broke breaks broken crash crashes crashed crashing outage
    outages down downtime slow slower slowness latency p95 p99 timeout timeouts error errors leak leaks leaking bug
    bugs oom killed dropped dropping lost losing inconsistent corrupt corrupted expensive cost costs bill tripled
    doubled spike spikes finding findings vulnerability vulnerabilities insecure expire expired flaky regression
    forever incident incidents overloaded unstable cannot unable can't|timing out|timed out|ran out|out of memory"""
_CHANGE = """decided decide decision switch switched switching migrate migrating migrated migration move moving
    moved moves replace replaced replacing rewrite rewriting rewrote rewritten adopt adopted introduce introduced
    added rule policy instead capped cap rotate rotates rotated upgrade upgraded deprecate deprecated removed
    moving|from now on|no longer"""

_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


def _parse(spec: str) -> tuple[frozenset[str], tuple[str, ...]]:
    first, *phrases = spec.split("|")
    words = frozenset(first.split())
    return words, tuple(" ".join(p.split()) for p in phrases if p.strip())


FAMILIES = {name: _parse(spec) for name, spec in _FAMILIES.items()}
PROBLEM = _parse(_PROBLEM)
CHANGE = _parse(_CHANGE)
VOCABULARY = frozenset().union(*(w for w, _ in FAMILIES.values()), PROBLEM[0], CHANGE[0])


def words(text: str) -> list[str]:
    """Lowercased words, a trailing "'s" dropped ("Doctor's" -> "doctor")."""
    lowered = text.lower().replace("\u2019", "'")
    found = _WORD.findall(lowered)
    if "'" not in lowered and "-" not in lowered:  # most texts: no word to strip (the drain reads thousands)
        return found
    out = []
    for w in found:
        w = w.strip("'-")
        out.append(w[:-2] if w.endswith("'s") else w)
    return out


def _index() -> tuple[dict[str, frozenset[str]], re.Pattern[str], dict[str, frozenset[str]]]:
    """word -> labels, one pattern for every phrase, phrase -> labels; a
    label is a family's name, PROBLEM_LABEL or CHANGE_LABEL."""
    entries = {**FAMILIES, PROBLEM_LABEL: PROBLEM, CHANGE_LABEL: CHANGE}
    by_word: dict[str, set[str]] = {}
    by_phrase: dict[str, set[str]] = {}
    for label, (vocabulary, phrases) in entries.items():
        for w in vocabulary:
            by_word.setdefault(w, set()).add(label)
        for p in phrases:
            by_phrase.setdefault(p, set()).add(label)
    # Longest first, whole words; behind a lookahead for their first letters, so the engine tries the
    # alternatives only where a phrase can start (the same matches: every alternative begins with \b).
    phrases = sorted(by_phrase, key=len, reverse=True)
    firsts = re.escape("".join(sorted({p[0] for p in phrases})))
    pattern = re.compile(rf"\b(?=[{firsts}])(?:" + "|".join(rf"{re.escape(p)}\b" for p in phrases) + ")")
    return (
        {w: frozenset(ls) for w, ls in by_word.items()}, pattern, {p: frozenset(ls) for p, ls in by_phrase.items()}
    )


PROBLEM_LABEL, CHANGE_LABEL = "!problem", "!change"
_BY_WORD, _PHRASES, _BY_PHRASE = _index()
_NONE: frozenset[str] = frozenset()


class Told(NamedTuple):
    families: frozenset[str]  # the life-event families a text speaks
    problem: bool  # it names a problem ("failed", "outage", "latency")
    change: bool  # it names a change ("migrating", "replaced", "from now on")


def told(text: str) -> Told:
    """What story vocabulary `text` speaks."""
    return told_words(words(text))


def told_words(said: list[str]) -> Told:
    """`told` of a text whose `words` are `said`."""
    labels: set[str] = set()
    for w in said:
        labels |= _BY_WORD.get(w, _NONE)
    for match in _PHRASES.finditer(" ".join(said)):
        labels |= _BY_PHRASE[match.group(0)]
    return Told(
        frozenset(labels - {PROBLEM_LABEL, CHANGE_LABEL}), PROBLEM_LABEL in labels, CHANGE_LABEL in labels
    )
