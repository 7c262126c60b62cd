"""Edge inference: how a new memory joins the four graphs.

    temporal  backbone: the previous active memory of the same source, by when
              it occurred (weight 1, rel=precedes); proximity: up to
              `proximity_cap` other memories that occurred within
              `proximity_window_s`, weight decaying with the gap (rel=near)
    entity    memories sharing a named entity (values such as 30s or 3.11 do
              not count), weighted by the entity's rarity (IDF normalised to
              0..1), at most `entity_cap_per_entity` per entity and
              `entity_cap_per_memory` in all; entities in more than half the
              store link nothing
    semantic  the `semantic_k` nearest vectors at or above the threshold
              calibrated for the store's embedder (see SEMANTIC_THRESHOLDS),
              overridable or skipped per store
    story     a later memory that continues an earlier one's story: the same
              life-event family told by the same person, or a change after a
              problem about the same subject (workers/stories/links.py)
    causal    offline: a cue phrase ("because", "due to", "led to",
              "therefore", ...) in either memory of an entity-sharing pair;
              the memory matching the cue's reason clause is the cause.
              With an LLM configured, an LLM inferer adds its own.

Older -> newer is the direction of temporal, entity, semantic and story edges;
causal edges point cause -> effect. All edges of one input are one
`edges.inferred` event whose provenance version is the policy's key, so a
policy change is visible in the log and re-derived by `graph rebuild`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

import apsw
import msgspec
import numpy as np

from events.clock import from_iso, to_iso
from events.types import Edge
from projections.fts import fts_any
from workers.pending import Pending
from workers.entities.aliases import canonical, variants
from workers.stages.reconcile import Known, named
from workers.stages.stamp import stamp
from workers.stories.links import StoryLinker
from workers.vectors.indexedset import IndexedVectorSet
from workers.vectors.vectorset import VectorSet

# Cosine at or above which two memories count as semantically related, per
# embedder provider. Calibrated on paraphrase vs unrelated pairs (static:
# paraphrase mean 0.53, unrelated mean 0.06, max 0.15): the floor sits above
# every unrelated pair and near the paraphrase mean, so only close relatives link.
SEMANTIC_THRESHOLDS = {"static": 0.55, "hashing": 0.5, "onnx": 0.6, "openai": 0.5, "voyage": 0.5, "ollama": 0.6}
DEFAULT_SEMANTIC_THRESHOLD = 0.6

_BACKWARD = r"because|due to|since|as a result of|caused by|thanks to|given that"
_FORWARD = r"led to|leads to|leading to|caused|causes|therefore|thus|hence|resulted in|so that|so we|which is why|that's why|that is why"
_CUE = re.compile(rf"\b({_BACKWARD}|{_FORWARD})\b", re.IGNORECASE)
_BACKWARD_CUES = frozenset(c for c in _BACKWARD.split("|"))
# A piece of every cue: an ASCII text holding none of them holds no cue (most texts; the regex is ~20x slower)
_CUE_PIECES = ("because", "due to", "since", "result", "caus", "thanks to", "given that", "lead", "led to", "therefore",
               "thus", "hence", "so that", "so we", "why")  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_entity_list = msgspec.json.Decoder(list[str]).decode
NAMING_LIMIT = 4096  # entity queries remembered within one state of the database
_STOP = frozenset("the a an and or of to in on for with is are was were be been it this that we our they".split())


class EdgePolicy(msgspec.Struct, frozen=True, kw_only=True):
    proximity_window_s: int = 1800
    proximity_cap: int = 3
    entity_cap_per_entity: int = 5
    entity_cap_per_memory: int = 10
    semantic_k: int = 5
    semantic_threshold: float = 0.0  # 0 = the embedder's calibrated default
    semantic_skip: bool = False
    causal_cap: int = 3
    causal_min_confidence: float = 0.6
    story_cap: int = 3  # story edges per new memory (workers/stories/links.py); 0 = none
    story_days: int = 180  # how far back a story is continued
    story_subject_share: float = 0.1  # a shared word said by at most this share of the store names one subject

    @property
    def key(self) -> str:
        return "p" + hashlib.sha256(msgspec.json.encode(self)).hexdigest()[:10]

    def threshold_for(self, provider: str) -> float:
        if self.semantic_threshold > 0:
            return self.semantic_threshold
        return SEMANTIC_THRESHOLDS.get(provider, DEFAULT_SEMANTIC_THRESHOLD)


class NewMemory(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    text: str
    entities: list[str]
    source: str
    occurred_at: str
    vector: bytes = b""


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}





def _cue(text: str) -> re.Match[str] | None:
    """`_CUE.search(text)`, skipped for an ASCII text holding no piece of a cue
    (case-insensitive matching goes beyond lower() only outside ASCII)."""
    if text.isascii():
        lowered = text.lower()
        if not any(piece in lowered for piece in _CUE_PIECES):
            return None
    return _CUE.search(text)


def _entity_query(name: str) -> str:
    """Memories naming `name` by any of its aliases (workers/entities/aliases.py)."""
    forms = fts_any(variants(name))
    return f"entities : ({forms})"


def causal_direction(with_cue: str, other: str) -> tuple[str, float] | None:
    """('other->cue' | 'cue->other', overlap) when `with_cue` states a cause
    or effect that `other` matches, else None."""
    match = _CUE.search(with_cue)
    if match is None:
        return None
    return _direction(with_cue, match, other)


def _direction(with_cue: str, match: re.Match[str], other: str) -> tuple[str, float] | None:
    """`causal_direction` once `with_cue`'s cue is found (`match`)."""
    before, after = with_cue[: match.start()], with_cue[match.end() :]
    backward = match.group(1).lower() in _BACKWARD_CUES
    cause_clause, effect_clause = (after, before) if backward else (before, after)
    words = _words(other)
    if not words:
        return None
    as_cause = len(words & _words(cause_clause)) / len(words)
    as_effect = len(words & _words(effect_clause)) / len(words)
    if max(as_cause, as_effect) < 0.2:
        return None
    return ("other->cue", as_cause) if as_cause >= as_effect else ("cue->other", as_effect)


class CausalInferer(Protocol):
    """An LLM (or other) causal inferer: cause -> effect edges between `memory`
    and its neighbours (workers/llm/causal.py)."""

    def infer(self, memory: Known, neighbours: Sequence[Known]) -> list[Edge]: ...


class EdgeInferer:
    """Infers the edges of new memories against the projection plus `pending`."""

    def __init__(
        self,
        conn: apsw.Connection,
        vectors: VectorSet | IndexedVectorSet,
        pending: Pending,
        policy: EdgePolicy,
        provider: str,
        causal: CausalInferer | None = None,
    ) -> None:
        self.causal = causal
        # `horizon`: when set, only memories with key < horizon exist (graph
        # rebuild replays the store in order, as the drain saw it)
        self.horizon: int | None = None
        self._df: dict[str, int | None] = {}
        self._epochs: dict[str, float] = {}  # parsed ISO times: proximity compares many pairs per chunk
        self.conn = conn
        self.vectors = vectors
        self.pending = pending
        self.policy = policy
        self.threshold = policy.threshold_for(provider)
        self._total: int | None = None
        self._naming: dict[tuple[str, int], tuple[list[str], int]] = {}  # (query, horizon) -> (ids, limit asked)
        self._stamp: tuple[int, int] | None = None  # the database's state `_naming` was read at
        self.stories = StoryLinker(
            conn, pending, cap=policy.story_cap, days=policy.story_days, subject_share=policy.story_subject_share,
            limit=lambda: self._limit, total=self.total,
        )  # fmt: skip

    def _seconds(self, a: str, b: str) -> float:
        return abs(self._epoch(a) - self._epoch(b))

    def _epoch(self, moment: str) -> float:
        at = self._epochs.get(moment)
        if at is None:
            at = self._epochs[moment] = from_iso(moment).timestamp()
        return at

    @property
    def implementation(self) -> str:
        return "rules" if self.causal is None else "rules+llm"

    @property
    def _limit(self) -> int:
        return self.horizon if self.horizon is not None else 2**62

    def doc_frequency(self, name: str) -> int | None:
        """How many memories name `name` (case-folded), None if FTS cannot parse
        it. Cached for the life of the inferer (one drain): it lags by at most
        the drain's own additions, which the pending overlay adds back."""
        name = canonical(name)
        df = self._df.get(name, -1)
        if df == -1:
            try:
                df = self.conn.execute(
                    "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", (_entity_query(name),)
                ).fetchone()[0]
            except apsw.SQLError:
                df = None
            self._df[name] = df
        return None if df is None else df + len(self.pending.named(name))

    def total(self) -> int:
        if self._total is None:
            self._total = self.conn.execute("SELECT count(*) FROM memories").fetchone()[0]
        return self._total + len(self.pending.active)

    def infer(self, memories: Sequence[NewMemory]) -> list[Edge]:
        if not memories:
            return []
        own = {m.id for m in memories}
        edges: dict[tuple[str, str, str], Edge] = {}

        def add(edge: Edge) -> None:
            key = (edge.src, edge.dst, edge.edge_type)
            if edge.src != edge.dst and (key not in edges or edges[key].weight < edge.weight):
                edges[key] = edge

        for edge in self._backbone(memories, own):
            add(edge)
        for m in memories:
            for edge in self._proximity(m, own):
                add(edge)
            related = self._entity_edges(m, own)
            for edge in related:
                add(edge)
            similar = [] if self.policy.semantic_skip else self._semantic(m, own)
            for edge in similar:
                add(edge)
            for edge in self._causal(m, own, [e.src for e in related]):
                add(edge)
            for edge in self.stories.links(m.id, m.text, m.entities, m.occurred_at, own):
                add(edge)
            if self.causal is not None:  # graph and vector neighbours, not only recent rows
                neighbours = list(dict.fromkeys([e.src for e in related] + [e.src for e in similar]))
                for edge in self._llm_causal(m, neighbours):
                    add(edge)
        self.pending.placed.extend((m.source, m.occurred_at, m.id) for m in memories)
        return list(edges.values())

    # ------------------------------------------------------------ temporal

    def _backbone(self, memories: Sequence[NewMemory], own: set[str]) -> list[Edge]:
        first = memories[0]
        placeholders = ",".join("?" * len(own))
        rows = self.conn.execute(
            "SELECT occurred_at, id FROM memories WHERE source=? AND +status='active' AND occurred_at <= ?"
            f" AND id NOT IN ({placeholders}) AND key < ? ORDER BY occurred_at DESC, key DESC LIMIT 8",
            (first.source, first.occurred_at, *own, self._limit),
        ).fetchall()
        before = [(at, i) for at, i in rows if i not in self.pending.retired][:1]
        for source, at, memory_id in self.pending.placed:  # placed since the last catch-up; later wins a tie
            if source == first.source and at <= first.occurred_at and memory_id not in self.pending.retired:
                if not before or at >= before[0][0]:
                    before = [(at, memory_id)]
        chain = [i for _, i in before] + [m.id for m in memories]
        return [
            Edge(src=a, dst=b, edge_type="temporal", weight=1.0, meta={"rel": "precedes"})
            for a, b in zip(chain, chain[1:])
        ]

    def _proximity(self, m: NewMemory, own: set[str]) -> list[Edge]:
        window = self.policy.proximity_window_s
        if window <= 0 or self.policy.proximity_cap <= 0:
            return []
        at = from_iso(m.occurred_at)
        span = timedelta(seconds=window)
        rows = self.conn.execute(
            "SELECT id, occurred_at FROM memories WHERE +status='active' AND occurred_at BETWEEN ? AND ?"
            " AND key < ? ORDER BY occurred_at DESC LIMIT 50",
            (to_iso(at - span), to_iso(at + span), self._limit),
        ).fetchall()
        found = [(i, t) for i, t in rows if i not in own and i not in self.pending.retired]
        mine = self._epoch(m.occurred_at)
        found += [(i, t) for _, t, i in self.pending.placed if i not in own and abs(self._epoch(t) - mine) <= window]
        nearest = sorted({i: t for i, t in found}.items(), key=lambda it: (self._seconds(it[1], m.occurred_at), it[0]))
        edges = []
        for other, t in nearest[: self.policy.proximity_cap]:
            gap = self._seconds(t, m.occurred_at)
            src, dst = (other, m.id) if t <= m.occurred_at else (m.id, other)
            edges.append(
                Edge(src=src, dst=dst, edge_type="temporal", weight=round(math.exp(-gap / window), 4), meta={"rel": "near"})
            )
        return edges

    # ------------------------------------------------------------ entity

    def _entity_edges(self, m: NewMemory, own: set[str]) -> list[Edge]:
        wanted = sorted(named(m.entities))
        if not wanted:
            return []
        total = max(self.total(), 2)
        scored: dict[str, tuple[float, str]] = {}
        for name in wanted:
            query = _entity_query(name)
            df = self.doc_frequency(name)
            if df is None:
                continue  # a name FTS cannot parse as a phrase links nothing
            if df > total / 2:
                continue  # too common to say anything
            weight = math.log((total + 1) / (df + 1)) / math.log(total + 1)
            ids = self._newest_naming(query, self.policy.entity_cap_per_entity + len(own))
            ids += sorted(self.pending.named(name))
            kept = [i for i in dict.fromkeys(reversed(ids)) if i not in own and i not in self.pending.retired]
            for other in kept[-self.policy.entity_cap_per_entity :]:
                if other not in scored or scored[other][0] < weight:
                    scored[other] = (weight, name)
        best = sorted(scored.items(), key=lambda it: (-it[1][0], it[0]))[: self.policy.entity_cap_per_memory]
        return [
            Edge(src=other, dst=m.id, edge_type="entity", weight=round(w, 4), meta={"entity": name})
            for other, (w, name) in best
        ]

    def _newest_naming(self, query: str, limit: int) -> list[str]:
        """The newest `limit` active memories matching an entity query, newest
        first. The answer for a larger limit (or one that ran out) answers a
        smaller one; all are forgotten when the database changes (a chunk's
        catch-up), so a chunk's facts naming the same entity read it once."""
        now = stamp(self.conn)
        if now != self._stamp:
            self._naming.clear()
            self._stamp = now
        known = self._naming.get((query, self._limit))
        if known is not None and (known[1] >= limit or len(known[0]) < known[1]):
            return known[0][:limit]
        rows = self.conn.execute(
            "SELECT m.id FROM memories_fts JOIN memories m ON m.key = memories_fts.rowid"
            " WHERE memories_fts MATCH ? AND memories_fts.rowid < ? AND m.status='active'"
            " ORDER BY memories_fts.rowid DESC LIMIT ?",  # FTS5 walks its doclist backwards and stops early
            (query, self._limit, limit),
        ).fetchall()
        if len(self._naming) >= NAMING_LIMIT:
            self._naming.clear()
        self._naming[(query, self._limit)] = ([r[0] for r in rows], limit)
        return [r[0] for r in rows]

    # ------------------------------------------------------------ semantic

    def _semantic(self, m: NewMemory, own: set[str]) -> list[Edge]:
        if not m.vector:
            return []
        vector = np.frombuffer(m.vector, dtype="<f4")
        near = self.vectors.top(vector, self.policy.semantic_k + len(own), min_similarity=self.threshold)
        return [
            Edge(src=other, dst=m.id, edge_type="semantic", weight=round(sim, 4))
            for other, sim in near
            if other not in own and other not in self.pending.retired
        ][: self.policy.semantic_k]

    # ------------------------------------------------------------ causal

    def _causal(self, m: NewMemory, own: set[str], related: list[str]) -> list[Edge]:
        if not related:
            return []
        texts = self._texts(related)
        mine = named(m.entities)
        my_cue = _cue(m.text)  # each text is searched for a cue once; most have none
        found: list[Edge] = []
        for other in related:
            text, entities = texts.get(other, ("", []))
            if not text:
                continue
            their_cue = _cue(text)
            if my_cue is None and their_cue is None:
                continue  # causal_direction is None both ways
            shared = len(mine & named(entities))
            if not shared:
                continue
            for with_cue, match, peer, cue_id, peer_id in (
                (m.text, my_cue, text, m.id, other),
                (text, their_cue, m.text, other, m.id),
            ):
                direction = None if match is None else _direction(with_cue, match, peer)
                if direction is None:
                    continue
                how, overlap = direction
                confidence = min(0.95, 0.45 + overlap * 0.5 + 0.05 * shared)
                if confidence < self.policy.causal_min_confidence:
                    continue
                src, dst = (peer_id, cue_id) if how == "other->cue" else (cue_id, peer_id)
                cue = match.group(1).lower()  # type: ignore[union-attr]
                found.append(
                    Edge(
                        src=src,
                        dst=dst,
                        edge_type="causal",
                        weight=round(confidence, 4),
                        meta={"cue": cue, "confidence": f"{confidence:.2f}", "by": "rules"},
                    )
                )
                break
        found.sort(key=lambda e: (-e.weight, e.src, e.dst))
        return found[: self.policy.causal_cap]

    def _llm_causal(self, m: NewMemory, neighbours: list[str]) -> list[Edge]:
        if not neighbours:
            return []
        texts = self._texts(neighbours)
        shown = [Known(memory_id=i, content=texts[i][0], entities=texts[i][1]) for i in neighbours if i in texts]
        me = Known(memory_id=m.id, content=m.text, entities=m.entities)
        return self.causal.infer(me, shown)  # type: ignore[union-attr]

    def _texts(self, ids: list[str]) -> dict[str, tuple[str, list[str]]]:
        out = {i: (k.content, k.entities) for i in ids if (k := self.pending.active.get(i)) is not None}
        missing = [i for i in ids if i not in out]
        if missing:
            rows = self.conn.execute(
                f"SELECT id, content, entities FROM memories WHERE id IN ({','.join('?' * len(missing))})", missing
            ).fetchall()
            out.update({i: (c, _entity_list(e)) for i, c, e in rows})
        return out
