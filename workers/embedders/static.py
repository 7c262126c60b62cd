"""The `static` embedder: memman's default, local, offline embedding provider.

Each WordPiece token of all-MiniLM-L6-v2's vocabulary has a fixed 256-d vector,
distilled from the full model with the model2vec method by
tools/build_static_model.py and shipped in assets/minilm-static/. A text's
vector is the mean of its tokens' vectors, L2-normalised. No torch, no network
and no model runtime: loading memory-maps a 16 MB float16 table, and a query
costs a tokenisation and a few row lookups (tens of microseconds).

It is symmetric, so `kind` is accepted and ignored. Special tokens and [UNK]
are dropped before pooling; a text left with no tokens gets a zero row. Only
the first `max_tokens` tokens of a text count (512, as in config.json).

This module imports numpy at the top: it is only imported on the embedding path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import numpy as np

from events.errors import ProviderUnavailable
from workers.embedders.base import Fingerprint, InputKind
from workers.embedders.wordpiece import WordPieceTokenizer

__all__ = ["MODEL_NAME", "PROVIDER", "StaticEmbedder", "default_path"]

PROVIDER = "static"
MODEL_NAME = "minilm-l6-static-256"
ARTIFACT_FILES = ("embeddings.npy", "vocab.txt", "config.json")


def default_path() -> Path:
    """Where the shipped artifact lives, inside the installed package."""
    return Path(__file__).resolve().parent / "assets" / "minilm-static"


class StaticEmbedder:
    """Mean of static token vectors; see the module docstring."""

    def __init__(
        self, table: np.ndarray, tokenizer: WordPieceTokenizer, *, build: str, max_tokens: int
    ) -> None:
        if table.ndim != 2 or table.shape[0] != len(tokenizer.vocab):
            raise ValueError(f"table shape {table.shape} does not match a vocab of {len(tokenizer.vocab)}")
        self.fingerprint = Fingerprint(
            provider=PROVIDER, model=MODEL_NAME, dim=int(table.shape[1]), build=build
        )
        self._table = table
        self._tokenizer = tokenizer
        self._drop = tokenizer.special_ids | {tokenizer.unk_id}
        self._max_tokens = max_tokens

    @classmethod
    def load(cls, path: Path | None = None) -> StaticEmbedder:
        """Open an artifact directory (the shipped one by default); the table is memory-mapped."""
        directory = default_path() if path is None else Path(path)
        missing = [name for name in ARTIFACT_FILES if not (directory / name).is_file()]
        if missing:
            raise ProviderUnavailable(
                f"static embedder files missing in {directory}: {', '.join(missing)}; "
                "reinstall memman or rebuild with tools/build_static_model.py"
            )
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        table = np.load(directory / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        if table.shape[1] != config["dim"]:
            raise ProviderUnavailable(
                f"static embedder in {directory} is inconsistent: table has {table.shape[1]} "
                f"columns, config.json says dim {config['dim']}; rebuild it"
            )
        tokenizer = WordPieceTokenizer.from_vocab_file(directory / "vocab.txt")
        return cls(
            table, tokenizer, build=config["build"], max_tokens=config["tokenizer"]["max_tokens"]
        )

    def token_ids(self, text: str) -> list[int]:
        """The ids that pool into `text`'s vector: no special tokens, no [UNK], capped."""
        drop = self._drop
        return [i for i in self._tokenizer.encode(text) if i not in drop][: self._max_tokens]

    def embed(self, texts: Sequence[str], *, kind: InputKind = "document") -> np.ndarray:
        """One L2-normalised float32 row per text; zero rows for texts with no tokens."""
        per_text = [self.token_ids(t) for t in texts]
        lengths = np.fromiter(map(len, per_text), dtype=np.intp, count=len(per_text))
        out = np.zeros((len(per_text), self.fingerprint.dim), dtype=np.float32)
        total = int(lengths.sum())
        if total == 0:
            return out
        flat = np.fromiter(chain.from_iterable(per_text), dtype=np.intp, count=total)
        rows = self._table[flat].astype(np.float32)
        nonempty = lengths > 0
        starts = (np.cumsum(lengths) - lengths)[nonempty]
        # Each segment runs from one non-empty text's start to the next one's, so empty
        # texts in between add nothing; the sum has the mean's direction.
        out[nonempty] = np.add.reduceat(rows, starts, axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def embed_weighted(self, words: Sequence[tuple[str, float]]) -> np.ndarray:
        """One L2-normalised row for a query given as (word, weight) pairs:
        each word's tokens pool with that word's weight (recall weights words
        by how rare they are in the store, so a name every memory mentions
        does not dominate the query). A zero row when nothing is left."""
        out = np.zeros(self.fingerprint.dim, dtype=np.float32)
        for word, weight in words:
            ids = self.token_ids(word)
            if ids and weight > 0:
                out += weight * self._table[ids].astype(np.float32).sum(axis=0)
        norm = float(np.linalg.norm(out))
        return out / norm if norm > 0 else out
