"""A pure-Python BERT (uncased) WordPiece tokenizer, stdlib only.

It reproduces the Hugging Face `tokenizers` pipeline that all-MiniLM-L6-v2
ships in its tokenizer.json, token id for token id, without importing
`tokenizers` or `transformers`:

1. special tokens written literally in the text (`[CLS]`, `[SEP]`, ...) are
   kept whole, as `tokenizers` does for its non-normalised added tokens;
2. BertNormalizer: drop NUL, U+FFFD and control/format characters, map
   whitespace to a space, put spaces around CJK ideographs, strip accents
   (NFD, then drop combining marks), lowercase character by character;
3. BertPreTokenizer: split on whitespace, then make every punctuation
   character a word of its own;
4. WordPiece: greedy longest match from the left, continuation pieces
   prefixed with `##`; a word longer than 100 characters, or one with a part
   that matches nothing, becomes `[UNK]`.

Pure-ASCII text, the common case, takes a regex fast path that gives the same
result. Vocabulary tables and a bounded word cache live on the instance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from workers.embedders.vocab_index import BucketVocab

__all__ = ["SPECIAL_TOKENS", "WordPieceTokenizer"]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
UNK_TOKEN = "[UNK]"
CONTINUATION = "##"
MAX_CHARS_PER_WORD = 100
INDEX_NAME = "vocab.idx"  # the prebuilt index beside vocab.txt
WORD_CACHE_SIZE = 50_000

_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
# ASCII control characters other than \t \n \r are dropped by BertNormalizer.
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# In ASCII every non-alphanumeric, non-space printable character is BERT punctuation.
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _normalize(text: str) -> str:
    """BertNormalizer for non-ASCII text: clean, pad CJK, strip accents, lowercase."""
    out: list[str] = []
    for ch in text:
        if ch in "\t\n\r":
            out.append(" ")
            continue
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or unicodedata.category(ch)[0] == "C":
            continue
        if ch.isspace():
            out.append(" ")
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFD", "".join(out))
    # `tokenizers` lowercases char by char (no final-sigma rule), so do the same.
    return "".join(c.lower() for c in decomposed if unicodedata.category(c) != "Mn")


def _split_punctuation(text: str) -> list[str]:
    words: list[str] = []
    for chunk in text.split():
        start = 0
        for i, ch in enumerate(chunk):
            if _is_punctuation(ch):
                if i > start:
                    words.append(chunk[start:i])
                words.append(ch)
                start = i + 1
        if start < len(chunk):
            words.append(chunk[start:])
    return words


class WordPieceTokenizer:
    """Text to WordPiece token ids over a BERT vocab.txt (one token per line, id = line number)."""

    def __init__(self, tokens: Sequence[str], *, index: BucketVocab | None = None) -> None:
        """From the vocab's tokens (id = position), or from its prebuilt
        `index` (workers/embedders/vocab_index.py; `tokens` is then unused)."""
        self.vocab: dict[str, int] | BucketVocab
        if index is not None:
            self.vocab, self._max_piece = index, index.max_piece
        else:
            # Built from the end so that a duplicated token keeps its first id, as BERT's loader does.
            self.vocab = dict(zip(reversed(tokens), range(len(tokens) - 1, -1, -1)))
            self._max_piece = max(map(len, tokens))
        self.unk_id = self.vocab[UNK_TOKEN]
        self.special_ids = frozenset(self.vocab[t] for t in SPECIAL_TOKENS if t in self.vocab)
        self._word_cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_vocab_file(cls, path: Path) -> WordPieceTokenizer:
        """Read a vocab.txt: one token per line, the line number is the id.
        A current `vocab.idx` beside it is used instead (a bucket is read
        when a lookup needs it, not 30k lines per process)."""
        path = Path(path)
        index = BucketVocab.open(path.with_name(INDEX_NAME), path)
        if index is not None:
            return cls((), index=index)
        tokens = path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        return cls(tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids for `text`, without [CLS]/[SEP] and without truncation."""
        if "[" in text:
            ids: list[int] = []
            for i, part in enumerate(_SPECIAL_SPLIT.split(text)):
                if i % 2:
                    ids.append(self.vocab[part])
                elif part:
                    ids.extend(self._encode_plain(part))
            return ids
        return self._encode_plain(text)

    def tokenize(self, text: str) -> list[str]:
        """Token strings for `text`; mostly for debugging and tests."""
        inverse = {i: t for t, i in self.vocab.items()}
        return [inverse[i] for i in self.encode(text)]

    def _encode_plain(self, text: str) -> list[int]:
        if text.isascii():
            words = _ASCII_WORDS.findall(_ASCII_CONTROLS.sub("", text).lower())
        else:
            words = _split_punctuation(_normalize(text))
        ids: list[int] = []
        cache = self._word_cache
        for word in words:
            pieces = cache.get(word)
            if pieces is None:
                pieces = self._wordpiece(word)
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()
                cache[word] = pieces
            ids.extend(pieces)
        return ids

    def _wordpiece(self, word: str) -> tuple[int, ...]:
        whole = self.vocab.get(word)
        if whole is not None:
            return (whole,)
        n = len(word)
        if n > MAX_CHARS_PER_WORD:
            return (self.unk_id,)
        vocab = self.vocab
        pieces: list[int] = []
        start = 0
        while start < n:
            end = min(n, start + self._max_piece)
            while end > start:
                sub = word[start:end] if start == 0 else CONTINUATION + word[start:end]
                piece = vocab.get(sub)
                if piece is not None:
                    pieces.append(piece)
                    break
                end -= 1
            else:
                return (self.unk_id,)
            start = end
        return tuple(pieces)
