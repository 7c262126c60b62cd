"""Session capture with an LLM (`memman-task: capture`): the model reads a
session excerpt and returns the durable memories in it, or none with a
reason. Its facts then pass the same gate as the rule capture (no question,
no transient cue, no code block or masked secret, bounded length), so a
model's slip toward chatter is dropped, not stored."""

from __future__ import annotations

from workers.llm import prompts
from workers.llm.accounting import Accounted
from workers.llm.client import ChatClient
from workers.llm.schemas import CaptureReply
from workers.stages.capture import MAX_FACTS, CaptureOutput, CapturedFact, gate

MAX_TRANSCRIPT = 48_000  # characters shown to the model (the recorded excerpt is at most this)


class LLMCapturer(Accounted):
    def __init__(self, client: ChatClient) -> None:
        super().__init__(client, prompts.CAPTURE)

    def capture(self, text: str) -> CaptureOutput:
        reply: CaptureReply = self._ask({"transcript": text[-MAX_TRANSCRIPT:]})
        facts, warnings = [], []
        for out in reply.facts:
            said = " ".join(out.text.split())
            why = gate(said)
            if why is not None and why != "request":  # a model's statement is never a request to itself
                warnings.append(f"dropped ({why}): {said[:120]}")
                continue
            facts.append(CapturedFact(text=said, category=out.category, importance=out.importance, entities=out.entities))
        if not facts:
            warnings.append(f"nothing durable: {reply.reason or 'the model found nothing to keep'}")
        return CaptureOutput(facts=facts[:MAX_FACTS], warnings=warnings)
