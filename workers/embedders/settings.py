"""What an embedder needs besides its fingerprint: endpoint, key, batch size,
timeouts, where the ONNX model lives. The application builds it from
config.toml ([embeddings]); workers never read the config file."""

from __future__ import annotations

import msgspec

from workers.embedders import DEFAULT_PROVIDER


class EmbedderSettings(msgspec.Struct, kw_only=True):
    """The [embeddings] settings an embedder needs besides its fingerprint."""

    provider: str = DEFAULT_PROVIDER
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    dimensions: int = 0
    batch_size: int = 64
    timeout_s: float = 30.0
    query_timeout_ms: int = 1500
    max_retries: int = 3
    backoff_s: float = 0.5  # first retry's wait when the server sends no Retry-After
    model_path: str = ""  # the onnx model directory; default models_dir/minilm-onnx
    models_dir: str = ""  # <data_dir>/models
    breakers: str = ""  # <data_dir>/breakers: circuit-breaker state shared by every process (workers/providers/breaker.py)
