"""Which implementation runs each derivation stage, from the store's settings.

    pipeline = build_pipeline(settings.llm)   # any struct shaped like memman.config.LLMSettings
    pipeline.extractor, pipeline.reconciler   # rules, or the LLM stages
    pipeline.enricher                         # None offline (see below)
    pipeline.causal                           # LLMCausalInferer, or None offline
    pipeline.close()

`llm.provider = "none"` (the default) is the offline rule pipeline: no key, no
network, no httpx import. It has no enrichment stage: the rule extractor's
entities already feed the keyword index, and rule "keywords" would only
repeat the text's own words. With `openai` (any OpenAI-compatible endpoint)
every stage is the LLM one. Which one decided is recorded in each event
(`Provenance.implementation` = "rules" or "llm").

Workers do not read config files: the caller (memman.maintenance.drain_all)
resolves the settings, per store, and passes them in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from workers.stages.extract import RuleExtractor
from workers.stages.reconcile import RuleReconciler

if TYPE_CHECKING:
    from workers.llm.capture import LLMCapturer
    from workers.llm.causal import LLMCausalInferer
    from workers.llm.client import ChatClient
    from workers.llm.stages import LLMEnricher, LLMExtractor, LLMReconciler
    from workers.stages.capture import RuleCapturer


class _Provider(Protocol):
    provider: str


class Pipeline:
    def __init__(
        self,
        *,
        extractor: RuleExtractor | LLMExtractor,
        reconciler: RuleReconciler | LLMReconciler,
        enricher: LLMEnricher | None = None,
        causal: LLMCausalInferer | None = None,
        client: ChatClient | None = None,
        capturer: RuleCapturer | LLMCapturer | None = None,  # session captures (workers/capture.py); None: the rules
    ) -> None:
        self.capturer = capturer
        self.extractor = extractor
        self.reconciler = reconciler
        self.enricher = enricher
        self.causal = causal
        self.client = client

    @property
    def implementation(self) -> str:
        return "llm" if self.client is not None else "rules"

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pipeline_stages(pipeline: Pipeline | None) -> dict[str, object]:
    """The Deriver keyword arguments for a pipeline (none: the rule defaults)."""
    if pipeline is None:
        return {}
    return {
        "extractor": pipeline.extractor,
        "reconciler": pipeline.reconciler,
        "enricher": pipeline.enricher,
        "causal": pipeline.causal,
    }


def rules_pipeline() -> Pipeline:
    return Pipeline(extractor=RuleExtractor(), reconciler=RuleReconciler())


def build_pipeline(llm: _Provider | None, *, breakers: str = "") -> Pipeline:
    """The rules, or the LLM stages over one client; `breakers`
    (<data_dir>/breakers) shares its circuit breaker across processes."""
    if llm is None or llm.provider == "none":
        return rules_pipeline()
    from workers.llm.capture import LLMCapturer
    from workers.llm.causal import LLMCausalInferer
    from workers.llm.client import ChatClient
    from workers.llm.stages import LLMEnricher, LLMExtractor, LLMReconciler

    client = ChatClient(llm, breakers=breakers)  # type: ignore[arg-type]
    return Pipeline(
        capturer=LLMCapturer(client),
        extractor=LLMExtractor(client),
        reconciler=LLMReconciler(client),
        enricher=LLMEnricher(client),
        causal=LLMCausalInferer(client),
        client=client,
    )
