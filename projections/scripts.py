"""Text in scripts that do not put spaces between words, and emoji.

FTS5's unicode61 tokenizer makes one token of a whole run of Chinese or
Japanese ("我们决定使用数据库" is one "word"), so a query for 数据库 cannot
match it; it drops emoji altogether. Memories holding such characters ("wide"
text here) are therefore also indexed by a second FTS5 table with the trigram
tokenizer (`memories_wide`, projections/memories.py), which matches any
substring of three or more characters. English-only memories never enter it,
so it costs nothing for stores that do not need it.

Queries: each run of wide characters in the query becomes terms for that
table: a run of three or more characters gives its overlapping trigrams
(OR-ed, so bm25 ranks memories that hold more of the run, and rarer parts of
it, first: "数据库在哪里" finds a memory that says 数据库); a run of one or two
characters, which trigrams cannot match, is looked up with LIKE over the wide
table only (small: just the memories holding such text). Latin words in the
same query still go to the main index.

Covered: CJK ideographs (with extensions and compatibility forms), kana
(with half-width), Hangul (Korean spaces its words, but attaches particles:
데이터베이스를), Thai, Lao, Khmer, Myanmar, and emoji (pictographs, symbols,
dingbats, flags, with ZWJ sequences, variation selectors and skin tones).
"""

from __future__ import annotations

import re

from events.lazyre import lazy
from projections.fts import fts_any

# (first, last) code points of the wide ranges
RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x2190, 0x21FF),  # arrows (↩️)
    (0x2300, 0x23FF),  # technical symbols (⌚ ⏰)
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats (☕ ✅ ❤)
    (0x2B00, 0x2BFF),  # stars, arrows (⭐ ⬆)
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility Jamo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x1F000, 0x1FAFF),  # emoji: mahjong .. symbols and pictographs extended A, flags, skin tones
    (0x20000, 0x3FFFF),  # CJK extensions B..
)
_JOINERS = "\u200d\ufe0f\ufe0e"  # zero-width joiner, variation selectors: inside emoji sequences
_CLASS = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in RANGES)
# Compiled on first use (~4 ms: a class of large code points), and only for
# text that is not pure ASCII: no wide range starts below U+0E00.
_RUN = lazy(f"[{_CLASS}][{_CLASS}{_JOINERS}]*")
# For the projection's triggers: SQLite GLOB takes UTF-8 ranges.
GLOB = "*[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in RANGES) + "]*"
TRIGRAM = 3
MAX_TERMS = 24


def has_wide(text: str) -> bool:
    return not text.isascii() and _RUN.search(text) is not None


def runs(text: str) -> list[str]:
    """The runs of wide characters in `text`, in order, de-duplicated."""
    if text.isascii():
        return []
    return list(dict.fromkeys(m.group(0).strip(_JOINERS) for m in _RUN.finditer(text)))


def trigrams(run: str) -> list[str]:
    """Overlapping three-character pieces of a run (the run itself if shorter)."""
    if len(run) <= TRIGRAM:
        return [run]
    return list(dict.fromkeys(run[i : i + TRIGRAM] for i in range(len(run) - TRIGRAM + 1)))


def wide_terms(text: str) -> tuple[list[str], list[str]]:
    """(trigram-matchable terms, short terms for LIKE) from the wide runs of `text`."""
    long: list[str] = []
    short: list[str] = []
    for run in runs(text):
        if len(run) >= TRIGRAM:
            long.extend(trigrams(run))
        else:
            short.append(run)
    return list(dict.fromkeys(long))[:MAX_TERMS], short[:MAX_TERMS]


def fts_query(terms: list[str]) -> str | None:
    return fts_any(terms) or None


def like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
