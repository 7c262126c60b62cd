"""Remote embedders: OpenAI-compatible, Voyage and Ollama over HTTP.

A `RemoteEmbedder` batches texts (`batch_size` per request), L2-normalises
what comes back, checks every vector's dimension against its fingerprint and
gives empty texts a zero row without sending them (providers reject "").
The HTTP client (and with it httpx, ~140 ms to import) is created on the
first `embed`, so building an embedder to compare fingerprints, or to answer
a recall from the query cache, costs nothing.

Fingerprint: (provider, model, dim, "api"). The endpoint URL is not part of
it: the same model behind a proxy (LiteLLM, OpenRouter) gives the same
vectors, and a different model with the same name and dimension cannot be
detected from outside. `dim` is the store's (from the bound fingerprint), the
`dimensions` setting, or found by one probe request when neither is known.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from events.errors import ConfigError
from workers.embedders.base import Fingerprint, InputKind

if TYPE_CHECKING:
    import numpy as np

    from workers.embedders.settings import EmbedderSettings
    from workers.providers.http import HttpClient

BUILD = "api"


def api_key_for(provider: str, settings: EmbedderSettings) -> tuple[str, str]:
    """(key, where it came from): the config when it configures this provider,
    else the provider's usual environment variable; never logged."""
    from workers.providers.embeddings import KEY_ENV

    if settings.provider == provider and settings.api_key:
        return settings.api_key, "config"
    env = KEY_ENV.get(provider)
    if env is None:
        return "", "not needed"
    value = os.environ.get(env, "")
    return (value, f"env {env}") if value else ("", "missing")


class RemoteEmbedder:
    def __init__(
        self,
        provider: str,
        model: str,
        settings: EmbedderSettings,
        *,
        dim: int = 0,
    ) -> None:
        from workers.providers.embeddings import DEFAULT_BASE_URLS

        if provider not in DEFAULT_BASE_URLS:
            raise ConfigError(f"unknown remote embedding provider {provider!r}; choose openai, voyage or ollama")
        own = settings.provider == provider
        self.provider = provider
        self.model = model
        # A configured endpoint is the only endpoint ever called: a swap to
        # another provider (embed swap --to openai:MODEL while the config says
        # static) still goes to embeddings.base_url when one is set; the public
        # default applies only when none is configured.
        self.base_url = (settings.base_url or DEFAULT_BASE_URLS[provider]).rstrip("/")
        self.api_key, self.key_source = api_key_for(provider, settings)
        self.dimensions = settings.dimensions if own else 0  # asked of the provider (0: the model's own)
        self.batch_size = max(1, settings.batch_size)
        self.timeout_s = settings.timeout_s
        self.max_retries = settings.max_retries
        self.backoff_s = settings.backoff_s
        self.breakers = settings.breakers
        self._dim = dim or self.dimensions
        self._client: HttpClient | None = None

    @property
    def fingerprint(self) -> Fingerprint:
        if not self._dim:
            self.embed(["dimension probe"])  # sets self._dim from the answer
        return Fingerprint(provider=self.provider, model=self.model, dim=self._dim, build=BUILD)

    @property
    def requests(self) -> int:
        return 0 if self._client is None else self._client.requests

    def connect(self) -> None:
        """Import httpx and build the client now (recall starts its budget after this)."""
        self._http()

    def _http(self) -> HttpClient:
        if self._client is None:
            from workers.providers.embeddings import EmbeddingsAPI
            from workers.providers.http import HttpClient

            self._api = EmbeddingsAPI(self.provider)
            self._client = HttpClient(
                self.provider,
                self.base_url,
                headers=self._api.headers(self.api_key),
                timeout_s=self.timeout_s,
                max_retries=self.max_retries,
                backoff_s=self.backoff_s,
                secret=self.api_key,
                breakers=self.breakers,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __del__(self) -> None:  # embedders are often dropped, not closed: free the pooled sockets
        self.close()

    def embed(
        self, texts: Sequence[str], *, kind: InputKind = "document", deadline: float | None = None
    ) -> np.ndarray:
        """L2-normalised float32 rows; `deadline` (time.monotonic()) bounds the whole call."""
        import numpy as np

        from workers.providers.embeddings import check_dimension

        client = self._http()
        where = f"{self.provider} at {self.base_url}"
        wanted = [i for i, t in enumerate(texts) if t.strip()]
        rows: list[list[float]] = []
        for start in range(0, len(wanted), self.batch_size):
            batch = [texts[i] for i in wanted[start : start + self.batch_size]]
            body = self._api.request(self.model, batch, kind, self.dimensions)
            raw = client.post_json(self._api.path, body, deadline=deadline)
            got = self._api.vectors(raw, len(batch), where)
            if not self._dim and got:
                self._dim = len(got[0])
            check_dimension(got, self._dim, where)
            rows.extend(got)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if rows:
            out[wanted] = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out
