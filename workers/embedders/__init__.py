"""Embedding providers and the registry that builds one from a fingerprint.

A store is bound to one fingerprint (recorded as a `store.configured` event);
`embedder_for` rebuilds exactly that embedder or fails clearly, so vectors
from two different models are never compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from events.errors import ConfigError

if TYPE_CHECKING:
    from workers.embedders.base import Embedder

DEFAULT_PROVIDER = "static"
STATIC_ARTIFACT = Path(__file__).parent / "assets" / "minilm-static" / "embeddings.npy"


class EmbedderMismatch(ConfigError):
    """The store is bound to an embedder this installation cannot rebuild."""


def create_embedder(provider: str = DEFAULT_PROVIDER) -> Embedder:
    """A fresh embedder of `provider` with its default model."""
    if provider == "static":
        if STATIC_ARTIFACT.exists():
            from workers.embedders.static import StaticEmbedder

            return StaticEmbedder.load()
        provider = "hashing"  # a source checkout without the artifact still works
    if provider == "hashing":
        from workers.embedders.hashing import HashingEmbedder

        return HashingEmbedder()
    raise ConfigError(f"unknown embedding provider {provider!r}; choose static or hashing")


def embedder_for(fingerprint_key: str) -> Embedder:
    """The embedder whose fingerprint is `fingerprint_key`, or EmbedderMismatch."""
    provider = fingerprint_key.split(":", 1)[0]
    try:
        embedder = create_embedder(provider)
    except ConfigError as exc:
        raise EmbedderMismatch(f"store is bound to embedder {fingerprint_key}, which is unavailable: {exc}") from exc
    if embedder.fingerprint.key != fingerprint_key:
        raise EmbedderMismatch(
            f"store is bound to embedder {fingerprint_key} but this installation provides "
            f"{embedder.fingerprint.key}; re-embed the store to switch"
        )
    return embedder
