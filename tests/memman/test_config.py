"""config.toml: validated on load and set, per-store overrides win, secrets
are redacted, and the file is written 0600 in a 0700 data dir."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from events.errors import ConfigError
from memman import config


def test_defaults_need_no_file(data_dir: Path) -> None:
    s = config.settings_for(data_dir)
    assert (s.llm.provider, s.embeddings.provider, s.scheduler.interval_s) == ("none", "static", 300)


def test_set_validates_coerces_and_persists_with_private_modes(data_dir: Path) -> None:
    assert config.set_value(data_dir, "scheduler.interval_s", "60") == 60
    assert config.set_value(data_dir, "recall.inject", "true") is True
    config.set_value(data_dir, "llm.base_url", 'http://127.0.0.1:9/v1 "quoted"')
    s = config.settings_for(data_dir)
    assert (s.scheduler.interval_s, s.recall.inject, s.llm.base_url) == (60, True, 'http://127.0.0.1:9/v1 "quoted"')
    assert stat.S_IMODE(config.config_path(data_dir).stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("llm.provider", "gpt", "bad value for llm.provider"),
        ("scheduler.interval_s", "soon", "bad value for scheduler.interval_s"),
        ("llm.colour", "red", "unknown setting 'llm.colour'"),
        ("nosuch.key", "1", "unknown setting 'nosuch.key'"),
        ("llm", "x", "unknown setting 'llm'"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(data_dir: Path, key: str, value: str, message: str) -> None:
    config.set_value(data_dir, "scheduler.interval_s", "60")
    before = config.config_path(data_dir).read_bytes()
    with pytest.raises(ConfigError, match=message):
        config.set_value(data_dir, key, value)
    assert config.config_path(data_dir).read_bytes() == before


def test_per_store_overrides_win_for_that_store_only(data_dir: Path) -> None:
    config.set_value(data_dir, "llm.model_fast", "small")
    config.set_value(data_dir, "llm.model_fast", "tiny", store="proj")
    assert config.settings_for(data_dir, "proj").llm.model_fast == "tiny"
    assert config.settings_for(data_dir, "other").llm.model_fast == "small"
    config.unset(data_dir, "llm.model_fast", store="proj")
    assert config.settings_for(data_dir, "proj").llm.model_fast == "small"


def test_secrets_are_redacted_in_get_and_show(data_dir: Path) -> None:
    config.set_value(data_dir, "llm.api_key", "sk-secret-123")
    assert config.get(data_dir, "llm.api_key") == config.REDACTED
    assert "sk-secret-123" not in str(config.redacted(config.settings_for(data_dir)))
    assert config.get(data_dir, "llm.api_key", reveal=True) == "sk-secret-123"


def test_a_broken_file_is_a_clear_error(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    config.config_path(data_dir).write_text("[llm\nprovider=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.settings_for(data_dir)
    config.config_path(data_dir).write_text('[llm]\nprovider = "gpt"\n')
    with pytest.raises(ConfigError, match=r"\[llm\]"):
        config.settings_for(data_dir)
    config.config_path(data_dir).write_text("[colours]\nred = 1\n")
    with pytest.raises(ConfigError, match="unknown section"):
        config.settings_for(data_dir)


def test_the_written_toml_reads_back_identically(data_dir: Path) -> None:
    for key, value in [("llm.api_key", "a\\b\"c\nd"), ("rerank.top_n", "7"), ("llm.timeout_s", "2.5")]:
        config.set_value(data_dir, key, value)
    config.set_value(data_dir, "embeddings.provider", "hashing", store="s1")
    raw = config.read_raw(data_dir)
    assert raw["llm"]["api_key"] == 'a\\b"c\nd'
    assert raw["stores"]["s1"]["embeddings"]["provider"] == "hashing"
    assert config.settings_for(data_dir).llm.timeout_s == 2.5
