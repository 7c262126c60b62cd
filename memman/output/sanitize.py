"""Text is data: the one sanitiser for everything memman prints for a person
to read in a terminal (recall, log, insights show, events list).

Memory text comes from agents, imports and web pages, so it may carry
terminal control: ANSI/VT escape sequences (clear the screen, move the
cursor, recolour), OSC sequences (set the window title, write the clipboard
with OSC 52, hyperlinks), C0/C1 control characters, Unicode bidi overrides
that make text read differently from what it is (Trojan Source), and
zero-width characters that hide content. `for_terminal` makes all of it
inert and visible:

- escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte ESC) are
  removed whole, with their payload, so an OSC 52 clipboard write leaves
  nothing behind;
- any other C0/C1 control character becomes a visible `\\xNN` (tab and
  newline included: a rendered line stays one line);
- bidi controls become a visible `<U+202E>`;
- zero-width characters (and the BOM, soft hyphen) are removed.

JSON output is not sanitised: a serializer escapes control characters, and a
program reading JSON must get the stored text exactly. `--raw` on the text
commands opts out, for a person who wants the bytes as stored.
"""

from __future__ import annotations

import re

# ESC [ ... final byte; ESC ] ... (BEL | ESC \); ESC P/X/^/_ ... ESC \; ESC + one byte.
# The 8-bit forms (CSI 0x9b, OSC 0x9d, DCS 0x90, ...) likewise. A string left
# unterminated runs to the end of the text and is removed to there.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[ -/]*[0-~]?"
)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ANY_SPECIAL = re.compile(
    "[\x00-\x1f\x7f-\x9f" + "".join(sorted(_BIDI)) + "".join(sorted(_INVISIBLE)) + "]"
)


def for_terminal(text: str) -> str:
    """`text` with every terminal control made inert (see the module doc)."""
    if not _ANY_SPECIAL.search(text):  # the common case: nothing to do
        return text
    text = _SEQUENCES.sub("", text)
    out = []
    for ch in text:
        if ch in _INVISIBLE:
            continue
        if ch in _BIDI:
            out.append(f"<U+{ord(ch):04X}>")
        elif _CONTROL.match(ch):
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def keep(text: str) -> str:
    """The `--raw` choice: the text exactly as stored."""
    return text
