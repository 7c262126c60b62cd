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

A query needs a few rows, not the table: `embed_query` and `embed_weighted`
read them from the memory-mapped file with `struct` and pool them in plain
Python (a few microseconds per token), so a cold `recall` never imports numpy
(~50 ms of its process, docs/scale.md). `embed`, for batches of documents in
the drain, imports numpy and pools the whole batch at once. The two agree to
float32 rounding (tested); a query is never compared with a vector `embed`
made for the same text, only with stored documents, so that is all they need.
"""

from __future__ import annotations

import json
import math
import mmap
import re
import struct
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from events.errors import ProviderUnavailable
from workers.embedders.base import Fingerprint, InputKind
from workers.embedders.wordpiece import WordPieceTokenizer

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MODEL_NAME", "PROVIDER", "HalfTable", "StaticEmbedder", "default_path"]

PROVIDER = "static"
MODEL_NAME = "minilm-l6-static-256"
ARTIFACT_FILES = ("embeddings.npy", "vocab.txt", "config.json")


def default_path() -> Path:
    """Where the shipped artifact lives, inside the installed package."""
    return Path(__file__).resolve().parent / "assets" / "minilm-static"


# numpy's .npy header for a C-ordered little-endian float16 matrix (the only layout shipped)
_NPY_HEADER = re.compile(r"\{'descr': '<f2', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \}")


class HalfTable:
    """The shipped `embeddings.npy` (rows x dim little-endian float16),
    memory-mapped and read without numpy; `array()` is the numpy view."""

    def __init__(self, buffer: mmap.mmap, offset: int, shape: tuple[int, int]) -> None:
        self._buffer = buffer
        self._offset = offset
        self.shape = shape
        self._row = struct.Struct(f"<{shape[1]}e")

    @classmethod
    def open(cls, path: Path) -> HalfTable:
        """Map `path`; ValueError when it is not a float16 .npy matrix of the size its header says."""
        with path.open("rb") as f:
            buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if buffer[:6] != b"\x93NUMPY" or len(buffer) < 12:
            raise ValueError(f"{path} is not a .npy file")
        if buffer[6] == 1:
            length, start = struct.unpack_from("<H", buffer, 8)[0], 10
        else:
            length, start = struct.unpack_from("<I", buffer, 8)[0], 12
        found = _NPY_HEADER.match(bytes(buffer[start : start + length]).decode("latin-1"))
        if found is None:
            raise ValueError(f"{path} is not a C-ordered little-endian float16 matrix")
        shape = (int(found[1]), int(found[2]))
        if len(buffer) != start + length + shape[0] * shape[1] * 2:
            raise ValueError(f"{path} holds {len(buffer)} bytes, not the {shape[0]} x {shape[1]} its header says")
        return cls(buffer, start + length, shape)

    def row(self, index: int) -> tuple[float, ...]:
        if not 0 <= index < self.shape[0]:
            raise IndexError(index)
        return self._row.unpack_from(self._buffer, self._offset + index * self._row.size)

    def array(self) -> np.ndarray:
        import numpy as np

        return np.frombuffer(self._buffer, dtype="<f2", count=self.shape[0] * self.shape[1], offset=self._offset).reshape(self.shape)


class StaticEmbedder:
    """Mean of static token vectors; see the module docstring."""

    def __init__(self, table: HalfTable, tokenizer: WordPieceTokenizer, *, build: str, max_tokens: int) -> None:
        if table.shape[0] != len(tokenizer.vocab):
            raise ValueError(f"table shape {table.shape} does not match a vocab of {len(tokenizer.vocab)}")
        self.fingerprint = Fingerprint(provider=PROVIDER, model=MODEL_NAME, dim=table.shape[1], build=build)
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
        try:
            table = HalfTable.open(directory / "embeddings.npy")
        except (OSError, ValueError) as exc:
            raise ProviderUnavailable(
                f"static embedder table in {directory} is unreadable ({exc}); "
                "reinstall memman or rebuild with tools/build_static_model.py"
            ) from exc
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
        import numpy as np

        per_text = [self.token_ids(t) for t in texts]
        lengths = np.fromiter(map(len, per_text), dtype=np.intp, count=len(per_text))
        out = np.zeros((len(per_text), self.fingerprint.dim), dtype=np.float32)
        total = int(lengths.sum())
        if total == 0:
            return out
        flat = np.fromiter(chain.from_iterable(per_text), dtype=np.intp, count=total)
        rows = self._table.array()[flat].astype(np.float32)
        nonempty = lengths > 0
        starts = (np.cumsum(lengths) - lengths)[nonempty]
        # Each segment runs from one non-empty text's start to the next one's, so empty
        # texts in between add nothing; the sum has the mean's direction.
        out[nonempty] = np.add.reduceat(rows, starts, axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def embed_query(self, text: str) -> list[float]:
        """`embed([text])[0]` without numpy, as a list (see the module docstring)."""
        return _unit(self._pooled(self.token_ids(text)))

    def embed_weighted(self, words: Sequence[tuple[str, float]]) -> list[float]:
        """One L2-normalised row for a query given as (word, weight) pairs:
        each word's tokens pool with that word's weight (recall weights words
        by how rare they are in the store, so a name every memory mentions
        does not dominate the query). A zero row when nothing is left."""
        out = [0.0] * self.fingerprint.dim
        for word, weight in words:
            ids = self.token_ids(word)
            if ids and weight > 0:
                out = [o + weight * s for o, s in zip(out, self._pooled(ids))]
        return _unit(out)

    def _pooled(self, ids: list[int]) -> list[float]:
        """The sum of the rows of `ids`, in plain Python."""
        total = [0.0] * self.fingerprint.dim
        for i in ids:
            total = [t + r for t, r in zip(total, self._table.row(i))]
        return total


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(math.fsum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else vector
