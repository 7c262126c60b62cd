"""Purge reaches what an LLM derived (issue 14, item 4): facts, enrichment and
reconciler verdicts drawn from a text, and the archive a `rederive
--from-inputs` cut-over keeps, leave no byte of the text under the data dir;
the log still verifies."""

from __future__ import annotations

from pathlib import Path

from memman import config
from memman.config import LLMSettings
from memman.maintenance import drain_all
from memman.service import Memman
from tests.cli.conftest import Cli
from tools.fake_llm import FakeLLM

WORD = "Osprey"


def _holding(data_dir: Path) -> list[str]:
    needles = (WORD.encode(), WORD.lower().encode(), WORD.upper().encode())
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.is_file() and any(n in p.read_bytes() for n in needles))


def test_purge_match_erases_llm_derivations_and_the_rederive_archive(
    app: Memman, data_dir: Path, fake: FakeLLM, llm_settings: LLMSettings
) -> None:
    from memman.shadow import rederive_from_inputs

    app.remember(f"We chose {WORD} for the cache. It needs no server.")
    app.remember("The kiosk fleet runs Debian on every terminal")
    drain_all(data_dir)  # rules first
    for field in ("provider", "base_url", "api_key", "model_fast", "model_slow", "timeout_s", "max_retries", "retry_backoff_s"):
        config.set_value(data_dir, f"llm.{field}", str(getattr(llm_settings, field)))
    rederive_from_inputs(app, cut_over=True)  # the LLM's derivation becomes the store; the old one is archived
    app.remember(f"{WORD} caches expire after an hour")
    drain_all(data_dir)  # extracted, reconciled and enriched by the LLM
    app.close()
    cli = Cli(data_dir)
    stores = [s["name"] for s in cli.json("store", "list")["stores"]]
    assert any("rederive" in s for s in stores), stores
    held = _holding(data_dir)
    assert any("rederive" in h for h in held) and any(h.startswith("stores/default/") for h in held), held

    report = cli.json("purge", "--match", WORD.lower(), "--yes", "--reason", "user request")
    assert report["related"] and report["remaining"] == [], report
    assert _holding(data_dir) == []
    for store in stores:
        assert cli.json("--store", store, "events", "verify")["ok"], store
    assert [h["content"] for h in cli.json("recall", "kiosk fleet")["results"]][:1] == [
        "The kiosk fleet runs Debian on every terminal"
    ]
