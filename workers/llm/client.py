"""`ChatClient`: one OpenAI-compatible `/chat/completions` client.

    reply = client.ask(prompts.EXTRACT, {"text": ...})
    reply.value        # an ExtractReply, strictly decoded
    reply.model, reply.latency_ms, reply.tokens_in, reply.tokens_out, reply.requests

- JSON mode (`response_format`) as configured by `llm.json_mode`:
  `json_object` (OpenAI, vLLM, Ollama, LiteLLM), `json_schema` (structured
  output with the reply's JSON schema) or `off` (plain text, parsed all the same).
- Strict parsing into the prompt's reply Struct; a reply that does not parse,
  or that `check` rejects, gets ONE repair turn (the error is shown to the
  model) before `LLMBadOutput` is raised.
- Timeouts, retries with backoff on 429/5xx (Retry-After honoured) and the
  mapping of httpx errors live in the shared seam `workers.providers.http`.
- Per-role models: a prompt's role ("fast" or "slow") picks `model_fast` or
  `model_slow`; either falls back to the other when unset.
- Token and latency accounting covers every request of a call, repairs included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import msgspec

from events.errors import ConfigError
from workers.llm.prompts import Prompt
from workers.llm.schemas import ChatResponse
from workers.llm.transport import LLMBadOutput, make_client, redact

T = TypeVar("T")
Check = Callable[[object], None]  # raises ValueError when a parsed reply is unusable


class LLMConfig(Protocol):
    """The [llm] settings this package reads (memman.config.LLMSettings)."""

    provider: str
    base_url: str
    api_key: str
    model_fast: str
    model_slow: str
    timeout_s: float
    max_retries: int
    retry_backoff_s: float
    json_mode: str


class Reply(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: T
    model: str
    latency_ms: float
    tokens_in: int
    tokens_out: int
    requests: int


def _strip_fences(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


class ChatClient:
    def __init__(self, config: LLMConfig, *, breakers: str = "") -> None:
        if not config.base_url:
            raise ConfigError("llm.provider is openai but llm.base_url is empty; set it with 'memman config set llm.base_url URL'")
        fast, slow = config.model_fast or config.model_slow, config.model_slow or config.model_fast
        if not fast:
            raise ConfigError("llm.provider is openai but no model is set; set llm.model_fast (and llm.model_slow)")
        self.models = {"fast": fast, "slow": slow}
        self.config = config
        self._secrets = (config.api_key,) if config.api_key else ()
        self._http = make_client(
            "llm",
            base_url=config.base_url,
            api_key=config.api_key,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            backoff_s=getattr(config, "retry_backoff_s", 1.0),
            breakers=breakers,
        )

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the key
        return f"ChatClient(base_url={self.config.base_url!r}, models={self.models})"

    def model_for(self, prompt: Prompt) -> str:
        return self.models[prompt.role]

    def ask(self, prompt: Prompt, payload: object, *, check: Check | None = None) -> Reply:  # type: ignore[type-arg]
        model = self.model_for(prompt)
        messages = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": msgspec.json.encode(payload).decode()},
        ]
        started = time.perf_counter()
        requests_before = self._http.requests
        tokens_in = tokens_out = 0
        error = ""
        for turn in range(2):  # the answer, then at most one repair
            response = self._post(prompt, model, messages)
            if response.usage is not None:
                tokens_in += response.usage.prompt_tokens
                tokens_out += response.usage.completion_tokens
            content = response.choices[0].message.content if response.choices else None
            try:
                value = self._parse(prompt, content, check)
            except ValueError as exc:
                error = str(exc)[:300]
                messages += [
                    {"role": "assistant", "content": content or ""},
                    {
                        "role": "user",
                        "content": f"That reply was not usable: {error}. Answer again with one corrected"
                        " JSON object in the requested reply shape, and nothing else.",
                    },
                ]
                continue
            return Reply(
                value=value,
                model=response.model or model,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                requests=self._http.requests - requests_before,
            )
        raise LLMBadOutput(redact(f"{prompt.task}: {model} gave no usable JSON after a repair turn: {error}", self._secrets))

    def _post(self, prompt: Prompt, model: str, messages: list[dict[str, str]]) -> ChatResponse:
        body: dict[str, object] = {"model": model, "messages": messages, "temperature": 0}
        mode = getattr(self.config, "json_mode", "json_object")
        if mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        elif mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": f"memman_{prompt.task}", "schema": prompt.schema},
            }
        raw = self._http.post_json("/chat/completions", msgspec.json.encode(body))
        try:
            return msgspec.json.decode(raw, type=ChatResponse)
        except msgspec.DecodeError as exc:  # not a chat completion at all: the endpoint is wrong or broken
            raise LLMBadOutput(f"llm {prompt.task}: the endpoint's answer is not a chat completion ({exc})") from None

    @staticmethod
    def _parse(prompt: Prompt, content: str | None, check: Check | None) -> object:
        if not content:
            raise ValueError("empty reply")
        try:
            value = msgspec.json.decode(_strip_fences(content), type=prompt.reply)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise ValueError(str(exc)) from None
        if check is not None:
            check(value)
        return value
