"""The default extraction stage: remembered text -> atomic facts, by rules.

Offline, deterministic and fast (pure Python + `re`): no model, no network.
`RuleExtractor.extract` is a pure function of its input and the ids it mints.

Rules, in the order they run (see each helper for details):
  1. Blocks: a text is cut at blank lines, bullet or heading lines (`- `, `* `,
     `1. `, `2) `, `# `, `> `) and at newlines, except that a lowercase line
     after a long line ending mid-sentence continues it (hard-wrapped prose).
     Fenced code (```...```) stays one block, joined to the line before it.
  2. Sentences: a block is cut after `.`, `!` or `?` (plus closing quotes)
     followed by whitespace and a capital, a digit or a letter of an uncased
     script, and right after `。！？`. Never after an abbreviation (`e.g.`,
     `etc.`, `Dr.`, `U.S.`), a single initial (`J. Smith`) or an ellipsis, nor
     inside backticks. Dots with no whitespace after them (3.11.7, config.toml,
     URLs, paths) are never candidates.
  3. Facts: each sentence is a fact, but one with fewer than 4 words (CJK
     characters count as words) or led by an anaphoric word (`It`, `This`,
     `But`, ...) joins the fact before it, and a short first sentence joins the
     one after it. Past `max_facts`, the rest of the text joins the last fact.
     A fact's text is its span of the input with whitespace collapsed (a bullet
     marker at its start dropped), so it always occurs in the input modulo
     whitespace: nothing is rewritten and nothing is dropped.
  4. Entities (`extract_entities`): special tokens first (URLs, emails,
     `code`, paths, money, ISO dates, numbers with units, `port N`, versions,
     --flags, file and dotted names, snake_case, digit-bearing kebab names
     like gpt-4o, camelCase), then runs of capitalised words in what is left,
     trimmed of function words (`_STOP`) and, at a sentence start, of common
     words (`_COMMON`). Per fact: user entities first, then up to
     `MAX_ENTITIES` from the text.
  5. Category (only when the user gave "general"): the first of decision,
     preference, insight, context whose cue occurs (`_CATEGORY_CUES`); else
     "fact" for a statement (not a question) naming a text entity; else
     "general".
  6. Warnings, advisory: transient cues, receipts (line numbers), long text.

Bounded work on huge inputs: sentence splitting stops once `max_facts` is
reached, and entities and category look at the first `SCAN_CHARS` of a fact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

import msgspec

from events.lazyre import LazyPattern, lazy
from events.types import CATEGORIES, Fact, MemoryId
from workers.stages.upper_class import UNIDATA_VERSION, UPPER_CLASS

__all__ = [
    "ExtractInput",
    "ExtractOutput",
    "RuleExtractor",
    "extract_entities",
    "split_sentences",
]

MIN_WORDS = 4  # a sentence with fewer words is a fragment of its neighbour
MAX_ENTITIES = 32  # text entities kept per fact (user entities are always kept)
SCAN_CHARS = 20_000  # entities and category look at this much of one fact
LONG_TEXT = 2_000  # longer input texts get an advisory warning
WARN_SCAN_CHARS = 100_000  # warnings look at this much of the input
MAX_WARNINGS = 10


class ExtractInput(msgspec.Struct, frozen=True, kw_only=True):
    memory_id: str  # the input's id; the first fact keeps it
    text: str
    category: str  # as given by the user; "general" means "not given, infer it"
    importance: int  # 1-5 as given
    entities: list[str]  # user-supplied; always kept (first), de-duplicated case-insensitively


class ExtractOutput(msgspec.Struct, frozen=True, kw_only=True):
    facts: list[Fact]
    warnings: list[str]  # advisory only, e.g. "looks transient: 'currently'"


# ---------------------------------------------------------------- sentences

_ANAPHORA = frozenset(
    "it this that these those they he she its also but so because which and then "
    "or thus hence however therefore it's that's they're he's she's".split()
)
_ABBREVIATIONS = frozenset(
    "e.g. i.e. etc. vs. cf. viz. al. approx. ca. dr. mr. mrs. ms. prof. st. jr. sr. "
    "inc. ltd. co. corp. dept. est. fig. no. resp.".split()
)
_BULLET_PREFIX = r"[ \t]*(?:[-*•+>]|\d{1,3}[.)]|#{1,6})[ \t]+"
_BULLET = lazy(_BULLET_PREFIX + r"(?=\S)")
_LINE_PREFIX = lazy(_BULLET_PREFIX + r"|[ \t]*")
# The lookahead is a cheap pre-filter; `_is_boundary` decides.
_TERMINAL = lazy(
    r"([.!?…]+)[\"'”’)\]]*(\s+)(?=[\"'“‘(\[`]*[^\W_a-z])"  # Latin-style: needs whitespace
    r"|[。！？]+\s*"  # CJK full stops: no whitespace needed
)
_NON_SPACE = lazy(r"\S")
_DOTTED_ABBREV = lazy(r"(?:[A-Za-z]\.)+[A-Za-z]")
# URLs, paths and versions hold no whitespace, so they never hold a boundary;
# code may.
_PROTECTED = lazy(r"```.*?(?:```|\Z)|`[^`\n]+`", re.S)
_OPENERS = "\"'“‘([`"
_CJK_CHAR = lazy(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WRAP_WIDTH = 40  # a line at least this long may be hard-wrapped prose


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Spans of line groups: paragraphs' lines, bullets, fenced code (rule 1)."""
    start = end = -1
    in_fence = False
    pos, n = 0, len(text)
    while pos < n:
        nl = text.find("\n", pos)
        le = n if nl < 0 else nl
        line = text[pos:le]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if in_fence:
            end = le
            in_fence = not stripped.startswith("```")
        elif not stripped:
            if start >= 0:
                yield start, end
            start = -1
            more = _NON_SPACE.search(text, le)
            if more is None:
                return
            le = text.rfind("\n", le, more.start())  # skip a run of blank lines at once
        else:
            bullet = _BULLET.match(line)
            joins = _wraps(text, end, stripped) or stripped.startswith("```")
            if start >= 0 and not bullet and joins:
                end = le  # continues the line before: wrapped prose, or code it introduces
            else:
                if start >= 0:
                    yield start, end
                start, end = pos + (bullet.end() if bullet else indent), le
            if stripped.startswith("```") and stripped.count("```") == 1:
                in_fence = True
        pos = le + 1
    if start >= 0:
        yield start, end


def _wraps(text: str, prev_end: int, line: str) -> bool:
    """Whether `line` continues prose hard-wrapped at `prev_end`, not a new note:
    it starts in lowercase after a long line that ends mid-sentence."""
    prev_start = text.rfind("\n", 0, prev_end) + 1
    prev = text[prev_start:prev_end].rstrip()
    return line[0].islower() and len(prev) >= WRAP_WIDTH and prev[-1] not in ".!?:;。！？"


def _is_boundary(text: str, m: re.Match[str], block_start: int) -> bool:
    """Whether a terminal-punctuation match really ends a sentence (rule 2)."""
    term = m.group(1)
    if term is None:  # CJK full stop: always, unless nothing follows
        return True
    if "…" in term or ".." in term:
        return False
    nxt = m.end()
    while nxt < len(text) and text[nxt] in _OPENERS:
        nxt += 1
    if nxt >= len(text):
        return False
    head = text[nxt]
    # A capital or digit starts a sentence; so does any letter of an uncased script.
    if not (head.isupper() or head.isdigit() or (head.isalpha() and not head.islower())):
        return False
    if term != ".":
        return True
    window = text[max(block_start, m.start() - 24) : m.start()]
    token = window.split()[-1].lstrip(_OPENERS) if window and not window[-1].isspace() else ""
    if not token:
        return True
    return not (
        (token.lower() + ".") in _ABBREVIATIONS
        or (len(token) == 1 and token.isupper())
        or _DOTTED_ABBREV.fullmatch(token) is not None
    )


def _sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of sentences, lazily, in order (rules 1 and 2)."""
    protected = [(p.start(), p.end()) for p in _PROTECTED.finditer(text)]
    k = 0
    for bs, be in _blocks(text):
        start = bs
        for m in _TERMINAL.finditer(text, bs, be):
            while k < len(protected) and protected[k][1] <= m.start():
                k += 1
            if k < len(protected) and protected[k][0] <= m.start():
                continue  # inside code
            if m.end() < be and _is_boundary(text, m, bs):
                end = m.start(2) if m.group(1) is not None else m.end()
                yield start, _rstrip_end(text, start, end)
                start = m.end()
        if start < be:
            yield start, _rstrip_end(text, start, be)


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _collapse(text: str) -> str:
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` (rules 1 and 2), whitespace-collapsed."""
    spans = (_collapse(text[s:e]) for s, e in _sentence_spans(text))
    return [s for s in spans if s]


def _word_count(fragment: str) -> int:
    words = len(fragment.split())
    if words >= MIN_WORDS or _CJK_CHAR.search(fragment) is None:
        return words
    return words + len(_CJK_CHAR.findall(fragment))  # CJK has no spaces: count characters


def _is_fragment(fragment: str) -> bool:
    if _word_count(fragment) < MIN_WORDS:
        return True
    first = fragment.split(maxsplit=1)[0].strip(_OPENERS + ",;:.!?…").lower()
    return first in _ANAPHORA


def _fact_spans(text: str, max_facts: int) -> list[tuple[int, int]]:
    """Sentence spans grouped into at most `max_facts` facts (rule 3)."""
    spans: list[list[int]] = []
    for s, e in _sentence_spans(text):
        if s >= e:
            continue
        if not spans:
            spans.append([s, e])
        elif _is_fragment(text[s:e]) or (
            len(spans) == 1 and _word_count(text[spans[0][0] : spans[0][1]]) < MIN_WORDS
        ):
            spans[-1][1] = e
        elif len(spans) >= max_facts:
            spans[-1][1] = _rstrip_end(text, s, len(text))
            break
        else:
            spans.append([s, e])
    return [(s, e) for s, e in spans]


# ---------------------------------------------------------------- entities


def _upper_class() -> str:
    """A regex class of the upper-case letters in the first 8,192 code points."""
    cps = [cp for cp in range(0x2000) if chr(cp).isupper()]
    ranges: list[str] = []
    lo = cps[0]
    for prev, cp in zip(cps, cps[1:] + [-1]):
        if cp != prev + 1:
            ranges.append(chr(lo) if lo == prev else f"{chr(lo)}-{chr(prev)}")
            lo = cp
    return "[" + "".join(ranges) + "]"


# The class is shipped precomputed (workers/stages/upper_class.py); another
# Unicode database than the one it was generated from recomputes it.
_UPPER = UPPER_CLASS if unicodedata.unidata_version == UNIDATA_VERSION else _upper_class()

_UNITS_SPACED = (
    r"ms|µs|ns|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|weeks?|months?|years?"
    r"|[kmgtp]i?b|bytes?|[kmg]bps|rps|qps|rpm|tps|req/s|ops/s|tokens?|cores?|vcpus?|ghz|mhz|fps|px"
)
_SPECIAL = lazy(
    r"(?<![\w/.\\@-])(?:"  # only at the start of a token: keeps the scan linear
    r"(?P<url>https?://[^\s<>\"'`]+)"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<tick>`[^`\n]+`)"
    r"|(?P<winpath>[A-Za-z]:\\[^\s\"'<>|*?`]*)"
    r"|(?P<path>(?:~|\.{1,2})?(?:/(?:[\w@%+~-]|\.(?=[\w~-]))+)+/?)"
    r"|(?P<money>[$€£¥]\d[\d,]*(?:\.\d+)?(?:[kKmMbB](?!\w))?)"
    r"|(?P<date>\d{4}-\d{2}-\d{2}(?!\w))"
    r"|(?P<unit>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    rf"(?:%|(?i:[ ]?(?:{_UNITS_SPACED})|s|h|us|x|k)(?![\w/])))"
    r"|(?P<port>(?i:port)[ \t]+\d{2,5}(?!\w))"
    r"|(?P<version>[vV]\d+(?:\.\d+)*(?:-?(?:rc|alpha|beta|dev|pre|post|a|b)\.?\d*)?(?![\w.]*\w)"
    r"|\d+(?:\.\d+)+(?:-?(?:rc|alpha|beta|dev|pre|post|a|b)\.?\d*)?(?![\w.]*\w))"
    r"|(?P<flag>--[A-Za-z](?:[\w-]*\w)?)"
    r"|(?P<relpath>(?:[\w.-]+/)+(?:[\w-]+\.)+[A-Za-z0-9]{1,10}(?![\w/])"
    r"|(?:[\w.-]+/)+(?![\w])|[\w.-]*\w(?:/[\w.-]*\w){2,})"
    r"|(?P<dotted>[A-Za-z_][\w-]*(?:\.[A-Za-z0-9_][\w-]*)+)"
    r"|(?P<snake>\w*_\w*)"
    r"|(?P<kebab>(?=[A-Za-z0-9-]*\d)[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+(?!\w))"
    r"|(?P<camel>[a-z][a-z0-9]*[A-Z]\w*)"
    r")"
)
# A text without any of these cannot hold a special token (each alternative
# above needs one: ':' in URLs and Windows paths, '/' in paths, a digit in
# dates, units, ports, versions and kebab names, '--' in flags, '.' before a
# word character in dotted names, '_' in snake names, a lower-case word start
# before an upper-case letter in camel names). Checking first skips compiling
# _SPECIAL (~7 ms) for most queries a recall extracts entities from; a test
# checks that the gate never hides a match.
_MAYBE_SPECIAL = lazy(r"[:@`\\/$€£¥_\d]|--|\.\w|(?<![\w/.\\@-])[a-z][a-z0-9]*[A-Z]")
_CAPWORD = _UPPER + r"\w*(?:['’-]\w+)*"
_CAP_RUN = lazy(rf"(?<![\w@#$/\\.'’-]){_CAPWORD}(?:[ ]{_CAPWORD})*")
_TRAILING_PUNCT = ".,;:!?'\"”’"

# Function words: never the edge of a name ("the", "I", "it" in "the IT team").
_STOP = frozenset(
    """a an the and or but nor so yet if then else when while where why how what which who
    whom whose that this these those there here it its i me my mine we us our you your he him
    his she her they them their is are was were be been being am do does did have has had will
    would shall should can could may might must not no yes of on in at by to for from with
    without into onto about above below over under between through across against among as
    via per vs than all any some each every both either neither few many much more most
    other such only same too very just mr mrs ms dr prof""".split()
)
# Also dropped at the start of a sentence: words that start sentences, not names.
_COMMON = _STOP | frozenset(
    """always never often sometimes usually maybe perhaps please note use uses used using
    chose choose chosen prefer prefers preferred decided decide avoid make keep set add run
    check remember see try let get got go going went need needs want wants like likes think
    know found find turns turned currently today tomorrow yesterday now right still already
    again after before during until since because although though however therefore thus
    hence instead otherwise meanwhile first second third next last finally also ok okay hi
    hello thanks thank sure true false none null good bad best better important todo fixme
    nb fyi warning tip done don't doesn't didn't can't won't isn't aren't wasn't i'm i've
    we're we've it's that's let's there's once each install update upgrade remove delete
    create start stop ask tell call store save load read write send move switch wait edit
    open close fix test build deploy push pull merge commit review configure enable disable
    restart rename replace follow ensure consider look put give take show""".split()
)
_SUFFIXES = ("ly", "ing", "ed")


def _special_value(m: re.Match[str]) -> str | None:
    """The entity a special-token match stands for, or None to ignore it."""
    kind, value = m.lastgroup, m.group()
    if kind == "tick":
        return value.strip("`").strip() or None
    if kind in ("url", "winpath", "path"):
        value = value.rstrip(_TRAILING_PUNCT + ")]}")
        return value if len(value) > 1 else None
    if kind == "dotted" and all(len(p) == 1 for p in value.split(".")):
        return None  # e.g, i.e, U.S, a.m
    if kind == "snake" and not any(c.isalpha() for c in value):
        return None
    if kind in ("unit", "port"):
        return _collapse(value)
    return value


def _is_initial(masked: str, start: int) -> bool:
    """Whether position `start` begins a sentence, line or list item."""
    j = start - 1
    while j >= 0 and masked[j] in " \t\"'“‘([":
        j -= 1
    if j < 0 or masked[j] in ".!?:;…。\n":
        return True
    line_start = masked.rfind("\n", max(0, start - 16), j + 1) + 1
    if line_start == 0 and start > 16:
        return False  # too far from a line start to follow only a bullet marker
    return _LINE_PREFIX.fullmatch(masked, line_start, start) is not None


def _run_entities(masked: str, m: re.Match[str]) -> Iterator[tuple[int, str]]:
    """Names in one run of capitalised words (see `_STOP` and `_COMMON`)."""
    pieces: list[list[tuple[int, str]]] = [[]]
    pos = m.start()
    for word in m.group().split(" "):
        if word[-2:] in ("'s", "’s"):
            pieces[-1].append((pos, word[:-2]))
            pieces.append([])
        else:
            pieces[-1].append((pos, word))
        pos += len(word) + 1
    for words in pieces:
        if words and _is_initial(masked, words[0][0]):
            while words and words[0][1].lower() in _COMMON:
                words = words[1:]
        while words and words[0][1].lower() in _STOP:
            words = words[1:]
        while words and words[-1][1].lower() in _STOP:
            words = words[:-1]
        if not words or (len(words) == 1 and len(words[0][1]) < 2):
            continue
        first_pos, first = words[0]
        if len(words) == 1 and first[1:].islower() and first.endswith(_SUFFIXES):
            if _is_initial(masked, first_pos):
                continue  # "Apparently", "Deploying": sentence-initial words
        yield first_pos, " ".join(w for _, w in words)


def _text_entities(text: str, limit: int | None = None) -> list[str]:
    """Special tokens, then capitalised runs in the text with those tokens masked."""
    found: list[tuple[int, str]] = []
    pieces: list[str] = []
    last = 0
    for m in _SPECIAL.finditer(text) if _MAYBE_SPECIAL.search(text) else ():
        value = _special_value(m)
        if value is not None:
            found.append((m.start(), value))
            pieces.append(text[last : m.start()])
            pieces.append("\x01" * (m.end() - m.start()))
            last = m.end()
    pieces.append(text[last:])
    masked = "".join(pieces)
    for m in _CAP_RUN.finditer(masked) if any(map(str.isupper, masked)) else ():  # a run starts upper-case
        found.extend(_run_entities(masked, m))
    found.sort(key=lambda pair: pair[0])
    return _dedupe([value for _, value in found], limit=limit)


def _dedupe(
    values: list[str], *, seen: set[str] | None = None, limit: int | None = None
) -> list[str]:
    """`values` in order, without case-insensitive repeats (of each other or of `seen`)."""
    seen = set() if seen is None else seen
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(value)
            if limit is not None and len(out) >= limit:
                break
    return out


def extract_entities(text: str) -> list[str]:
    """Names, identifiers, paths, URLs, versions and quantities in `text`.

    In order of first appearance, de-duplicated case-insensitively.
    """
    return _text_entities(text)


# ---------------------------------------------------------------- categories and warnings

# The strongest cue wins, in this order: an explicit choice outlives a taste,
# a taste outlives an explanation, and a situation ("currently") is weakest.
_CATEGORY_CUES: tuple[tuple[str, LazyPattern], ...] = tuple(
    (name, lazy(pattern, re.I))
    for name, pattern in (
        (
            "decision",
            r"\b(?:decided|decision|chose|chosen|we will|we'll|going with|switched to|switching to"
            r"|adopt|adopted|adopting|picked|settled on|opted for)\b",
        ),
        (
            "preference",
            r"\b(?:prefer|prefers|preferred|preferring|preference|favou?rite|rather"
            r"|always us(?:e|es|ing)|never us(?:e|es|ing)"
            r"|(?:i|we|you|they|he|she|users?)(?: really| also| do not| don't| would|'d)?"
            r" (?:like|likes|love|loves|hate|hates|dislike|dislikes))\b",
        ),
        (
            "insight",
            r"\b(?:learned|learnt|realised|realized|turns out|turned out|because|the reason"
            r"|root cause|lessons?)\b",
        ),
        ("context", r"\b(?:currently|working on|this sprint|today|right now|at the moment)\b"),
    )
)
_TRANSIENT = lazy(r"\b(?:currently|right now|today|at the moment|next steps?|todo)\b", re.I)
_RECEIPT = lazy(
    r"\b[Ll]ines? \d+(?:\s*[-–]\s*\d+)?\b|(?<![\w])#?L\d{2,}(?:-L?\d+)?\b"
    r"|(?<![\w./\\-])[\w./\\-]*\.[A-Za-z0-9]{1,10}:\d+(?::\d+)?:?"
)


def _infer_category(fact_text: str, text_entities: list[str]) -> str:
    for name, pattern in _CATEGORY_CUES:
        if pattern.search(fact_text):
            return name
    if text_entities and not fact_text.rstrip().endswith("?"):
        return "fact"  # a statement about something named
    return "general"


def _warnings(text: str) -> list[str]:
    out: list[str] = []
    for kind, pattern in (("looks transient", _TRANSIENT), ("looks like a receipt", _RECEIPT)):
        cues = _dedupe([m.group() for m in pattern.finditer(text, 0, WARN_SCAN_CHARS)])
        out.extend(f"{kind}: {cue!r}" for cue in cues)
    if len(text) > LONG_TEXT:
        out.append(f"very long text: {len(text)} chars (over {LONG_TEXT}); consider splitting it")
    return out[:MAX_WARNINGS]


# ---------------------------------------------------------------- the stage


class RuleExtractor:
    """Turns one remembered text into at most `max_facts` atomic facts."""

    implementation = "rules"
    version = "1"  # bump when the rules change (it is recorded in events)

    def __init__(self, *, max_facts: int = 8) -> None:
        if max_facts < 1:
            raise ValueError(f"max_facts must be at least 1, not {max_facts}")
        self.max_facts = max_facts

    def extract(self, item: ExtractInput, new_id: Callable[[], str]) -> ExtractOutput:
        text = item.text
        spans = _fact_spans(text, self.max_facts) or [(0, len(text))]
        user = _dedupe([e.strip() for e in item.entities])
        infer = item.category == "general" or item.category not in CATEGORIES
        facts: list[Fact] = []
        for i, (start, end) in enumerate(spans):
            fact_text = _collapse(text[start:end])
            # Entities come from the raw span: its line breaks tell where lines begin.
            found = _text_entities(text[start : min(end, start + SCAN_CHARS)], MAX_ENTITIES)
            seen = {e.casefold() for e in user}
            entities = user + _dedupe(found, seen=seen)
            category = _infer_category(fact_text[:SCAN_CHARS], found) if infer else item.category
            facts.append(
                Fact(
                    memory_id=MemoryId(item.memory_id if i == 0 else new_id()),
                    text=fact_text,
                    category=category,  # type: ignore[arg-type]
                    importance=item.importance,
                    entities=entities,
                )
            )
        warnings = _warnings(text)
        if item.category not in CATEGORIES:
            warnings.insert(0, f"unknown category {item.category!r}; inferred one instead")
        return ExtractOutput(facts=facts, warnings=warnings)
