"""A feature-hashing embedder: no model, no download, purely lexical.

It exists as a dependable fallback and a fast embedder for tests; it adds
little over FTS5 (docs/measured-costs.md: ~0 agreement with a semantic model on unrelated
pairs). The default is the static MiniLM embedder when its artifact ships.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from workers.embedders.base import Fingerprint, InputKind

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    def __init__(self, dim: int = 256) -> None:
        self.fingerprint = Fingerprint(provider="hashing", model="words+trigrams", dim=dim, build="1")

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        grams = [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        return words + grams

    def embed(self, texts: Sequence[str], *, kind: InputKind = "document") -> np.ndarray:
        dim = self.fingerprint.dim
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % dim
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, index] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out
