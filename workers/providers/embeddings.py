"""The three embedding APIs memman speaks, as request builders and typed
response decoders (msgspec Structs; no dict payloads past this module).

    openai  POST {base_url}/embeddings   {model, input: [..], dimensions?}
            -> {data: [{index, embedding}]}         (OpenAI, OpenRouter, vLLM,
                                                      LiteLLM, Ollama's /v1)
    voyage  POST {base_url}/embeddings   {model, input: [..], input_type, output_dimension?}
            -> {data: [{index, embedding}]}
    ollama  POST {base_url}/api/embed    {model, input: [..], dimensions?}
            -> {embeddings: [[..]]}

Only Voyage distinguishes queries from documents (`input_type`); the others
embed both alike. A response that is not JSON, has the wrong shape, the wrong
number of vectors or the wrong dimension is the provider's fault:
ProviderUnavailable for garbage, ProviderRejected for a dimension mismatch
(the model behind the endpoint is not the one the store is bound to).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from events.errors import ProviderRejected, ProviderUnavailable

InputKind = Literal["document", "query"]

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "voyage": "https://api.voyageai.com/v1",
    "ollama": "http://127.0.0.1:11434",
}
DEFAULT_MODELS = {
    "openai": "text-embedding-3-small",
    "voyage": "voyage-3.5-lite",
    "ollama": "nomic-embed-text",
}
KEY_ENV = {"openai": "OPENAI_API_KEY", "voyage": "VOYAGE_API_KEY"}  # ollama needs no key
REMOTE_PROVIDERS = tuple(DEFAULT_BASE_URLS)


class _Item(msgspec.Struct):
    embedding: list[float]
    index: int = -1


class _DataResponse(msgspec.Struct):
    data: list[_Item]


class _OllamaResponse(msgspec.Struct):
    embeddings: list[list[float]]


class _OpenAIRequest(msgspec.Struct, omit_defaults=True):
    model: str
    input: list[str]
    dimensions: int | None = None
    encoding_format: str = "float"


class _VoyageRequest(msgspec.Struct, omit_defaults=True):
    model: str
    input: list[str]
    input_type: str
    output_dimension: int | None = None


class _OllamaRequest(msgspec.Struct, omit_defaults=True):
    model: str
    input: list[str]
    dimensions: int | None = None
    truncate: bool = True


class EmbeddingsAPI:
    """How one provider's request looks and how its response decodes."""

    path = "embeddings"

    def __init__(self, provider: str) -> None:
        if provider not in DEFAULT_BASE_URLS:
            raise ValueError(provider)
        self.provider = provider
        if provider == "ollama":
            self.path = "api/embed"

    def headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"} if api_key else {}

    def request(self, model: str, texts: Sequence[str], kind: InputKind, dimensions: int) -> bytes:
        dims = dimensions or None
        body: msgspec.Struct
        if self.provider == "voyage":
            body = _VoyageRequest(model=model, input=list(texts), input_type=kind, output_dimension=dims)
        elif self.provider == "ollama":
            body = _OllamaRequest(model=model, input=list(texts), dimensions=dims)
        else:
            body = _OpenAIRequest(model=model, input=list(texts), dimensions=dims)
        return msgspec.json.encode(body)

    def vectors(self, raw: bytes, expected: int, where: str) -> list[list[float]]:
        """The vectors in input order, or a clear error."""
        try:
            if self.provider == "ollama":
                rows = msgspec.json.decode(raw, type=_OllamaResponse).embeddings
            else:
                items = msgspec.json.decode(raw, type=_DataResponse).data
                if all(i.index >= 0 for i in items):
                    items = sorted(items, key=lambda i: i.index)
                rows = [i.embedding for i in items]
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            head = " ".join(raw[:80].decode("utf-8", "replace").split())
            raise ProviderUnavailable(f"{where} sent a malformed response ({exc}): {head!r}") from exc
        if len(rows) != expected:
            raise ProviderUnavailable(f"{where} returned {len(rows)} vectors for {expected} texts")
        return rows


def check_dimension(rows: list[list[float]], dim: int, where: str) -> None:
    for row in rows:
        if len(row) != dim:
            raise ProviderRejected(
                f"{where} returned {len(row)}-d vectors but the store's embedder is {dim}-d; "
                "the endpoint serves a different model: fix embeddings.model/base_url or 'memman embed swap'"
            )
