"""The chat client over real HTTP against the loopback fake: strict parsing
with one repair turn, retries on 429/5xx (Retry-After honoured), timeouts and a
dead endpoint as ProviderUnavailable, per-role models, token accounting, and
the API key never in a message or an answer we keep."""

from __future__ import annotations

import time

import msgspec
import pytest

from events.errors import ConfigError, ProviderRejected, ProviderUnavailable
from memman.config import LLMSettings
from tests.llm.conftest import API_KEY
from tools.fake_llm import FakeLLM
from workers.llm import prompts
from workers.llm.client import ChatClient
from workers.llm.schemas import ExtractReply
from workers.llm.transport import LLMBadOutput

TEXT = {"text": "We chose SQLite. It needs no server.", "category_hint": "general", "entities_hint": []}


@pytest.fixture
def client(llm_settings: LLMSettings):  # type: ignore[no-untyped-def]
    c = ChatClient(llm_settings)
    yield c
    c.close()


def test_a_reply_is_decoded_into_the_prompts_struct_with_usage(client: ChatClient, fake: FakeLLM) -> None:
    reply = client.ask(prompts.EXTRACT, TEXT)
    assert isinstance(reply.value, ExtractReply)
    # the fake resolves "It" to the previous sentence's subject
    assert [f.text for f in reply.value.facts] == ["We chose SQLite.", "SQLite needs no server."]
    assert reply.model == "fake-fast" and reply.requests == 1
    assert reply.tokens_in > 0 and reply.tokens_out > 0 and reply.latency_ms > 0
    body = fake.bodies[-1]
    assert body["response_format"] == {"type": "json_object"} and body["temperature"] == 0


def test_roles_pick_their_models(client: ChatClient, fake: FakeLLM) -> None:
    client.ask(prompts.ENRICH, {"memories": [{"id": "m1", "text": "x"}]})
    client.ask(prompts.EXPAND, {"query": "database"})
    assert [b["model"] for b in fake.bodies] == ["fake-slow", "fake-fast"]


def test_json_schema_mode_sends_the_reply_schema(llm_settings: LLMSettings, fake: FakeLLM) -> None:
    c = ChatClient(msgspec.structs.replace(llm_settings, json_mode="json_schema"))
    c.ask(prompts.EXPAND, {"query": "database"})
    c.close()
    fmt = fake.bodies[-1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "memman_expand"


def test_malformed_json_gets_one_repair_turn(client: ChatClient, fake: FakeLLM) -> None:
    fake.fail("garbage")
    reply = client.ask(prompts.EXTRACT, TEXT)
    assert reply.requests == 2 and len(reply.value.facts) == 2
    repair = fake.bodies[-1]["messages"]
    assert repair[-2]["role"] == "assistant" and "not usable" in repair[-1]["content"]


def test_malformed_twice_is_bad_output(client: ChatClient, fake: FakeLLM) -> None:
    fake.fail("garbage", times=2)
    with pytest.raises(LLMBadOutput, match="after a repair turn"):
        client.ask(prompts.EXTRACT, TEXT)
    assert fake.total == 2  # one answer, one repair: no more


def test_an_out_of_range_value_is_repaired_not_accepted(client: ChatClient, fake: FakeLLM) -> None:
    answers = iter(['{"facts": [{"text": "x", "category": "fact", "importance": 9}]}', None])
    fake.overrides["extract"] = lambda p: next(answers) or {"facts": [], "reason": "chatter"}
    reply = client.ask(prompts.EXTRACT, TEXT)
    assert reply.value.facts == [] and reply.requests == 2
    assert "Expected `int` <= 5" in fake.bodies[-1]["messages"][-1]["content"]


@pytest.mark.parametrize("mode", ["429", "500", "timeout", "drop"])
def test_transient_failures_are_retried(client: ChatClient, fake: FakeLLM, mode: str) -> None:
    fake.fail(mode)
    reply = client.ask(prompts.EXTRACT, TEXT)
    assert reply.requests == 2 and fake.total == 2


@pytest.mark.parametrize("mode", ["429", "500", "timeout"])
def test_failures_past_the_retries_are_provider_unavailable(client: ChatClient, fake: FakeLLM, mode: str) -> None:
    fake.fail(mode, times=2)
    with pytest.raises(ProviderUnavailable) as caught:
        client.ask(prompts.EXTRACT, TEXT)
    assert API_KEY not in str(caught.value)
    assert fake.total == 2  # max_retries=1: two attempts


def test_a_rejected_key_is_not_retried_and_names_the_llm_setting(client: ChatClient, fake: FakeLLM) -> None:
    fake.fail("401")
    with pytest.raises(ProviderRejected, match=r"HTTP 401.*\(check llm\.api_key\)") as caught:
        client.ask(prompts.EXTRACT, TEXT)
    assert API_KEY not in str(caught.value)
    assert fake.total == 1


def test_retry_after_is_honoured(client: ChatClient, fake: FakeLLM) -> None:
    fake.retry_after = "0.25"
    fake.fail("429")
    started = time.perf_counter()
    client.ask(prompts.EXPAND, {"query": "x"})
    assert time.perf_counter() - started >= 0.25


def test_a_non_json_http_body_is_bad_output(client: ChatClient, fake: FakeLLM) -> None:
    fake.fail("badjson")
    with pytest.raises(LLMBadOutput, match="not a chat completion"):
        client.ask(prompts.EXPAND, {"query": "x"})


def test_a_dead_endpoint_is_unavailable(llm_settings: LLMSettings) -> None:
    dead = FakeLLM().start()
    url = dead.url
    dead.stop()
    c = ChatClient(msgspec.structs.replace(llm_settings, base_url=url))
    with pytest.raises(ProviderUnavailable) as caught:
        c.ask(prompts.EXPAND, {"query": "x"})
    assert API_KEY not in str(caught.value)


def test_a_4xx_is_rejected_and_the_key_is_masked(client: ChatClient, fake: FakeLLM) -> None:
    fake.overrides["expand"] = lambda p: "x"
    c = client
    with pytest.raises(ProviderRejected) as caught:
        c._http.post_json("/nowhere", b"{}")
    assert "404" in str(caught.value) and API_KEY not in str(caught.value)


def test_the_key_is_sent_as_a_bearer_header_only(client: ChatClient, fake: FakeLLM) -> None:
    client.ask(prompts.EXPAND, {"query": "x"})
    headers = {k.lower(): v for k, v in fake.headers[-1].items()}
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in str(fake.bodies[-1]) and API_KEY not in repr(client)


def test_missing_base_url_or_model_is_a_config_error(llm_settings: LLMSettings) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        ChatClient(msgspec.structs.replace(llm_settings, base_url=""))
    with pytest.raises(ConfigError, match="model"):
        ChatClient(msgspec.structs.replace(llm_settings, model_fast="", model_slow=""))


def test_prompt_hashes_are_stable_and_distinct() -> None:
    hashes = {p.task: p.hash for p in prompts.ALL}
    assert len(set(hashes.values())) == len(prompts.ALL)
    assert all(len(h) == 16 for h in hashes.values())
