"""Derives one input (a `memory.remembered` or `memory.replaced` event) into
memories: extraction -> reconciliation -> embedding -> edges, each stage
recording its own derived event.

`derive` returns the events for one input; the drain appends a chunk of
inputs' events in one transaction and then catches the projections up. Until
then, what this deriver decided lives in `Pending` (memories now active,
memories retired, where each new memory sits in time), so every input is
still reconciled and linked against everything before it.

If a stage fails, the stages that succeeded are still recorded, with a
`derivation.failed` event; the retry reuses them and redoes only what is
missing, so no work is done twice and nothing is duplicated (the log's unique
(type, causation, stage) index guarantees it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import apsw
import msgspec
import numpy as np

from events.clock import to_iso
from events.errors import CircuitOpen, MemmanError
from events.ids import UlidFactory
from events.log import NewEvent
from events.types import (
    Candidate,
    Decision,
    DerivationFailed,
    Edge,
    EdgesInferred,
    FactsExtracted,
    MemoryEmbedded,
    MemoryEnriched,
    MemoryId,
    MemoryReconciled,
    MemoryRemembered,
    MemoryReplaced,
    Provenance,
    Recorded,
    Vector,
)
from projections.store import StoreDB
from projections.vectors import as_stored, encode
from workers.embedders.base import Embedder
from workers.pending import Pending
from workers.stages.edges import EdgeInferer, EdgePolicy, NewMemory
from workers.stages.extract import ExtractInput, RuleExtractor
from workers.stages.probe import KeywordProbe
from workers.stages.reconcile import Known, RuleReconciler, is_value
from workers.vectors.indexedset import IndexedVectorSet
from workers.vectors.vectorset import VectorSet

ACTOR = "drain"
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
KEYWORD_CANDIDATES = 5
VECTOR_CANDIDATES = 5
MIN_CANDIDATE_SIMILARITY = 0.3
RARE_ENTITY_MIN = 50  # names in at most this many memories (or 2% of the store) probe the keyword index
RARE_ENTITY_SHARE = 0.02


class StageFailed(Exception):
    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause


def backoff(attempt: int) -> timedelta:
    """30 s, 60 s, 2 min, 4 min, ... capped at an hour."""
    return min(BACKOFF_BASE * (2 ** (attempt - 1)), BACKOFF_CAP)


class Deriver:
    def __init__(
        self,
        db: StoreDB,
        embedder: Embedder,
        vectors: VectorSet | IndexedVectorSet,
        *,
        clock: Callable[[], datetime],
        extractor: RuleExtractor | None = None,
        reconciler: RuleReconciler | None = None,
        also: Embedder | None = None,  # an embedder swap's target: new memories get both embeddings
        policy: EdgePolicy | None = None,
        enricher: object | None = None,  # workers.llm.stages.LLMEnricher (see workers/pipeline.py); None offline
        causal: object | None = None,  # workers.llm.causal.LLMCausalInferer, for the edges stage; None offline
    ) -> None:
        self.db = db
        self.embedder = embedder
        self.vectors = vectors
        self.clock = clock
        self.extractor = extractor or RuleExtractor()
        self.reconciler = reconciler or RuleReconciler()
        self.enricher = enricher
        self.causal = causal
        self._ids = UlidFactory()
        self._embed_stage = f"embed:{embedder.fingerprint.key}"
        self.also = also
        self.also_missed = 0  # inputs whose swap-target embedding failed (the swap backfills them)
        self.skipped = 0  # inputs left pending because a provider's circuit was open
        self._prepared_facts: dict[int, FactsExtracted | Exception] = {}
        self._prepared_vectors: dict[tuple[str, int], np.ndarray | Exception] = {}
        self._known: dict[int, list[Recorded]] = {}  # the chunk's earlier derivations, read in `prepare`
        self.pending = Pending()
        self.policy = policy or EdgePolicy()
        self.probe = KeywordProbe(db.main.conn)
        self.edges = EdgeInferer(
            db.main.conn, vectors, self.pending, self.policy, embedder.fingerprint.provider, causal=causal  # type: ignore[arg-type]
        )

    def derive(self, rec: Recorded, attempts_so_far: int) -> tuple[list[NewEvent], bool]:
        """The events derived from one input, and whether every stage succeeded."""
        done = {(d.type, d.stage): d for d in self._derivations_of(rec.seq)}
        new: list[NewEvent] = []
        try:
            self._derive(rec, done, new)
        except StageFailed as failure:
            if _circuit_open(failure):  # skipped, not tried: stays pending, spends no attempt
                self.skipped += 1
                return [], False
            attempt = attempts_so_far + 1
            dead = attempt >= MAX_ATTEMPTS
            event = DerivationFailed(
                input_id=rec.event.memory_id,  # type: ignore[union-attr]
                stage=failure.stage,
                error=str(failure)[:2000],
                attempt=attempt,
                dead=dead,
                retry_after=None if dead else to_iso(self.clock() + backoff(attempt)),
            )
            new.append(NewEvent(event=event, actor=ACTOR, causation=rec.seq, stage=f"{failure.stage}#{attempt}"))
            return new, False
        return new, True

    # ------------------------------------------------------------ stages

    def _derive(self, rec: Recorded, done: dict, new: list[NewEvent]) -> None:
        source_event = rec.event
        assert isinstance(source_event, MemoryRemembered | MemoryReplaced)
        extracted = done.get(("facts.extracted", "extract"))
        if extracted is None:
            prepared = self._prepared_facts.pop(rec.seq, None)
            if isinstance(prepared, Exception):  # failed in `prepare`: record it, do not call a failing provider twice
                raise StageFailed("extract", prepared)
            facts_event = prepared or self._stage("extract", lambda: self._extract(source_event))
            new.append(NewEvent(event=facts_event, actor=ACTOR, causation=rec.seq, stage="extract"))
        else:
            facts_event = extracted.event
        facts = facts_event.facts
        self.vectors.remove(source_event.memory_id)  # a replaced text is no longer what it said
        if not facts:  # the extractor found nothing worth storing
            self._retire_input(rec, facts_event, done, new)
            return

        started = time.perf_counter()
        matrix = self._stage("embed", lambda: self._embedded(self.embedder, rec.seq, facts))
        embed_ms = (time.perf_counter() - started) * 1000

        reconciled = done.get(("memory.reconciled", "reconcile"))
        if reconciled is None:
            _reset(self.reconciler)
            started = time.perf_counter()
            replaces = source_event.replaces if isinstance(source_event, MemoryRemembered) else None
            decisions = self._stage(
                "reconcile", lambda: self._reconcile(source_event.memory_id, facts, matrix, replaces)
            )
            provenance = _provenance(self.reconciler, started)
            event = MemoryReconciled(input_id=source_event.memory_id, decisions=decisions, provenance=provenance)
            new.append(NewEvent(event=event, actor=ACTOR, causation=rec.seq, stage="reconcile"))
        else:
            decisions = reconciled.event.decisions
        merged = [i for i, d in enumerate(decisions) if d.text]
        if merged:  # an UPDATE's merged text is what the memory now says: embed, enrich and link that
            facts = [msgspec.structs.replace(f, text=d.text) if d.text else f for f, d in zip(facts, decisions, strict=True)]
            vectors = self._stage("embed", lambda: as_stored(self.embedder.embed([facts[i].text for i in merged])))
            matrix = matrix.copy()
            matrix[merged] = vectors
        self._track(decisions, facts, matrix)

        kept = [i for i, d in enumerate(decisions) if d.action != "NONE"]
        if ("memory.embedded", self._embed_stage) not in done:
            fp = self.embedder.fingerprint
            event = MemoryEmbedded(
                fingerprint=fp.key,
                dim=fp.dim,
                vectors=[
                    Vector(memory_id=decisions[i].memory_id, data=encode(matrix[i])) for i in kept
                ],
                provenance=Provenance(
                    implementation=fp.provider, model=fp.model, fingerprint=fp.key, latency_ms=round(embed_ms, 3)
                ),
            )
            new.append(NewEvent(event=event, actor=ACTOR, causation=rec.seq, stage=self._embed_stage))
        self._embed_also(rec.seq, [decisions[i].memory_id for i in kept], kept, facts, done, new)
        if self.enricher is not None:
            self._enrich(rec.seq, [(decisions[i].memory_id, facts[i].text) for i in kept], done, new)

        if ("edges.inferred", "edges") not in done:
            new_memories = [
                (facts[i], decisions[i].memory_id, matrix[i].astype("<f4").tobytes()) for i in kept
            ]
            edges = self._stage("edges", lambda: self._edges(source_event.memory_id, new_memories))
            provenance = Provenance(implementation=self.edges.implementation, version=self.policy.key)
            if self.causal is not None:  # the LLM's model, prompt, tokens and latency, under the policy's version
                llm = self.causal.provenance()  # type: ignore[attr-defined]
                provenance = msgspec.structs.replace(llm, implementation=self.edges.implementation, version=self.policy.key)
            event = EdgesInferred(edges=edges, provenance=provenance, input_id=source_event.memory_id)
            new.append(NewEvent(event=event, actor=ACTOR, causation=rec.seq, stage="edges"))

    # ------------------------------------------------------------ embedding in batches

    def finish_chunk(self) -> None:
        """The chunk's events are in the log: drop what was read for it."""
        self._known = {}
        self.pending.clear()

    def _derivations_of(self, seq: int) -> list[Recorded]:
        known = self._known.get(seq)
        return known if known is not None else self.db.log.derivations_of(seq)

    def prepare(self, recs: list[Recorded]) -> None:
        """Extract a chunk's inputs and embed all their facts in one call per
        embedder: a remote provider gets one request per batch, not one per
        input. What fails here is left for `derive`, which records it."""
        self._prepared_facts.clear()
        self._prepared_vectors.clear()
        # One query for the chunk's earlier derivations (a round trip each would
        # dominate on a PostgreSQL log); valid while the chunk is being derived.
        self._known = self.db.log.derivations_of_many([r.seq for r in recs])
        texts: dict[int, list[str]] = {}
        for rec in recs:
            e = rec.event
            if not isinstance(e, MemoryRemembered | MemoryReplaced):
                continue
            done = {(d.type, d.stage): d for d in self._derivations_of(rec.seq)}
            extracted = done.get(("facts.extracted", "extract"))
            if extracted is None:
                try:
                    extracted_now = self._extract(e)
                except Exception as exc:  # noqa: BLE001 - derive() records the failure
                    self._prepared_facts[rec.seq] = exc
                    continue
                self._prepared_facts[rec.seq] = extracted_now
                texts[rec.seq] = [f.text for f in extracted_now.facts]
            else:
                texts[rec.seq] = [f.text for f in extracted.event.facts]
        flat = [t for group in texts.values() for t in group]
        for embedder in (self.embedder, self.also):
            if embedder is None or not flat:
                continue
            key = embedder.fingerprint.key
            try:
                matrix = embedder.embed(flat)
            except Exception as exc:  # noqa: BLE001 - re-raised per input by _embedded, inside its stage
                self._prepared_vectors.update(((key, seq), exc) for seq in texts)
                continue
            if embedder is self.embedder:  # the chunk's queries, scored in one product (workers/vectors/vectorset.py)
                self.vectors.prescore(as_stored(matrix))
            start = 0
            for seq, group in texts.items():
                self._prepared_vectors[(key, seq)] = matrix[start : start + len(group)]
                start += len(group)

    def _embedded(self, embedder: Embedder, seq: int, facts: list) -> np.ndarray:
        """The facts' vectors as they will be stored (rounded to float16,
        projections/vectors.py): the drain compares what a replay will read."""
        got = self._prepared_vectors.pop((embedder.fingerprint.key, seq), None)
        if isinstance(got, Exception):
            raise got
        if got is not None and len(got) == len(facts):
            return as_stored(got)
        return as_stored(embedder.embed([f.text for f in facts]))

    def _embed_also(
        self, seq: int, memory_ids: list[str], kept: list[int], facts: list, done: dict, new: list[NewEvent]
    ) -> None:
        """During an embedder swap, also embed the new memories for the target.
        A failing target does not fail the input: the swap's backfill embeds
        whatever is missing before it cuts over, so nothing is lost."""
        if self.also is None:
            return
        fp = self.also.fingerprint
        stage = f"embed:{fp.key}"
        if stage == self._embed_stage or ("memory.embedded", stage) in done:
            return
        started = time.perf_counter()
        try:
            matrix = self._embedded(self.also, seq, facts)[kept] if kept else np.zeros((0, fp.dim), np.float32)
        except MemmanError:
            self.also_missed += 1
            return
        event = MemoryEmbedded(
            fingerprint=fp.key,
            dim=fp.dim,
            vectors=[Vector(memory_id=m, data=encode(row)) for m, row in zip(memory_ids, matrix)],
            provenance=Provenance(
                implementation=fp.provider,
                model=fp.model,
                fingerprint=fp.key,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
            ),
        )
        new.append(NewEvent(event=event, actor=ACTOR, causation=seq, stage=stage))

    def _retire_input(self, rec: Recorded, facts_event: FactsExtracted, done: dict, new: list[NewEvent]) -> None:
        """Nothing worth storing: the input retires itself (a DELETE targeting
        it, with the extractor's reason), so it ends `forgotten`, visibly and
        reversibly (`memman restore`); no vector, no edges."""
        input_id = rec.event.memory_id  # type: ignore[union-attr]
        if ("memory.reconciled", "reconcile") not in done:
            why = facts_event.warnings[-1] if facts_event.warnings else "nothing worth storing"
            decision = Decision(memory_id=input_id, action="DELETE", target=input_id, reason=why)
            event = MemoryReconciled(input_id=input_id, decisions=[decision], provenance=facts_event.provenance)
            new.append(NewEvent(event=event, actor=ACTOR, causation=rec.seq, stage="reconcile"))
        self.pending.retired.add(input_id)
        if ("edges.inferred", "edges") not in done:
            provenance = Provenance(implementation=self.edges.implementation, version=self.policy.key)
            event = EdgesInferred(edges=[], provenance=provenance, input_id=input_id)
            new.append(NewEvent(event=event, actor=ACTOR, causation=rec.seq, stage="edges"))

    def _enrich(self, seq: int, memories: list[tuple[str, str]], done: dict, new: list[NewEvent]) -> None:
        """memory.enriched for each new memory (stage `enrich:<memory id>`), one call for the input."""
        todo = [(m, text) for m, text in memories if ("memory.enriched", f"enrich:{m}") not in done]
        if not todo:
            return
        enricher = self.enricher
        _reset(enricher)
        started = time.perf_counter()
        results = self._stage("enrich", lambda: enricher.enrich(todo))  # type: ignore[union-attr]
        provenance = _provenance(enricher, started)
        for r in results:
            event = MemoryEnriched(
                memory_id=r.memory_id, keywords=r.keywords, summary=r.summary, entities=r.entities, provenance=provenance
            )
            new.append(NewEvent(event=event, actor=ACTOR, causation=seq, stage=f"enrich:{r.memory_id}"))

    @staticmethod
    def _stage(name: str, work: Callable):  # type: ignore[no-untyped-def]
        try:
            return work()
        except Exception as exc:  # any failure of a stage is recorded, retried, never swallowed
            raise StageFailed(name, exc) from exc

    def _extract(self, e: MemoryRemembered | MemoryReplaced) -> FactsExtracted:
        _reset(self.extractor)
        started = time.perf_counter()
        item = ExtractInput(
            memory_id=e.memory_id, text=e.text, category=e.category, importance=e.importance, entities=e.entities
        )
        out = self.extractor.extract(item, lambda: self._ids.mint(self.clock()))
        provenance = _provenance(self.extractor, started)
        return FactsExtracted(input_id=e.memory_id, facts=out.facts, warnings=out.warnings, provenance=provenance)

    def _reconcile(
        self, input_id: str, facts: list, matrix: np.ndarray, replaces: str | None = None
    ) -> list[Decision]:
        """One decision per fact. The agent's explicit `--replaces` decides the
        input's own fact (an UPDATE of that memory, the candidates still
        recorded); the reconciler decides the rest."""
        own = [input_id, *(f.memory_id for f in facts)]
        conn = self.db.main.conn
        decisions = []
        for fact, vector in zip(facts, matrix, strict=True):
            # Duplicates and changed values share entities: probe with the values
            # and the rare names (a name in thousands of memories makes bm25 rank
            # them all, and near-duplicates sharing only it are vector neighbours).
            # A fact whose names are all common gets its keyword candidates from
            # the vectors alone (a duplicate's vector is its own).
            probe = " ".join(self._probe_terms(fact.entities)) if fact.entities else fact.text
            found = dict.fromkeys(self.probe.search(probe, limit=KEYWORD_CANDIDATES, exclude=own))
            near = dict(self.vectors.top(vector, VECTOR_CANDIDATES, min_similarity=MIN_CANDIDATE_SIMILARITY))
            ids = [i for i in dict.fromkeys([*found, *near]) if i not in own and i not in self.pending.retired]
            rows = _candidate_rows(conn, ids)
            known = []
            for memory_id in ids:
                row = rows.get(memory_id)
                if row is not None and row[0] == "active":
                    candidate = Known(
                        memory_id=memory_id, content=row[1], entities=_entity_list(row[2]), protected=bool(row[3])
                    )
                elif memory_id in self.pending.active:  # activated earlier in this drain; protected may be set already
                    candidate = self.pending.active[memory_id]
                    if row is not None and row[3]:
                        candidate = msgspec.structs.replace(candidate, protected=True)
                else:
                    continue
                stored = self.vectors.get(memory_id)
                similarity = float(stored @ vector) if stored is not None else None
                known.append(msgspec.structs.replace(candidate, similarity=similarity))
            if replaces and fact.memory_id == input_id:
                decisions.append(_explicit(fact.memory_id, replaces, known))
            else:
                decisions.append(self.reconciler.decide(fact.memory_id, fact.text, fact.entities, known))
        return decisions

    def _edges(self, input_id: str, new_memories: list[tuple]) -> list[Edge]:  # type: ignore[type-arg]
        row = self.db.main.conn.execute("SELECT source, occurred_at FROM memories WHERE id = ?", (input_id,)).fetchone()
        if row is None or not new_memories:
            return []
        source, occurred_at = row
        return self.edges.infer(
            [
                NewMemory(
                    id=memory_id,
                    text=fact.text,
                    entities=fact.entities,
                    source=source,
                    occurred_at=occurred_at,
                    vector=vector,
                )
                for fact, memory_id, vector in new_memories
            ]
        )

    def _probe_terms(self, entities: list[str]) -> list[str]:
        rare = max(RARE_ENTITY_MIN, int(self.edges.total() * RARE_ENTITY_SHARE))
        kept = []
        for entity in entities:
            if is_value(entity):  # a value (30s, 3.11): always selective enough
                kept.append(entity)
                continue
            df = self.edges.doc_frequency(entity.casefold())
            if df is not None and df <= rare:
                kept.append(entity)
        return kept

    def _track(self, decisions: list[Decision], facts: list, matrix: np.ndarray) -> None:
        """Keep the vector set and `pending` equal to what the projection will hold."""
        for decision, fact, vector in zip(decisions, facts, matrix, strict=True):
            if decision.action == "NONE":
                continue
            self.vectors.add(decision.memory_id, vector)
            self.pending.activate(Known(memory_id=decision.memory_id, content=fact.text, entities=fact.entities))
            if decision.action in ("UPDATE", "DELETE") and decision.target:
                self.vectors.remove(decision.target)
                self.pending.retire(decision.target)


_entity_list = msgspec.json.Decoder(list[str]).decode


def _candidate_rows(conn: apsw.Connection, ids: list[str]) -> dict[str, tuple[str, str, str, int]]:
    """id -> (status, content, entities as JSON, protected): what reconciliation
    reads of its candidates (a whole memory row decodes a dozen more columns)."""
    found: dict[str, tuple[str, str, str, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = f"SELECT id, status, content, entities, protected FROM memories WHERE id IN ({','.join('?' * len(chunk))})"
        found.update((r[0], r[1:]) for r in conn.execute(sql, chunk))
    return found


def _explicit(memory_id: str, replaces: str, known: list[Known]) -> Decision:
    """The UPDATE an agent asked for with `remember --replaces`, with the candidates the drain found."""
    ranked = sorted(known, key=lambda k: (-(k.similarity or 0.0), k.memory_id))
    candidates = [Candidate(memory_id=MemoryId(k.memory_id), similarity=round(k.similarity or 0.0, 4)) for k in ranked]
    return Decision(
        memory_id=MemoryId(memory_id),
        action="UPDATE",
        target=MemoryId(replaces),
        reason=f"replaces {replaces} (remember --replaces)",
        candidates=candidates[:8],
    )


def _reset(stage: object) -> None:
    """Start a stage's usage accounting afresh (the LLM stages account calls)."""
    reset = getattr(stage, "reset_usage", None)
    if reset is not None:
        reset()


def _provenance(stage: object, started: float) -> Provenance:
    """Who decided: an LLM stage reports model, prompt version and hash and
    tokens; a rule stage its implementation and version."""
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    account = getattr(stage, "provenance", None)
    if account is not None:
        return account(latency_ms)
    return Provenance(
        implementation=stage.implementation, version=stage.version, latency_ms=latency_ms  # type: ignore[attr-defined]
    )


def _circuit_open(failure: BaseException) -> bool:
    cause: BaseException | None = failure
    while cause is not None:
        if isinstance(cause, CircuitOpen):
            return True
        cause = cause.__cause__
    return False
