"""`LLMCausalInferer`: cause -> effect edges among related memories.

    inferer = LLMCausalInferer(client)
    edges = inferer.infer(memory, neighbours)   # list[events.types.Edge]
    inferer.provenance()                        # model, prompt hash, tokens, latency

The caller (workers/stages/edges.py) chooses the neighbours (graph and vector
neighbours, not only recent rows). Only edges that involve `memory`, join two
different memories that were shown, and have confidence >= `MIN_CONFIDENCE`
are kept. No neighbours: no call.
"""

from __future__ import annotations

from collections.abc import Sequence

from events.types import Edge, MemoryId
from workers.llm import prompts
from workers.llm.accounting import Accounted
from workers.llm.client import ChatClient
from workers.llm.schemas import CausalReply
from workers.stages.reconcile import Known

MIN_CONFIDENCE = 0.75
MAX_NEIGHBOURS = 10


class LLMCausalInferer(Accounted):
    def __init__(self, client: ChatClient, *, min_confidence: float = MIN_CONFIDENCE) -> None:
        super().__init__(client, prompts.CAUSAL)
        self.min_confidence = min_confidence

    def infer(self, memory: Known, neighbours: Sequence[Known]) -> list[Edge]:
        shown = [n for n in neighbours if n.memory_id != memory.memory_id][:MAX_NEIGHBOURS]
        if not shown:
            return []
        aliases = {"m0": memory, **{f"n{i}": n for i, n in enumerate(shown, start=1)}}

        def check(reply: object) -> None:
            assert isinstance(reply, CausalReply)
            for e in reply.edges:
                if e.cause not in aliases or e.effect not in aliases:
                    raise ValueError(f"edge {e.cause}->{e.effect} names a memory not shown ({', '.join(aliases)})")

        payload = {
            "memory": {"id": "m0", "text": memory.content},
            "neighbours": [{"id": a, "text": k.content} for a, k in aliases.items() if a != "m0"],
        }
        reply: CausalReply = self._ask(payload, check)
        edges: dict[tuple[str, str], Edge] = {}
        for e in reply.edges:
            if e.cause == e.effect or "m0" not in (e.cause, e.effect) or e.confidence < self.min_confidence:
                continue
            src, dst = aliases[e.cause].memory_id, aliases[e.effect].memory_id
            confidence = round(e.confidence, 3)
            if (src, dst) in edges and edges[(src, dst)].weight >= confidence:
                continue
            edges[(src, dst)] = Edge(
                src=MemoryId(src),
                dst=MemoryId(dst),
                edge_type="causal",
                weight=confidence,
                meta={"rel": "causes", "confidence": f"{confidence:g}", "reason": " ".join(e.reason.split())[:200]},
            )
        return list(edges.values())
