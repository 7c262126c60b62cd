"""The one seam between httpx and memman: a small JSON-over-HTTP client with
timeouts, retries and error mapping.

    timeouts, connection failures, malformed responses,
    429 and 5xx after the last retry            -> ProviderUnavailable (exit 6)
    any other 4xx, bad URL, too many redirects  -> ProviderRejected   (exit 6)

Retries: 429 and 5xx and transport failures are retried with exponential
backoff (`backoff_s` x 2^attempt, capped), honouring `Retry-After` (seconds
or an HTTP date) when the server sends it. An optional `deadline`
(time.monotonic() value) bounds the whole call, retries included: each
attempt's timeout shrinks to what is left, and no retry starts that could
not finish in time. That is how recall keeps its query-embedding budget.

Secrets never leave this module: error messages name the provider and the
URL's host and path, never headers, and any occurrence of the key in a
response body is masked before it is quoted.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import httpx

from events.errors import CircuitOpen, ProviderRejected, ProviderUnavailable
from workers.providers.breaker import COOL_DOWN_S, FAILURES, Breaker

Kind = Literal["unavailable", "rejected"]

# Every exception class httpx exports must be classified here (the MRO is
# walked, so subclasses inherit); tests/providers/test_http.py enumerates
# httpx's classes and fails on any that falls through. Base classes
# (HTTPError, RequestError, TransportError) are deliberately absent, so a new
# httpx subclass is noticed rather than silently lumped in.
CLASSIFIED: dict[type[BaseException], Kind] = {
    httpx.TimeoutException: "unavailable",  # connect / read / write / pool
    httpx.NetworkError: "unavailable",  # connect / read / write / close
    httpx.RemoteProtocolError: "unavailable",  # the server hung up or spoke nonsense
    httpx.ProtocolError: "unavailable",  # any other protocol error: treat as the far side's
    httpx.ProxyError: "unavailable",
    httpx.DecodingError: "unavailable",  # a body that claims an encoding it does not have
    httpx.LocalProtocolError: "rejected",  # we built an invalid request (e.g. a bad header value)
    httpx.UnsupportedProtocol: "rejected",  # base_url is not http(s)
    httpx.TooManyRedirects: "rejected",
    httpx.InvalidURL: "rejected",
    httpx.CookieConflict: "rejected",
    httpx.StreamError: "rejected",  # misuse of a streamed body: a bug, not an outage
    httpx.HTTPStatusError: "rejected",  # only raised by raise_for_status, which we never call
}
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0
# The circuit breaker (workers/providers/breaker.py), per provider endpoint and
# shared by every process of a data dir when the client is given its
# `breakers` directory: after this many failed attempts in a row the circuit
# opens, and calls fail at once (CircuitOpen) for the cool-down instead of
# each waiting out its retries; the drain then leaves that provider's work pending.
BREAKER_FAILURES = FAILURES
BREAKER_COOL_DOWN_S = COOL_DOWN_S
# What the client catches: httpx's roots. Anything caught but unclassified is re-raised as is.
_CAUGHT = (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)


def classify(exc_type: type[BaseException]) -> Kind | None:
    for cls in exc_type.__mro__:
        if cls in CLASSIFIED:
            return CLASSIFIED[cls]
    return None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpClient:
    """POST JSON, get bytes back; one instance per provider endpoint."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        secret: str = "",
        key_setting: str = "embeddings.api_key",  # named in the hint on 401/403
        breakers: str = "",  # <data_dir>/breakers: share the circuit breaker with other processes
    ) -> None:
        self.name = name
        self.key_setting = key_setting
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._secret = secret
        self.requests = 0  # attempts made, for diagnostics and benchmarks
        self.breaker = Breaker(name, self.base_url, Path(breakers) if breakers else None, self._where(self.base_url))
        try:
            self._client = httpx.Client(headers=dict(headers or {}), timeout=timeout_s)
        except _CAUGHT as exc:
            raise self._translate(exc, self.base_url) from exc

    def close(self) -> None:
        self._client.close()

    def _where(self, url: str) -> str:
        try:
            u = httpx.URL(url)
            return f"{self.name} at {u.scheme}://{u.host}{f':{u.port}' if u.port else ''}{u.path}"
        except httpx.InvalidURL:  # described as given, minus any query string
            return f"{self.name} at {url.split('?', 1)[0]}"

    def _mask(self, text: str) -> str:
        return text.replace(self._secret, "********") if self._secret else text

    def _translate(self, exc: BaseException, url: str) -> Exception:
        kind = classify(type(exc))
        if kind is None:  # pragma: no cover - the enumeration test keeps this unreachable
            raise exc
        detail = self._mask(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        if kind == "unavailable":
            return ProviderUnavailable(f"{self._where(url)} is unavailable ({detail}); the work stays pending")
        return ProviderRejected(f"{self._where(url)} refused the request ({detail}); check embeddings.base_url")

    def post_json(self, path: str, body: bytes, *, deadline: float | None = None) -> bytes:
        """POST `body` (JSON bytes) to base_url + path; the response body on 2xx."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        attempt = 0
        while True:
            self._check_circuit(url)  # before every attempt: another process may have opened it
            timeout = self.timeout_s
            if deadline is not None:
                timeout = min(timeout, deadline - time.monotonic())
                if timeout <= 0:
                    raise ProviderUnavailable(f"{self._where(url)} did not answer within the time budget")
            self.requests += 1
            try:
                response = self._client.post(
                    url, content=body, headers={"content-type": "application/json"}, timeout=timeout
                )
            except _CAUGHT as exc:
                error = self._translate(exc, url)
                tripped = isinstance(error, ProviderUnavailable) and self._failed()
                if tripped or not isinstance(error, ProviderUnavailable) or not self._sleep(attempt, None, deadline):
                    raise error from exc
                attempt += 1
                continue
            status = response.status_code
            if 200 <= status < 300:
                self.breaker.succeeded()
                return response.content
            if status in RETRY_STATUSES:
                tripped = self._failed()
                if not tripped and self._sleep(attempt, response.headers.get("retry-after"), deadline):
                    attempt += 1
                    continue
            raise self._status_error(url, response, attempt)

    def _check_circuit(self, url: str) -> None:
        left = self.breaker.open_for()
        if left > 0:
            raise CircuitOpen(
                f"{self._where(url)} failed {BREAKER_FAILURES} times in a row; its work is skipped for"
                f" {left:.0f}s more and stays pending"
            )

    def _failed(self) -> bool:
        """Count a failed attempt; True when that opens the circuit (then stop retrying)."""
        return self.breaker.failed()

    def _sleep(self, attempt: int, header: str | None, deadline: float | None) -> bool:
        """Wait before retry number attempt+1; False when out of retries or time."""
        if attempt >= self.max_retries:
            return False
        wait = retry_after(header)
        if wait is None:
            wait = self.backoff_s * (2**attempt)
        wait = min(wait, MAX_BACKOFF_S)
        if deadline is not None and time.monotonic() + wait >= deadline:
            return False
        time.sleep(wait)
        return True

    def _status_error(self, url: str, response: httpx.Response, attempt: int) -> Exception:
        status = response.status_code
        snippet = self._mask(" ".join(response.text[:200].split()))
        said = f": {snippet}" if snippet else ""
        tries = f" after {attempt + 1} attempts" if attempt else ""
        if status in RETRY_STATUSES:
            return ProviderUnavailable(f"{self._where(url)} answered HTTP {status}{tries}{said}; the work stays pending")
        hint = f" (check {self.key_setting})" if status in (401, 403) else ""
        return ProviderRejected(f"{self._where(url)} rejected the request with HTTP {status}{said}{hint}")
