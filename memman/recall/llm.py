"""The LLM's part in recall, both opt-in and both off the hot path unless configured:

- `expansion`: `recall --expand` asks the fast model for synonyms and entities
  (cached per store, see workers/llm/expand.py); they join the keyword query.
- `rerank`: when the store sets `rerank.provider`, the top `rerank.top_n`
  fused candidates are re-ordered by a cross-encoder (Voyage or a compatible
  /rerank endpoint). Skipped for 1-2 token queries (nothing to re-rank by);
  on failure the fused order stands and `meta.degraded` says why.

Nothing here imports httpx unless an expansion or a rerank actually runs.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from events.errors import MemmanError
from memman.output.results import RecallResult

MIN_RERANK_TOKENS = 3


def _note(current: str | None, note: str) -> str:
    return f"{current}; {note}" if current else note


def expansion(data_dir: Path, store: str, store_dir: Path, query: str) -> tuple[list[str], str | None]:
    """(extra keyword terms, a note when expansion could not run)."""
    from memman.config import settings_for

    llm = settings_for(data_dir, store).llm
    if llm.provider == "none":
        return [], "--expand needs an LLM (llm.provider); recalled without expansion"
    from workers.llm.client import ChatClient
    from workers.llm.expand import QueryExpander

    try:
        client = ChatClient(llm)
        try:
            return QueryExpander(client, store_dir).expand(query).terms(), None
        finally:
            client.close()
    except MemmanError as exc:
        return [], f"query expansion failed ({exc}); recalled without it"


def rerank(data_dir: Path, store: str, query: str, result: RecallResult) -> RecallResult:
    from memman.config import config_path, settings_for

    if not config_path(data_dir).exists():
        return result
    settings = settings_for(data_dir, store).rerank
    if settings.provider == "none" or len(query.split()) < MIN_RERANK_TOKENS or len(result.results) < 2:
        return result
    from workers.llm.rerank import Reranker

    top, rest = result.results[: settings.top_n], result.results[settings.top_n :]
    try:
        reranker = Reranker(settings)
        try:
            ranked = reranker.rerank(query, [(h.id, h.content) for h in top])
        finally:
            reranker.close()
    except MemmanError as exc:
        meta = msgspec.structs.replace(result.meta, degraded=_note(result.meta.degraded, f"rerank failed ({exc}); fused order kept"))
        return msgspec.structs.replace(result, meta=meta)
    position = {memory_id: i for i, (memory_id, _) in enumerate(ranked)}
    reordered = sorted(top, key=lambda h: position.get(h.id, len(position)))
    meta = msgspec.structs.replace(result.meta, reranked=f"{settings.provider}:{reranker.model or 'default'}")
    return msgspec.structs.replace(result, results=[*reordered, *rest], meta=meta)
