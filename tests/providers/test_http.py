"""The httpx seam: every httpx error class maps to a memman error, and
Retry-After is read the way servers send it."""

from __future__ import annotations

import inspect
import time

import httpx
import pytest

from events.errors import ProviderRejected, ProviderUnavailable
from workers.providers.http import HttpClient, classify, retry_after


def _httpx_exception_classes() -> list[type[BaseException]]:
    found = set()
    for name in dir(httpx):
        obj = getattr(httpx, name)
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__.startswith("httpx"):
            found.add(obj)
    return sorted(found, key=lambda c: c.__name__)


# The roots are deliberately unmapped: they are never raised themselves, and
# mapping them would hide a new subclass from this test.
ROOTS = {httpx.HTTPError, httpx.RequestError, httpx.TransportError}


@pytest.mark.parametrize("cls", [c for c in _httpx_exception_classes() if c not in ROOTS], ids=lambda c: c.__name__)
def test_every_httpx_exception_class_is_mapped(cls: type[BaseException]) -> None:
    assert classify(cls) in ("unavailable", "rejected"), f"httpx.{cls.__name__} is not mapped in workers/providers/http.py"


def test_the_enumeration_sees_the_classes_that_matter() -> None:
    names = {c.__name__ for c in _httpx_exception_classes()}
    assert {"ConnectError", "ReadTimeout", "RemoteProtocolError", "InvalidURL", "StreamClosed"} <= names


def test_outages_are_unavailable_and_mistakes_are_rejected() -> None:
    assert classify(httpx.ReadTimeout) == classify(httpx.ConnectError) == "unavailable"
    assert classify(httpx.UnsupportedProtocol) == classify(httpx.InvalidURL) == "rejected"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("3") == 3.0
    assert retry_after("0.25") == 0.25
    assert retry_after(None) is None and retry_after("soon") is None
    now = time.time()
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 10))
    assert 8.0 <= retry_after(date, now=now) <= 11.0  # type: ignore[operator]


def test_an_unreachable_endpoint_is_unavailable_and_names_no_secret() -> None:
    client = HttpClient("openai", "http://127.0.0.1:9/v1", timeout_s=0.5, max_retries=1, backoff_s=0.01, secret="sk-hidden")
    with pytest.raises(ProviderUnavailable) as info:
        client.post_json("embeddings", b"{}")
    assert "127.0.0.1:9/v1/embeddings" in str(info.value)
    assert "sk-hidden" not in str(info.value)
    assert client.requests == 2  # connection failures are retried


def test_a_non_http_base_url_is_rejected_without_retrying() -> None:
    client = HttpClient("openai", "ftp://example.invalid/v1", timeout_s=0.5, max_retries=3, backoff_s=0.01)
    with pytest.raises(ProviderRejected, match="base_url"):
        client.post_json("embeddings", b"{}")
    assert client.requests == 1
