"""The pure parts of install: the JSONC editor keeps every byte it does not
add, and the wizard's questions and the settings they produce."""

from __future__ import annotations

import pytest

from events.errors import BadInput
from memman.install import jsonc, wizard

TEXT = """{
  // comment with "quotes" and { braces }
  "a": [1, 2,],  /* trailing comma */
  "b": {"c": "x\\"y"}
}
"""


def test_append_then_remove_restores_the_exact_text() -> None:
    root = jsonc.parse(TEXT)
    grown = jsonc.append_item(TEXT, root.get("a"), '{"ours": true}')
    assert jsonc.parse(grown).plain()["a"] == [1, 2, {"ours": True}]
    assert jsonc.remove_item(grown, jsonc.parse(grown).get("a"), 2) == TEXT
    added = jsonc.add_member(TEXT, root, "hooks", "{}")
    assert jsonc.remove_member(added, jsonc.parse(added), "hooks") == TEXT


@pytest.mark.parametrize("bad", ['{"a": }', '{"a": 1', "[1]", '{a: 1}', '{"a": 1} x', "/* open"])
def test_malformed_input_is_a_bad_input_error(bad: str) -> None:
    with pytest.raises(jsonc.JsoncError):
        jsonc.parse(bad, "settings.json")


def test_the_wizard_asks_for_a_key_only_with_an_endpoint() -> None:
    answers: dict[str, str] = {}
    asked = []
    replies = {"llm.base_url": "", "embeddings.provider": "static"}
    while (q := wizard.questions(answers)) is not None:
        asked.append(q.key)
        answers[q.key] = replies[q.key]
    assert asked == ["llm.base_url", "embeddings.provider"]
    assert wizard.settings_from(answers) == {}  # offline defaults: nothing to write

    answers = {"llm.base_url": "https://api.example/v1"}
    question = wizard.questions(answers)
    assert question is not None and question.key == "llm.api_key" and question.secret


def test_the_wizard_turns_answers_into_validated_settings() -> None:
    out = wizard.settings_from(
        {"llm.base_url": "https://api.example/v1", "llm.api_key": " sk-1 ", "llm.model_fast": "m", "embeddings.provider": "onnx"}
    )
    assert out == {"llm.provider": "openai", "llm.base_url": "https://api.example/v1", "llm.api_key": "sk-1",
                   "llm.model_fast": "m", "llm.model_slow": "m", "embeddings.provider": "onnx"}
    with pytest.raises(BadInput):
        wizard.settings_from({"llm.base_url": "api.example"})
