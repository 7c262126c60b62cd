"""Usage accounting shared by the LLM stages: every stage object sums the
model, tokens and latency of the calls it made since `reset_usage`, and turns
them into the `Provenance` its derived event carries."""

from __future__ import annotations

from events.types import Provenance
from workers.llm.client import ChatClient, Check
from workers.llm.prompts import Prompt


class Accounted:
    implementation = "llm"

    def __init__(self, client: ChatClient, prompt: Prompt) -> None:
        self.client = client
        self.prompt = prompt
        self.reset_usage()

    @property
    def version(self) -> str:
        return self.prompt.version

    @property
    def model(self) -> str:
        return self.client.model_for(self.prompt)

    def reset_usage(self) -> None:
        self._model: str | None = None
        self._tokens_in = self._tokens_out = self._requests = 0
        self._latency_ms = 0.0

    def _ask(self, payload: object, check: Check | None = None):  # type: ignore[no-untyped-def]
        reply = self.client.ask(self.prompt, payload, check=check)
        self._model = reply.model
        self._tokens_in += reply.tokens_in
        self._tokens_out += reply.tokens_out
        self._requests += reply.requests
        self._latency_ms += reply.latency_ms
        return reply.value

    def provenance(self, latency_ms: float | None = None) -> Provenance:
        """The provenance of the work since the last reset (then resets)."""
        p = Provenance(
            implementation=self.implementation,
            version=self.prompt.version,
            model=self._model or self.model,
            prompt_hash=self.prompt.hash,
            latency_ms=round(self._latency_ms if latency_ms is None else latency_ms, 3),
            tokens_in=self._tokens_in,
            tokens_out=self._tokens_out,
        )
        self.reset_usage()
        return p
