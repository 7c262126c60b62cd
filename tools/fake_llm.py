"""A loopback fake of the OpenAI-compatible API, for tests and development.

    python tools/fake_llm.py --port 8765      # then: llm.base_url = http://127.0.0.1:8765/v1

It answers every prompt memman sends (`memman-task: NAME` on the system
prompt's first line) with valid JSON derived deterministically from the
prompt, so tests of the real client over real HTTP mean something:

    capture    each sentence of the transcript's turns with a durability cue
               (prefer, decided, chose, always, never, from now on, remember
               that) and no question mark; else no facts, with a reason.
    extract    one fact per sentence (at most 5; the rest joins the last); a
               sentence led by It/This/They gets the previous sentence's
               subject instead (anaphora resolved); capitalised words and
               tokens with digits are entities. "ok", "thanks", "hi", ... or a
               text containing "[[nothing]]" is nothing worth storing.
               "currently" / "right now" earn a quality-gate warning.
    reconcile  NONE for a candidate with the same text (case, spacing and end
               punctuation aside); DELETE for a candidate that the fact negates
               by the test convention "no longer" / "not" (remove the negation
               and the texts are equal); UPDATE for a candidate equal but for
               the tokens holding digits; else ADD.
    enrich     keywords = the content words (+ a few synonyms), a summary of
               the first words for long texts, entities normalised by a table.
    causal     "X because Y": an edge neighbour -> memory at 0.9 when the
               neighbour shares >= 2 content words with Y, at 0.5 when 1
               (which memman drops: it keeps >= 0.75).
    expand     synonyms from a small table, capitalised words as entities.
    /rerank    relevance = share of query words in the document.

Failure injection (`fail(mode, times)`, or POST /_control {"mode", "times"}):
"401" (a bad key), "429", "500" (with `retry_after`), "timeout" (answers after `delay` s),
"garbage" (non-JSON message content), "badjson" (a non-JSON HTTP body),
"drop" (closes the connection unanswered). `stop()` makes it dead (refused).
`requests` counts every request by task; `total` sums them.
Stdlib only; TCP_NODELAY, or every loopback response gains ~40 ms.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import threading
from collections import Counter, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_TASK = re.compile(r"memman-task: (\w+)")
_WORD = re.compile(r"[\w.+-]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")
_NEGATION = re.compile(r"\b(?:no longer|not|never)\b\s*|n't\b", re.I)
_ANAPHORA = ("It", "This", "They", "That", "These")
_CHATTER = {"ok", "okay", "thanks", "thank you", "ok thanks", "hi", "hello", "sounds good", "great", "lol", "yes", "no"}
_STOP = set(
    "a an the and or but if of to in on at by for with from is are was were be been being it its this that these those"
    " we i you he she they them our my your their as so because not no longer never than then there here has have had"
    " do does did will would can could should may might must also very just only about into over under".split()
)
_SYNONYMS = {
    "database": ["db", "datastore"],
    "postgres": ["postgresql", "database"],
    "sqlite": ["database", "embedded db"],
    "timeout": ["deadline", "time limit"],
    "deploy": ["release", "ship"],
    "coffee": ["espresso", "caffeine"],
    "tea": ["infusion"],
    "bug": ["defect", "issue"],
    "fast": ["quick", "speedy"],
}
_CANONICAL = {"postgres": "PostgreSQL", "postgresql": "PostgreSQL", "sqlite": "SQLite", "k8s": "Kubernetes"}
_SENTENCE_START_COMMON = {"The", "A", "An", "We", "I", "It", "This", "They", "That", "Our", "My", "In", "On", "If"}


def _norm(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?;: ")


def _content_words(text: str) -> list[str]:
    return [w for w in (t.strip(".,;:!?").casefold() for t in _WORD.findall(text)) if w and w not in _STOP]


def _entities(text: str) -> list[str]:
    out: list[str] = []
    for i, token in enumerate(_WORD.findall(text)):
        token = token.strip(".,;:!?")
        if not token:
            continue
        named = token[0].isupper() and not (i == 0 and token in _SENTENCE_START_COMMON) and token not in _ANAPHORA
        if (named or any(c.isdigit() for c in token)) and token not in out:
            out.append(token)
    return out


def _subject(sentence: str) -> str:
    entities = [e for e in _entities(sentence) if not any(c.isdigit() for c in e)]
    return entities[0] if entities else " ".join(sentence.split()[:2])


def extract(payload: dict) -> dict:
    text = payload["text"]
    if _norm(text) in _CHATTER or "[[nothing]]" in text:
        return {"facts": [], "warnings": [], "reason": "chatter: no durable fact"}
    sentences = [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]
    if len(sentences) > 5:
        sentences = sentences[:4] + [" ".join(sentences[4:])]
    facts, previous = [], ""
    for sentence in sentences:
        first, _, rest = sentence.partition(" ")
        if first in _ANAPHORA and previous and rest:
            sentence = f"{_subject(previous)} {rest}"
        low = sentence.casefold()
        category = (
            "preference"
            if re.search(r"\b(prefers?|likes?|loves?)\b", low)
            else "decision" if re.search(r"\b(chose|decided|picked)\b", low) else "fact"
        )
        facts.append({"text": sentence, "category": category, "importance": 3, "entities": _entities(sentence)})
        previous = sentence
    warnings = [f"transient: {cue!r}" for cue in ("currently", "right now") if cue in text.casefold()]
    return {"facts": facts, "warnings": warnings, "reason": ""}


def reconcile(payload: dict) -> dict:
    fact = payload["fact"]
    for c in payload["candidates"]:
        if _norm(c["text"]) == _norm(fact):
            return {"action": "NONE", "target": c["id"], "reason": "same statement"}
    plain = _norm(_NEGATION.sub("", fact))
    for c in payload["candidates"]:
        a, b = _norm(_NEGATION.sub("", c["text"])), plain
        if a == b and bool(_NEGATION.search(fact)) != bool(_NEGATION.search(c["text"])):
            return {"action": "DELETE", "target": c["id"], "reason": "the new fact contradicts it"}
    words = _norm(fact).split()
    for c in payload["candidates"]:
        other = _norm(c["text"]).split()
        if len(other) == len(words) and other != words:
            diff = [(x, y) for x, y in zip(words, other) if x != y]
            if all(any(ch.isdigit() for ch in x + y) for x, y in diff):
                return {"action": "UPDATE", "target": c["id"], "text": fact, "reason": "value changed"}
    return {"action": "ADD", "target": None, "reason": "new information"}


def enrich(payload: dict) -> dict:
    out = []
    for m in payload["memories"]:
        words = list(dict.fromkeys(_content_words(m["text"])))
        keywords = [w for w in words if len(w) > 3][:5]
        for w in words:
            keywords += [s for s in _SYNONYMS.get(w, []) if s not in keywords]
        text = m["text"]
        summary = " ".join(text.split()[:6]) if len(text) > 80 else ""
        entities = [_CANONICAL.get(e.casefold(), e) for e in _entities(text)]
        out.append({"id": m["id"], "keywords": keywords[:12], "summary": summary, "entities": entities})
    return {"memories": out}


def causal(payload: dict) -> dict:
    memory = payload["memory"]
    edges = []

    def because(text: str) -> set[str]:
        _, sep, reason = text.partition(" because ")
        return set(_content_words(reason)) if sep else set()

    for n in payload["neighbours"]:
        for effect, cause in ((memory, n), (n, memory)):
            shared = because(effect["text"]) & set(_content_words(cause["text"]))
            if shared:
                confidence = 0.9 if len(shared) >= 2 else 0.5
                reason = f"shares {', '.join(sorted(shared))}"
                edges.append({"cause": cause["id"], "effect": effect["id"], "confidence": confidence, "reason": reason})
    return {"edges": edges}


def expand(payload: dict) -> dict:
    query = payload["query"]
    synonyms: list[str] = []
    for w in _content_words(query):
        synonyms += [s for s in _SYNONYMS.get(w, []) if s not in synonyms]
    entities = [_CANONICAL.get(e.casefold(), e) for e in _entities(query)]
    return {"synonyms": synonyms, "entities": entities, "intent": "lookup"}


_DURABLE = re.compile(r"\b(prefers?|decided|chose|always|never|from now on|remember that)\b", re.I)


def capture(payload: dict) -> dict:
    """Sentences of the user's turns (and the assistant's, unlike the offline
    rules) that carry a durability cue and no question; else nothing."""
    facts = []
    for line in payload["transcript"].splitlines():
        role, _, said = line.partition(": ")
        if role not in ("user", "assistant"):
            continue
        for sentence in _SENTENCE.split(said.strip()):
            sentence = sentence.strip()
            if sentence and "?" not in sentence and _DURABLE.search(sentence) and len(sentence.split()) >= 4:
                low = sentence.casefold()
                category = "preference" if re.search(r"prefer|always|never|from now on", low) else (
                    "decision" if re.search(r"decided|chose", low) else "fact")
                facts.append({"text": sentence, "category": category, "importance": 3, "entities": _entities(sentence)})
    if not facts:
        return {"facts": [], "reason": "no durable decision, preference or fact"}
    return {"facts": facts[:8], "reason": ""}


SCRIPTS: dict[str, Callable[[dict], dict]] = {
    "extract": extract,
    "capture": capture,
    "reconcile": reconcile,
    "enrich": enrich,
    "causal": causal,
    "expand": expand,
}


def rerank(payload: dict) -> dict:
    query = set(_content_words(payload["query"]))
    scored = []
    for i, doc in enumerate(payload["documents"]):
        words = set(_content_words(doc))
        scored.append({"index": i, "relevance_score": round(len(query & words) / max(1, len(query)), 4)})
    scored.sort(key=lambda s: (-s["relevance_score"], s["index"]))
    top = payload.get("top_n") or payload.get("top_k") or len(scored)
    return {"results": scored[:top], "data": scored[:top]}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        """A client that gave up (timeout mode) leaves a broken pipe: not an error here."""

    def get_request(self):  # type: ignore[no-untyped-def]
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class FakeLLM:
    """The fake server, run in a background thread.

    with FakeLLM() as fake:
        fake.url                  # http://127.0.0.1:PORT/v1
        fake.fail("429", times=2) # the next two requests get 429
        fake.total                # requests served so far (any outcome)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._failures: deque[str] = deque()
        self.retry_after: str | None = "0"
        self.delay = 2.0
        self.requests: Counter[str] = Counter()
        self.bodies: list[dict] = []  # every chat request body, for inspection
        self.headers: list[dict[str, str]] = []
        self.overrides: dict[str, Callable[[dict], dict | str]] = {}
        self._released = threading.Event()
        self._server = _Server((host, port), self._handler())
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def fail(self, mode: str, times: int = 1) -> None:
        if mode not in ("401", "429", "500", "timeout", "garbage", "badjson", "drop"):
            raise ValueError(f"unknown failure mode {mode!r}")
        with self._lock:
            self._failures.extend([mode] * times)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self.requests.clear()
            self.bodies.clear()
            self.headers.clear()
            self.overrides.clear()
            self.retry_after = "0"

    def start(self) -> FakeLLM:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # wake handlers sleeping in "timeout" mode
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ serving

    def _next_failure(self) -> str | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _answer(self, path: str, body: dict) -> tuple[int, dict | str]:
        if path.endswith("/rerank"):
            return 200, rerank(body)
        if path.endswith("/chat/completions"):
            system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
            found = _TASK.search(system)
            task = found.group(1) if found else "unknown"
            user = json.loads(body["messages"][1]["content"])
            script = self.overrides.get(task) or SCRIPTS.get(task)
            if script is None:
                return 400, {"error": {"message": f"fake_llm has no script for task {task!r}"}}
            answer = script(user)
            content = answer if isinstance(answer, str) else json.dumps(answer)
            chars = sum(len(m.get("content") or "") for m in body["messages"])
            return 200, {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": chars // 4 + 1, "completion_tokens": len(content) // 4 + 1},
            }
        return 404, {"error": {"message": f"no route {path}"}}

    def _task_of(self, path: str, body: dict) -> str:
        if path.endswith("/rerank"):
            return "rerank"
        for m in body.get("messages", []):
            if m.get("role") == "system" and (found := _TASK.search(m.get("content") or "")):
                return found.group(1)
        return "other"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(self, status: int, payload: dict | str, headers: dict[str, str] | None = None) -> None:
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "fake-fast"}, {"id": "fake-slow"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, {"error": {"message": "body is not JSON"}})
                    return
                if self.path == "/_control":
                    fake.fail(body["mode"], int(body.get("times", 1)))
                    self._send(200, {"ok": True})
                    return
                task = fake._task_of(self.path, body)
                with fake._lock:
                    fake.requests[task] += 1
                    fake.bodies.append(body)
                    fake.headers.append(dict(self.headers.items()))
                mode = fake._next_failure()
                if mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if mode == "timeout":
                    fake._released.wait(fake.delay)
                if mode in ("401", "429", "500"):
                    headers = {"Retry-After": fake.retry_after} if fake.retry_after is not None else {}
                    self._send(int(mode), {"error": {"message": f"fake {mode}"}}, headers)
                    return
                if mode == "badjson":
                    self._send(200, "<html>502 Bad Gateway</html>")
                    return
                status, answer = fake._answer(self.path, body)
                if mode == "garbage" and status == 200 and "choices" in answer:
                    answer["choices"][0]["message"]["content"] = "Sure! Here are the facts: {not json"  # type: ignore[index]
                self._send(status, answer)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback fake OpenAI-compatible server for memman.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    fake = FakeLLM(args.host, args.port)
    print(f"fake LLM on {fake.url} (Ctrl-C to stop)", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
