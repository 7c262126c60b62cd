"""What a sentence is about, read without a parser: its subject words, its
values, its named entities in order, and whether it states a change.

The rule reconciler (workers/stages/reconcile.py) and recall's succession step
(memman/recall/succession.py) share these readings, so "the same subject" means
one thing everywhere.

    content words  every word that is not a stopword, a change word or a value:
                   "The notification metrics exporter runs every 16 minutes"
                   -> {notification, metrics, exporter, runs, minutes}. Two
                   sentences about the same subject and attribute have the same
                   content words; lower-case names (notification vs analytics)
                   are content words, so a different subject is never "the same
                   words with another value".
    subject values values before the sentence's first verb ("Ticket 123 is
                   assigned", "web1 listens on 8080"): identifiers of the
                   subject, not the attribute's value; a different one means a
                   different subject.
    a change       "switched/moved/migrated/changed ... from X to Y", "replaced X
                   with Y", "Y instead of X", "upgraded/bumped/raised X to Y",
                   "no longer", "from now on": what the old value was (X), when
                   the sentence says it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import msgspec

from events.lazyre import lazy

_TOKEN = re.compile(r"[\w][\w.'/+#-]*[\w+#]|\w", re.UNICODE)
_DIGIT = re.compile(r"\d")
STOPWORDS = frozenset(
    """a an the and or but of in on at by for to from with into onto over under about as is are was were be been
    being am do does did has have had having it its this that these those there here we our us you your they
    their them he she his her i me my mine so too very just also all any some each every which who whom whose
    what when where why how than then there's it's that's we're we've they're s t through via across per after
    before during up down out off both either""".split()
)
# Nouns whose following number names a thing, not a value: "ticket 123", "PR 45".
ID_NOUNS = frozenset(
    """ticket tickets issue issues pr prs pull bug bugs incident incidents case order orders invoice invoices room
    sprint node nodes host hosts server servers shard shards replica replicas rack job jobs build builds run runs
    task tasks story epic milestone account customer user team squad floor building line item step phase""".split()
)
# Words that say a value changed rather than what the subject is.
CHANGE_WORDS = frozenset(
    """now currently today anymore any more no longer instead new newly switched switch switching moved move
    moving migrated migrate migrating changed change changing upgraded upgrade upgrading downgraded downgrade
    replaced replace replacing swapped swap raised raise lowered lower increased increase decreased decrease
    reduced reduce bumped bump updated update set went go going forward still since cut dropped""".split()
)
# Verbs that end the subject part of a sentence ("Ticket 123 | is assigned to Bob").
VERBS = frozenset(
    """is are was were be been has have had runs run uses use used listens listen lives live sits sit takes take
    needs need costs cost holds hold points point belongs belong owns own leads lead handles handle deploys deploy
    goes go serves serve stores store keeps keep builds build ships ship prefers prefer likes like starts start
    ends end opens open closes close expires expire fires fire retries retry returns return calls call sends send
    reads read writes write depends depend requires require supports support allows allow waits wait means mean
    contains contain includes include works work sleeps sleep times syncs sync polls poll caps cap limits limit
    talks talk connects connect scales scale lasts last happens happen occurs occur begins begin finishes finish
    arrives arrive gets get makes make pays pay owes owe weighs weigh measures measure equals equal""".split()
)


def _led(words: str) -> str:
    """`\\b(?:w1|w2|...)` for an alternation of plain words, behind a
    lookahead for their first letters: the same matches, but the regex
    engine tries the alternatives only where a word can start (it tries
    every alternative at every position otherwise; ~40% of `_change`)."""
    firsts = "".join(sorted({w[0] for w in words.split("|")}))
    return rf"\b(?=[{firsts}])(?:{words})"


# "switched ... from X to Y": the verbs that make "from X to Y" a change.
_FROM_TO = lazy(
    _led(
        "switched|switching|moved|migrated|changed|upgraded|downgraded|went|transitioned|swapped|bumped|raised|"
        "lowered|increased|decreased|reduced|cut|shifted|converted|ported"
    )
    + r"\b.*?\bfrom\s+(?P<old>.+?)\s+(?:to|onto|into)\s+(?P<new>.+?)\s*(?:[.;,!]|$)",
    re.IGNORECASE,
)
_REPLACED = lazy(
    r"\breplaced\s+(?P<old>.+?)\s+(?:with|by)\s+(?P<new>.+?)\s*(?:[.;,!]|$)", re.IGNORECASE
)
_INSTEAD = lazy(r"\binstead\s+of\s+(?P<old>.+?)\s*(?:[.;,!]|$)", re.IGNORECASE)
_SUBJECT_TO = lazy(
    _led("upgraded|downgraded|bumped|raised|lowered|increased|decreased|reduced|changed|moved|switched|set|cut")
    + r"\s+(?:the\s+|our\s+)?(?P<subject>.+?)\s+to\s+(?P<new>.+?)\s*(?:[.;,!]|$)",
    re.IGNORECASE,
)
_NO_LONGER = lazy(r"(?=[an])(?:\bno\s+longer\b|\bnot\s+anymore\b|\bany\s*more\b)", re.IGNORECASE)
_FROM_NOW_ON = lazy(r"(?=[fg])(?:\bfrom\s+now\s+on\b|\bgoing\s+forward\b|\bfrom\s+today\b)", re.IGNORECASE)

# A word every pattern above needs, at the start of a word (a superset of their
# matches: "any" of "anymore", "from" of "from now on"), so `_change` can skip
# the six searches for a sentence that holds none of them.
_CHANGE_GATE = lazy(
    _led(
        "switched|switching|moved|migrated|changed|upgraded|downgraded|went|transitioned|swapped|bumped|raised|"
        "lowered|increased|decreased|reduced|cut|shifted|converted|ported|replaced|instead|no|not|any|set|from|going"
    ),
    re.IGNORECASE,
)

_SKIP = STOPWORDS | CHANGE_WORDS  # never content words


def tokens(text: str) -> list[str]:
    """Case-folded word tokens in order; values keep their dots and dashes (3.11, us-west-2)."""
    return [s for t in _TOKEN.findall(text.casefold()) if (s := t.strip(".'-"))]


def is_value(token: str) -> bool:
    return _DIGIT.search(token) is not None


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """A change the sentence states: the old value's tokens (if said), the
    subject's (for "upgraded X to Y"), and the new value's."""

    kind: str  # from-to | replaced | instead | subject-to | no-longer | from-now-on
    old: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    new: tuple[str, ...] = ()


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    """One sentence, read for reconciliation."""

    tokens: tuple[str, ...]
    content: frozenset[str]  # content words (no stopwords, change words or values)
    words: tuple[str, ...]  # the content words in order, repeats kept
    values: frozenset[str]
    subject_values: frozenset[str]  # values naming the subject: before the first verb, or "ticket 123"
    names: tuple[str, ...]  # named entities, case-folded, in the order the text mentions them
    change: Change | None


def _names(
    text: str, entities: Sequence[str], memo: dict[str, tuple[tuple[str, ...], str] | None] | None = None
) -> tuple[tuple[str, ...], frozenset[str]]:
    """Named entities (no digits) in text order, canonical ("Postgres" is
    "postgresql", workers/entities/aliases.py), and the words they are written
    with. A sentence-initial change verb glued to a name by the extractor
    ("Switched CI") is dropped from it. `memo` keeps each entity's reading
    for a caller that reads many sentences naming the same entities."""
    folded = text.casefold()
    found, written = [], set()
    for entity in entities:
        if memo is None:
            entry = _entity(entity)
        elif (entry := memo.get(entity, _UNREAD)) is _UNREAD:
            entry = memo[entity] = _entity(entity)
        if entry is None:
            continue
        words, canonical = entry
        name = " ".join(words)
        written.update(words)
        at = folded.find(name)
        found.append((at if at >= 0 else len(folded), canonical))
    return tuple(dict.fromkeys(name for _, name in sorted(found))), frozenset(written)


_UNREAD: tuple[tuple[str, ...], str] = ((), "")


def _entity(entity: str) -> tuple[tuple[str, ...], str] | None:
    """An entity's words (no change words) and canonical name; None for a value."""
    from workers.entities import aliases

    words = [w for w in tokens(entity) if w not in CHANGE_WORDS]
    if not words or any(is_value(w) for w in words):
        return None
    return tuple(words), aliases.canonical(" ".join(words))


def _first_verb(toks: Sequence[str], values: frozenset[str] | None = None) -> int:
    """Where the predicate starts; with no verb found, after the first token
    (so "web1 port 8080" still reads web1 as its subject)."""
    for i, t in enumerate(toks):
        if t in VERBS or (
            len(t) > 4 and t.endswith("ed") and not (t in values if values is not None else is_value(t))
        ):
            return i
    return min(1, len(toks))


def _change(text: str) -> Change | None:
    if not _CHANGE_GATE.search(text):  # most sentences state no change: one search instead of six
        return None
    if m := _FROM_TO.search(text):
        return Change(kind="from-to", old=tuple(tokens(m["old"])), new=tuple(tokens(m["new"])))
    if m := _REPLACED.search(text):
        return Change(kind="replaced", old=tuple(tokens(m["old"])), new=tuple(tokens(m["new"])))
    if m := _INSTEAD.search(text):
        return Change(kind="instead", old=tuple(tokens(m["old"])))
    if _NO_LONGER.search(text):
        return Change(kind="no-longer")
    if m := _SUBJECT_TO.search(text):
        subject = tuple(t for t in tokens(m["subject"]) if t not in STOPWORDS)
        return Change(kind="subject-to", subject=subject, new=tuple(tokens(m["new"])))
    if _FROM_NOW_ON.search(text):
        return Change(kind="from-now-on")
    return None


def subject_end(text: str, toks: Sequence[str], values: frozenset[str] | None = None) -> int:
    """How many of the sentence's tokens `toks` are its subject: up to the first
    verb, or to a colon ("Billing timeout: 30s", "Dana: ..."; not 02:00).
    `values`: the tokens that are values, if the caller has them."""
    verb = _first_verb(toks, values)
    colon = text.find(":")
    if 0 < colon and not is_value(text[colon - 1 : colon + 2]):
        verb = min(verb, len(tokens(text[:colon])))
    return verb


def read(
    text: str, entities: Sequence[str], memo: dict[str, tuple[tuple[str, ...], str] | None] | None = None
) -> Reading:
    """`memo`: see `_names`."""
    toks = tokens(text)
    digit = _DIGIT.search
    values = frozenset(t for t in toks if digit(t))  # each token tested once; membership below
    verb = subject_end(text, toks, values)
    if values:
        identifiers = {t for t in toks[:verb] if t in values}
        identifiers |= {t for prev, t in zip(toks, toks[1:]) if t in values and prev in ID_NOUNS}
    else:
        identifiers = set()
    names, written = _names(text, entities, memo)
    # content words leave out the names' own words: names are compared canonically, on their own
    words = tuple(t for t in toks if t not in _SKIP and t not in values and t not in written)
    return Reading(
        tokens=tuple(toks),
        content=frozenset(words),
        words=words,
        values=values,
        subject_values=frozenset(identifiers),
        names=names,
        change=_change(text),
    )


def contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """Whether `needle` occurs in `haystack` as a contiguous run of tokens."""
    n = len(needle)
    return n > 0 and any(tuple(haystack[i : i + n]) == tuple(needle) for i in range(len(haystack) - n + 1))


def more_detail(longer: Reading, shorter: Reading) -> bool:
    """Whether `longer` says everything `shorter` does and more: its content
    words hold the other's, repeats counted ("ledger ledger writer" is not
    within "gateway ledger writer")."""
    a, b = Counter(longer.words), Counter(shorter.words)
    return b <= a and a != b


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
