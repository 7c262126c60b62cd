"""The embedder interface: one small Protocol every embedding provider satisfies.

An embedder turns texts into L2-normalised float32 rows. It is identified by a
`Fingerprint` (provider, model, dimension, build hash); a store is bound to one
fingerprint, and every `memory.embedded` event records the fingerprint that
produced its vector, so vectors from different models are never mixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import msgspec

if TYPE_CHECKING:
    import numpy as np

InputKind = Literal["document", "query"]


class Fingerprint(msgspec.Struct, frozen=True, kw_only=True):
    """What makes two vectors comparable: same provider, model, dimension and build."""

    provider: str
    model: str
    dim: int
    build: str

    @property
    def key(self) -> str:
        """A stable one-string form, used as a column value and in messages."""
        return f"{self.provider}:{self.model}:{self.dim}:{self.build}"


class Embedder(Protocol):
    """Turns texts into vectors.

    `embed` returns a float32 array of shape (len(texts), fingerprint.dim) whose
    rows are L2-normalised; a text with nothing embeddable gives a zero row.
    `kind` lets providers that distinguish queries from documents do so;
    symmetric models ignore it.
    """

    fingerprint: Fingerprint

    def embed(self, texts: Sequence[str], *, kind: InputKind = "document") -> np.ndarray: ...
