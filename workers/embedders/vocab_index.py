"""A prebuilt index of a WordPiece vocab.txt, read a bucket at a time.

Building the tokenizer's token -> id dict from the 30,522 lines of
all-MiniLM's vocab.txt costs 5-10 ms, paid by every cold recall that embeds
its query, which looks up perhaps twenty tokens. `vocab.idx`, shipped beside
vocab.txt, groups the tokens in buckets by first character (continuation
pieces by `##` and their first character; non-ASCII first characters share
one bucket); a lookup builds the dict of its
bucket only (a few hundred entries), so a query pays ~1 ms in all.

Format (UTF-8): one JSON header line, then the buckets' blocks. Header:
`format`, `tokens` (the vocab's line count: ids run 0..tokens-1),
`source_bytes` and `source_crc32` (vocab.txt's size and CRC-32, checked on
every open, ~0.3 ms: an index of another vocab.txt is ignored), `max_piece`
(the longest token), and `buckets`: key -> [start, end] byte offsets of its
block after the header line (only a bucket that is used gets decoded). A bucket's first SCAN_PROBES
lookups search its bytes instead of building its dict (a query makes a few
per bucket). A block is the bucket's tokens
joined by newlines, a unit separator (U+001F), then their ids joined by
spaces. A token listed twice keeps its first id, as BERT's loader does.

    write_index(directory / "vocab.txt", directory / "vocab.idx")  # tools/build_static_model.py
    vocab = BucketVocab.open(directory / "vocab.idx", directory / "vocab.txt")  # None if missing or stale
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["FORMAT", "BucketVocab", "bucket_key", "write_index"]

FORMAT = 1
_SEP = "\x1f"
_OTHER = "\x7f"  # the bucket of tokens that start with a non-ASCII character
SCAN_PROBES = 48  # lookups in one bucket answered by a byte search before its dict is built


def bucket_key(token: str) -> str:
    """`##` (for continuation pieces) and the first character; every token
    that starts with a non-ASCII character shares one bucket, which keeps the
    header small (a few hundred buckets, not ~2,000)."""
    prefix, rest = ("##", token[2:]) if token.startswith("##") else ("", token)
    first = rest[:1]
    return prefix + (first if first.isascii() else _OTHER)


def write_index(vocab_txt: Path, out: Path) -> None:
    """Write the index of `vocab_txt` (one token per line, id = line number) to `out`."""
    raw = vocab_txt.read_bytes()
    tokens = raw.decode("utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    first: dict[str, int] = {}
    for i, token in enumerate(tokens):
        first.setdefault(token, i)
    buckets: dict[str, list[tuple[str, int]]] = {}
    for token, i in first.items():
        buckets.setdefault(bucket_key(token), []).append((token, i))
    blocks: list[bytes] = []
    offsets: dict[str, list[int]] = {}
    at = 0
    for key in sorted(buckets):
        pairs = buckets[key]
        block = ("\n".join(t for t, _ in pairs) + _SEP + " ".join(str(i) for _, i in pairs)).encode("utf-8")
        offsets[key] = [at, at + len(block)]
        blocks.append(block)
        at += len(block)
    header = {
        "format": FORMAT,
        "tokens": len(tokens),
        "source_bytes": len(raw),
        "source_crc32": zlib.crc32(raw),
        "max_piece": max(map(len, tokens)),
        "buckets": offsets,
    }
    out.write_bytes(json.dumps(header, ensure_ascii=True).encode("ascii") + b"\n" + b"".join(blocks))


class BucketVocab:
    """token -> id, a dict per bucket built on first use; see the module docstring."""

    def __init__(self, body: bytes, tokens: int, max_piece: int, buckets: dict[str, list[int]]) -> None:
        self._body = body
        self._size = tokens
        self.max_piece = max_piece
        self._offsets = buckets
        self._loaded: dict[str, dict[str, int]] = {}
        self._raw: dict[str, tuple[bytes, bytes]] = {}  # bucket -> (b"\n" + names + b"\n", ids)
        self._probes: dict[str, int] = {}

    @classmethod
    def open(cls, index: Path, vocab_txt: Path) -> BucketVocab | None:
        """The index at `index`, or None when it is missing, unreadable, of
        another format, or not built from `vocab_txt` as it is now."""
        try:
            header_line, _, body = index.read_bytes().partition(b"\n")
            header = json.loads(header_line)
            if header.get("format") != FORMAT:
                return None
            source = vocab_txt.read_bytes()
            if header["source_bytes"] != len(source) or header["source_crc32"] != zlib.crc32(source):
                return None
            return cls(body, int(header["tokens"]), int(header["max_piece"]), header["buckets"])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            return None

    def _bucket(self, key: str) -> dict[str, int]:
        found = self._loaded.get(key)
        if found is None:
            span = self._offsets.get(key)
            if span is None:
                found = {}
            else:
                names, _, ids = self._body[span[0] : span[1]].decode("utf-8").partition(_SEP)
                found = dict(zip(names.split("\n"), map(int, ids.split())))
            self._loaded[key] = found
        return found

    def get(self, token: str, default: int | None = None) -> int | None:
        if not token:
            return default
        key = bucket_key(token)
        bucket = self._loaded.get(key)
        if bucket is not None:
            return bucket.get(token, default)
        probes = self._probes.get(key, 0)
        if probes >= SCAN_PROBES:  # a busy bucket (a long text, a warm process): build its dict once
            return self._bucket(key).get(token, default)
        self._probes[key] = probes + 1
        return self._scan(key, token, default)

    def _scan(self, key: str, token: str, default: int | None) -> int | None:
        """One lookup by a search of the bucket's bytes: a query's few dozen
        lookups cost less than building the dicts of ~20 buckets (~2 ms)."""
        if "\n" in token:  # no token holds one, and it would match across lines
            return default
        raw = self._raw.get(key)
        if raw is None:
            span = self._offsets.get(key)
            if span is None:
                return default
            names, _, ids = self._body[span[0] : span[1]].partition(_SEP.encode())
            raw = self._raw[key] = (b"\n" + names + b"\n", ids)
        names, ids = raw
        at = names.find(b"\n" + token.encode("utf-8", "surrogatepass") + b"\n")  # a lone surrogate matches nothing
        if at < 0:
            return default
        index = names.count(b"\n", 0, at)  # the token's line within the bucket
        return int(ids.split(b" ", index + 1)[index])

    def __getitem__(self, token: str) -> int:
        found = self.get(token)
        if found is None:
            raise KeyError(token)
        return found

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and self.get(token) is not None

    def __len__(self) -> int:
        return self._size

    def items(self) -> Iterator[tuple[str, int]]:
        for key in self._offsets:
            yield from self._bucket(key).items()
