"""How the LLM and rerank clients reach the network: through the project's one
httpx seam, `workers.providers.http.HttpClient` (timeouts, retries with
backoff on 429/5xx and transport failures, Retry-After honoured, every httpx
error mapped to ProviderUnavailable / ProviderRejected, the key masked).
It is imported here, inside the function that builds a client, so httpx stays
off the remember / keyword-recall hot path.

What is LLM-specific lives here: `LLMBadOutput` (the model answered, but not
with usable JSON even after a repair turn) and `redact` for our own messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.errors import ProviderUnavailable

if TYPE_CHECKING:
    from workers.providers.http import HttpClient

REDACTED = "********"


class LLMBadOutput(ProviderUnavailable):
    """The model's reply did not parse into the expected shape, even after a
    repair turn. Treated like an outage: the input stays pending and is retried."""


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def make_client(
    name: str, *, base_url: str, api_key: str, timeout_s: float, max_retries: int, backoff_s: float,
    breakers: str = "",
) -> HttpClient:
    """An HTTP client for one endpoint. The key goes in a header only; it never
    appears in a URL, a message or an event. `breakers` (<data_dir>/breakers)
    shares its circuit breaker with every process of the data dir."""
    from workers.providers.http import HttpClient

    headers = {"Accept": "application/json", "User-Agent": "memman"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return HttpClient(
        name,
        base_url,
        headers=headers,
        timeout_s=timeout_s,
        max_retries=max_retries,
        backoff_s=backoff_s,
        secret=api_key,
        key_setting=f"{name}.api_key",  # llm.api_key or rerank.api_key
        breakers=breakers,
    )
