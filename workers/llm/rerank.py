"""`Reranker`: a cross-encoder over recall's top candidates, through Voyage's
`/rerank` or a compatible endpoint (Cohere / Jina / TEI style: `results` with
`index` and `relevance_score`). Shares the transport seam with the LLM client
(retries, Retry-After, key redaction). The caller decides when to skip it
(1-2 token queries) and keeps the fused order when it fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from events.errors import ConfigError
from workers.llm.transport import LLMBadOutput, make_client

VOYAGE_URL = "https://api.voyageai.com/v1"
VOYAGE_MODEL = "rerank-2-lite"


class RerankConfig(Protocol):
    provider: str
    base_url: str
    api_key: str
    model: str
    top_n: int
    timeout_ms: int


class _Scored(msgspec.Struct, frozen=True):
    index: int
    relevance_score: float


class _Answer(msgspec.Struct, frozen=True):
    data: list[_Scored] | None = None  # Voyage
    results: list[_Scored] | None = None  # Cohere, Jina, TEI-compatible


class Reranker:
    def __init__(self, config: RerankConfig) -> None:
        base = config.base_url or (VOYAGE_URL if config.provider == "voyage" else "")
        if not base:
            raise ConfigError("rerank.provider is compatible but rerank.base_url is empty")
        self.config = config
        self.model = config.model or (VOYAGE_MODEL if config.provider == "voyage" else "")
        # One attempt: recall has a latency budget, and the caller keeps the fused order on failure.
        self._http = make_client(
            "rerank", base_url=base, api_key=config.api_key, timeout_s=config.timeout_ms / 1000, max_retries=0, backoff_s=0.0
        )

    def close(self) -> None:
        self._http.close()

    def rerank(self, query: str, documents: Sequence[tuple[str, str]]) -> list[tuple[str, float]]:
        """(id, text) pairs -> (id, relevance), best first."""
        if not documents:
            return []
        body: dict[str, object] = {"query": query, "documents": [t for _, t in documents]}
        if self.model:
            body["model"] = self.model
        body["top_k" if self.config.provider == "voyage" else "top_n"] = len(documents)
        raw = self._http.post_json("/rerank", msgspec.json.encode(body))
        try:
            answer = msgspec.json.decode(raw, type=_Answer)
        except msgspec.DecodeError as exc:
            raise LLMBadOutput(f"rerank: not a rerank answer ({exc})") from None
        scored = answer.data if answer.data is not None else answer.results
        if scored is None or any(not 0 <= s.index < len(documents) for s in scored):
            raise LLMBadOutput("rerank: answer has no results or an index out of range")
        ranked = sorted(scored, key=lambda s: -s.relevance_score)
        return [(documents[s.index][0], s.relevance_score) for s in ranked]
