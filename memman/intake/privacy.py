"""Secrets never stored by accident.

Two rules apply to every text `remember`, `replace` and `import` accept,
before anything reaches the log:

1. Text inside `<private>...</private>` (case-insensitive) is removed. An
   unclosed `<private>` hides everything after it: when in doubt, store less.
2. A likely secret refuses the whole text with one line that names its kind
   and position (never the secret), unless the caller asked to redact: then
   each secret is replaced by `[REDACTED:<kind>]` and the rest is stored.

What counts as a likely secret (`detect`), most specific first:
    provider key formats   AWS, GitHub, OpenAI/Anthropic, Slack, Stripe,
                           Google, npm, PyPI, SendGrid, Hugging Face
    private key blocks     -----BEGIN ... PRIVATE KEY-----
    JWTs, bearer tokens, Slack webhooks, URLs with a password
    assignments            password=..., api_key: ..., secret_token = ...
    "password is X"        when X looks like a value, not an English word
                           ("password is hunter2" yes; "password is stored
                           in Vault" no)
    high-entropy tokens    >= 36 characters of base64/url alphabet, upper,
                           lower case and digits, >= 4.2 bits per character
                           (git SHAs, UUIDs and ULIDs stay below by design)

False positives cost a user a retry with `--redact`; false negatives leak a
credential into a log built never to forget. The test suite holds both sets
(tests/memman/test_privacy.py): realistic secrets that must be refused and
ordinary engineering facts that must pass.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import msgspec

from events.errors import BadInput, EmptyText

PRIVATE = r"(?is)<private>.*?(?:</private>|\Z)"
PLACEHOLDERS = frozenset(
    {"password", "passwd", "pass", "secret", "token", "changeme", "example", "redacted", "none", "null", "xxx"}
)

# (kind, triggers, pattern). A pattern is compiled (by `re`, which caches it)
# only when one of its lower-case trigger strings is in the text: compiling
# them all costs ~4 ms, too much for every `remember` on the hot path.
_FORMATS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("private key", ("private key",), r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    ("AWS access key", ("akia", "asia", "abia", "acca"), r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("GitHub token", ("gh", "github_pat_"), r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"),
    ("Anthropic key", ("sk-ant-",), r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    ("OpenAI key", ("sk-",), r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}"),
    ("Stripe key", ("_live_", "_test_"), r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("Slack token", ("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Slack webhook", ("hooks.slack.com",), r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"),
    ("Google API key", ("aiza",), r"\bAIza[0-9A-Za-z_-]{35}"),
    ("npm token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("PyPI token", ("pypi-age",), r"\bpypi-AgE[A-Za-z0-9_-]{40,}"),
    ("SendGrid key", ("sg.",), r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    ("Hugging Face token", ("hf_",), r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("JWT", ("eyj",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("bearer token", ("bearer",), r"(?i:\bbearer)\s+[A-Za-z0-9._~+/-]{20,}=*"),
)
# scheme://user:PASSWORD@host — group 1 is the password.
_URL_PASSWORD = r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s@/]{3,})@[^\s]"
# password = X, api_key: "X", client-secret => X — group 1 is the value.
_ASSIGNMENT = (
    r"(?i:\b(?:[a-z0-9]+[_-])*(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|auth))\s*(?:=>|:=|=|:)\s*['\"]?([^\s'\",;]{6,})"
)
# "the password is X", "password was X" — group 1 is the value.
_PASSWORD_IS = (
    r"(?i:\b(?:password|passwd|passphrase|pin code|passcode)\s+(?:is|was|will be|=)\s*(?:now\s+|set to\s+)?)"
    r"['\"]?([^\s'\",;]+?)['\"]?(?=[\s,;.!?)]*(?:\s|$))"
)
_VALUES: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    ("password in a URL", ("://",), _URL_PASSWORD, False),
    ("credential assignment", ("pass", "pwd", "secret", "token", "key", "auth"), _ASSIGNMENT, False),
    ("password", ("pass", "pin code"), _PASSWORD_IS, True),
)
_WORDLIKE = r"^[a-z]+$"
_NOT_A_VALUE = frozenset(
    {"a", "an", "the", "in", "on", "at", "not", "never", "now", "set", "reset", "kept", "set", "still", "also",
     "only", "from", "by", "per", "for", "to", "required", "optional", "stored", "managed", "rotated", "hashed",
     "encrypted", "missing", "wrong", "correct", "invalid", "valid", "expired", "empty", "blank", "same",
     "different", "shared", "unique", "long", "short", "strong", "weak", "secret", "private", "hidden", "known",
     "unknown", "available", "needed", "mandatory", "case", "sensitive", "stale", "old", "new", "changed"}
)
_TOKEN = r"[A-Za-z0-9+/_=-]{36,}"
ENTROPY_BITS = 4.2


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    start: int
    end: int


class SecretFound(BadInput):
    """A text holds what looks like a credential; it was not stored."""


def strip_private(text: str) -> str:
    """The text without its `<private>...</private>` sections."""
    return re.sub(PRIVATE, "", text) if "<" in text else text


def _entropy(token: str) -> float:
    counts = Counter(token)
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _is_value(candidate: str, *, phrase: bool) -> bool:
    """Whether what follows `password ...` is a value rather than prose or a placeholder."""
    bare = candidate.strip("'\"`<>[]{}()*").casefold()
    if not bare or bare in PLACEHOLDERS or candidate.startswith(("$", "<", "{", "%", "os.", "env")):
        return False
    if set(bare) <= {"x", "*", "."}:
        return False
    if phrase and re.match(_WORDLIKE, candidate):
        # a plain lower-case word: prose unless it ends the sentence and is no common word
        return bare not in _NOT_A_VALUE and not bare.endswith(("ed", "ing", "ly"))
    return True


def detect(text: str) -> list[Finding]:
    """Every likely secret in `text`, in order of position, none overlapping."""
    low = text.casefold()
    found: list[Finding] = []
    for kind, triggers, pattern in _FORMATS:
        if any(t in low for t in triggers):
            found.extend(Finding(kind=kind, start=m.start(), end=m.end()) for m in re.finditer(pattern, text))
    for kind, triggers, pattern, phrase in _VALUES:
        if any(t in low for t in triggers):
            for m in re.finditer(pattern, text):
                if _is_value(m.group(1), phrase=phrase):
                    found.append(Finding(kind=kind, start=m.start(1), end=m.end(1)))
    for m in re.finditer(_TOKEN, text):
        token = m.group(0)
        mixed = any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)
        if mixed and _entropy(token) >= ENTROPY_BITS:
            found.append(Finding(kind="high-entropy token", start=m.start(), end=m.end()))
    return _without_overlaps(found)


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and f.start < kept[-1].end:
            continue
        kept.append(f)
    return kept


def redact(text: str, findings: list[Finding]) -> str:
    out, position = [], 0
    for f in findings:
        out.append(text[position : f.start])
        out.append(f"[REDACTED:{f.kind}]")
        position = f.end
    out.append(text[position:])
    return "".join(out)


def guard(text: str, *, redacting: bool = False, what: str = "text") -> str:
    """`text` as it may be stored: private sections removed, and secrets
    refused (SecretFound) or, when `redacting`, masked."""
    kept = strip_private(text)
    if not kept.strip():
        raise EmptyText(f"{what} is empty once its <private> sections are removed; nothing to remember")
    findings = detect(kept)
    if not findings:
        return kept.strip()
    if redacting:
        return redact(kept, findings).strip()
    first = findings[0]
    more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
    raise SecretFound(
        f"{what} looks like it holds a secret ({first.kind} at character {first.start + 1}{more}); "
        "not stored: remove it, wrap it in <private>...</private>, or pass --redact to store the text masked"
    )
