"""Embedding providers and the registry that builds one from a fingerprint.

A store is bound to one fingerprint (recorded as a `store.configured` event);
`embedder_for` rebuilds exactly that embedder or fails clearly, so vectors
from two different models are never compared.

    local:  static (default, shipped), hashing (lexical, tests), onnx (memman[onnx])
    remote: openai (any OpenAI-compatible /embeddings), voyage, ollama

`settings` carries what the fingerprint does not: endpoint, key, batch size,
timeouts, where the ONNX model lives. The application builds it from
config.toml ([embeddings]); this layer never reads the config file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from events.errors import ConfigError

if TYPE_CHECKING:
    from workers.embedders.base import Embedder
    from workers.embedders.settings import EmbedderSettings

DEFAULT_PROVIDER = "static"
STATIC_ARTIFACT = Path(__file__).parent / "assets" / "minilm-static" / "embeddings.npy"
LOCAL_PROVIDERS = ("static", "hashing", "onnx")
REMOTE_PROVIDERS = ("openai", "voyage", "ollama")
PROVIDERS = LOCAL_PROVIDERS + REMOTE_PROVIDERS


class EmbedderMismatch(ConfigError):
    """The store is bound to an embedder this installation cannot rebuild."""


def parse_key(key: str) -> tuple[str, str, int, str]:
    """(provider, model, dim, build) from a fingerprint key. Models may contain
    ':' (ollama tags), so the provider is split from the left and dim and
    build from the right."""
    provider, _, rest = key.partition(":")
    model, dim, build = rest.rsplit(":", 2)
    return provider, model, int(dim), build


def split_target(target: str) -> tuple[str, str]:
    """'openai:text-embedding-3-small' -> (provider, model); the model may be ''."""
    provider, _, model = target.strip().partition(":")
    if provider not in PROVIDERS:
        raise ConfigError(f"unknown embedding provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
    return provider, model


def create_embedder(
    provider: str = DEFAULT_PROVIDER, settings: EmbedderSettings | None = None, *, model: str = "", dim: int = 0
) -> Embedder:
    """A fresh embedder of `provider`: `model` if given, else the configured
    model when `settings` configures this provider, else its default."""
    if settings is None:
        from workers.embedders.settings import EmbedderSettings

        settings = EmbedderSettings()
    if provider == "static":
        if STATIC_ARTIFACT.exists():
            from workers.embedders.static import StaticEmbedder

            return StaticEmbedder.load()
        provider = "hashing"  # a source checkout without the artifact still works
    if provider == "hashing":
        from workers.embedders.hashing import HashingEmbedder

        return HashingEmbedder()
    if provider == "onnx":
        from workers.embedders.onnx import OnnxEmbedder, model_directory

        return OnnxEmbedder.load(model_directory(settings), batch_size=settings.batch_size)
    if provider in REMOTE_PROVIDERS:
        from workers.embedders.remote import RemoteEmbedder
        from workers.providers.embeddings import DEFAULT_MODELS

        chosen = model or (settings.model if settings.provider == provider else "") or DEFAULT_MODELS[provider]
        return RemoteEmbedder(provider, chosen, settings, dim=dim)  # type: ignore[return-value]
    raise ConfigError(f"unknown embedding provider {provider!r}; choose one of {', '.join(PROVIDERS)}")


def embedder_for(fingerprint_key: str, settings: EmbedderSettings | None = None) -> Embedder:
    """The embedder whose fingerprint is `fingerprint_key`, or EmbedderMismatch."""
    try:
        provider, model, dim, _ = parse_key(fingerprint_key)
    except ValueError:
        raise EmbedderMismatch(f"store is bound to a malformed embedder fingerprint {fingerprint_key!r}") from None
    try:
        if provider in REMOTE_PROVIDERS:
            # the fingerprint says everything but the endpoint: no probe request
            return create_embedder(provider, settings, model=model, dim=dim)
        embedder = create_embedder(provider, settings)
    except ConfigError as exc:
        raise EmbedderMismatch(f"store is bound to embedder {fingerprint_key}, which is unavailable: {exc}") from exc
    if embedder.fingerprint.key != fingerprint_key:
        raise EmbedderMismatch(
            f"store is bound to embedder {fingerprint_key} but this installation provides "
            f"{embedder.fingerprint.key}; re-embed the store to switch"
        )
    return embedder


def __getattr__(name: str) -> object:
    # EmbedderSettings needs msgspec, which the stdlib-only tokenizer path must not import
    if name == "EmbedderSettings":
        from workers.embedders.settings import EmbedderSettings

        return EmbedderSettings
    raise AttributeError(name)
