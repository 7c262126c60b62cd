"""Re-derivation under a new prompt or model, without re-reading merged text.

`plan` finds the active memories whose enrichment is stale: never enriched by
the LLM, or enriched under another prompt (version/hash) or model than the
store's configured slow model would use now. `rederive` re-enriches them,
appending new `memory.enriched` events whose causation is the memory's
original input (`memory.remembered` / `memory.replaced`), so the audit trail
says what changed and why; the projection keeps the latest enrichment.

With an unchanged configuration nothing is stale, so a re-run (like a replay)
makes zero LLM calls. `graph rebuild --llm` calls `rederive` too.

Each run's events carry the stage `enrich:<memory id>@<log head at the
start>`, unique per run, so re-running under the same prompt (`--all`) never
collides with an earlier derivation.
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from events.errors import BadInput
from events.log import NewEvent
from events.types import MemoryEnriched, MemoryId
from memman.service import Memman

BATCH = 8  # memories per enrichment call


class StaleItem(msgspec.Struct, frozen=True, kw_only=True):
    memory_id: str
    why: str


class RederiveReport(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    prompt: str  # "enrich/<version> <hash>"
    model: str
    stale: int
    rederived: int
    dry_run: bool
    llm_calls: int
    tokens_in: int
    tokens_out: int
    seconds: float
    items: list[StaleItem]


def _latest_enrichment(app: Memman) -> dict[str, MemoryEnriched]:
    latest: dict[str, MemoryEnriched] = {}
    for rec in app.db.log.read(types=frozenset({"memory.enriched"})):
        latest[rec.event.memory_id] = rec.event  # type: ignore[union-attr]
    return latest


def plan(app: Memman, prompt_version: str, prompt_hash: str, model: str, *, everything: bool = False) -> list[StaleItem]:
    latest = _latest_enrichment(app)
    rows = app.fresh().main.conn.execute("SELECT id FROM memories WHERE status='active' ORDER BY key").fetchall()
    items = []
    for (memory_id,) in rows:
        e = latest.get(memory_id)
        if e is None or e.provenance.implementation != "llm":
            why = "never enriched by an LLM"
        elif e.provenance.prompt_hash != prompt_hash or e.provenance.version != prompt_version:
            why = f"prompt {e.provenance.version}/{(e.provenance.prompt_hash or '-')[:8]} -> {prompt_version}/{prompt_hash[:8]}"
        elif e.provenance.model != model:
            why = f"model {e.provenance.model} -> {model}"
        elif everything:
            why = "current; re-derived on request (--all)"
        else:
            continue
        items.append(StaleItem(memory_id=memory_id, why=why))
    return items


def rederive(app: Memman, data_dir: Path, *, everything: bool = False, dry_run: bool = False) -> RederiveReport:
    """Re-enrich stale memories (or all, with `everything`) of the app's store."""
    if not dry_run:
        app.ensure_writable()
    from memman.config import settings_for
    from workers.llm import prompts
    from workers.lock import drain_lock
    from workers.pipeline import build_pipeline

    started = time.perf_counter()
    llm = settings_for(data_dir, app.store).llm
    if llm.provider == "none":
        raise BadInput("rederive needs an LLM: set llm.provider, llm.base_url and the models (see docs/llm.md)")
    calls = tokens_in = tokens_out = rederived = 0
    with drain_lock(data_dir), build_pipeline(llm) as pipeline:
        enricher = pipeline.enricher
        assert enricher is not None and pipeline.client is not None
        items = plan(app, enricher.version, enricher.prompt.hash, enricher.model, everything=everything)
        if not dry_run and items:
            conn = app.db.main.conn
            head = app.db.log.head()
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                rows = {
                    r[0]: (r[1], r[2])
                    for r in conn.execute(
                        f"SELECT id, content, input_seq FROM memories WHERE id IN ({','.join('?' * len(batch))})",
                        tuple(i.memory_id for i in batch),
                    )
                }
                enricher.reset_usage()
                t0 = time.perf_counter()
                results = enricher.enrich([(i.memory_id, rows[i.memory_id][0]) for i in batch])
                provenance = enricher.provenance((time.perf_counter() - t0) * 1000)
                calls += 1
                tokens_in, tokens_out = tokens_in + provenance.tokens_in, tokens_out + provenance.tokens_out
                new = [
                    NewEvent(
                        event=MemoryEnriched(
                            memory_id=MemoryId(r.memory_id),
                            keywords=r.keywords,
                            summary=r.summary,
                            entities=r.entities,
                            provenance=provenance,
                        ),
                        actor="rederive",
                        causation=rows[r.memory_id][1],
                        stage=f"enrich:{r.memory_id}@{head}",
                    )
                    for r in results
                ]
                app.db.log.append_many(new)  # each batch lands whole: an interrupted run resumes where it stopped
                rederived += len(new)
            app.db.main.catch_up()
        return RederiveReport(
            store=app.store,
            prompt=f"{prompts.ENRICH.task}/{enricher.version} {enricher.prompt.hash}",
            model=enricher.model,
            stale=len(items),
            rederived=rederived,
            dry_run=dry_run,
            llm_calls=calls,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            seconds=round(time.perf_counter() - started, 3),
            items=items,
        )
