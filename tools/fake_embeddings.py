"""A loopback fake of three embedding APIs, for tests and development.

    POST .../embeddings   OpenAI-compatible and Voyage ({model, input, dimensions |
                          output_dimension, input_type}) -> {data: [{index, embedding}]}
    POST .../api/embed    Ollama ({model, input, dimensions}) -> {embeddings: [[..]]}

Vectors are deterministic: the sum of one pseudo-random unit vector per
lowercase word (seeded by the word's hash), normalised. Texts that share
words are similar and texts that share none are near-orthogonal, so recall
tests over it mean something. Dimension: the request's `dimensions` /
`output_dimension`, else a trailing number in the model name
(`fake-32` -> 32), else 64.

Namespaces keep tests apart: every path may start with `/ns/<name>/`, and
each namespace has its own script of failures and its own request counter.

Scripting (in process: `server.script(ns, ...)`; over HTTP: POST /_script
{"ns": .., "steps": [..]}): the next requests of a namespace get, in order,

    {"status": 429, "retry_after": "0"}   an error status (optionally Retry-After, body)
    {"status": 500}
    {"slow": 2.0}                          sleep, then answer normally
    {"malformed": true}                    200 with a body that is not JSON
    {"wrong_dim": 7}                       200 with 7-d vectors
    {"wrong_count": true}                  200 with one vector fewer than asked
    {"hang_up": true}                      close the connection without answering

GET /_stats?ns=NAME -> {"requests": n, "texts": n, "input_types": [..]}.

Run standalone: python tools/fake_embeddings.py [--port 8765]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np

DEFAULT_DIM = 64
_WORD = re.compile(r"\w+", re.UNICODE)
_NS = re.compile(r"^/ns/([^/]+)(/.*)$")


def _word_vector(word: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    return v / np.linalg.norm(v)


def embed_text(text: str, dim: int) -> list[float]:
    words = _WORD.findall(text.lower())
    v = np.zeros(dim)
    for w in words:
        v += _word_vector(w, dim)
    n = np.linalg.norm(v)
    return (v / n if n else v).round(6).tolist()


def model_dim(model: str) -> int:
    m = re.search(r"-(\d+)$", model)
    return int(m.group(1)) if m else DEFAULT_DIM


class Namespace:
    def __init__(self) -> None:
        self.steps: list[dict] = []
        self.requests = 0
        self.texts = 0
        self.input_types: list[str] = []


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.lock = threading.Lock()
        self.spaces: dict[str, Namespace] = {}
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def base_url(self, ns: str, api: str = "openai") -> str:
        """The base_url a client of `api` should use for namespace `ns`."""
        root = f"{self.url}/ns/{ns}"
        return root if api == "ollama" else f"{root}/v1"

    def space(self, ns: str) -> Namespace:
        with self.lock:
            return self.spaces.setdefault(ns, Namespace())

    def script(self, ns: str, *steps: dict) -> None:
        space = self.space(ns)
        with self.lock:
            space.steps.extend(steps)

    def stats(self, ns: str) -> dict:
        space = self.space(ns)
        return {"requests": space.requests, "texts": space.texts, "input_types": list(space.input_types)}

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fake-embeddings", daemon=True)
        self._thread.start()
        return self

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that time out or a scripted hang-up leave broken sockets: not news."""

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def setup(self) -> None:
        super().setup()
        # without it every small response waits ~40 ms for a delayed ACK (docs/measured-costs.md)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        if url.path == "/_stats":
            ns = parse_qs(url.query).get("ns", ["default"])[0]
            self._send(200, json.dumps(self.server.stats(ns)).encode())
        else:
            self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path == "/_script":
            body = json.loads(raw)
            self.server.script(body.get("ns", "default"), *body.get("steps", []))
            self._send(200, b"{}")
            return
        ns = "default"
        m = _NS.match(path)
        if m:
            ns, path = m.group(1), m.group(2)
        if path.endswith("/api/embed"):
            api = "ollama"
        elif path.endswith("/embeddings"):
            api = "openai"
        else:
            self._send(404, b'{"error": "unknown endpoint"}')
            return
        space = self.server.space(ns)
        with self.server.lock:
            space.requests += 1
            step = space.steps.pop(0) if space.steps else {}
        self._answer(api, raw, space, step)

    def _answer(self, api: str, raw: bytes, space: Namespace, step: dict) -> None:
        if step.get("hang_up"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if "status" in step:
            headers = {"retry-after": str(step["retry_after"])} if "retry_after" in step else {}
            body = step.get("body", json.dumps({"error": {"message": f"scripted {step['status']}"}}))
            self._send(int(step["status"]), body.encode(), headers)
            return
        if step.get("slow"):
            time.sleep(float(step["slow"]))
        if step.get("malformed"):
            self._send(200, b'{"data": [{"embedding": [0.1, 0.2')
            return
        try:
            request = json.loads(raw)
            texts = request["input"]
            texts = [texts] if isinstance(texts, str) else list(texts)
            if not all(isinstance(t, str) and t for t in texts):
                raise ValueError("input must be non-empty strings")
        except (ValueError, KeyError, TypeError) as exc:
            self._send(400, json.dumps({"error": {"message": f"bad request: {exc}"}}).encode())
            return
        if "input_type" in request:
            space.input_types.append(str(request["input_type"]))
        space.texts += len(texts)
        dim = int(request.get("dimensions") or request.get("output_dimension") or model_dim(request.get("model", "")))
        dim = int(step.get("wrong_dim", dim))
        vectors = [embed_text(t, dim) for t in texts]
        if step.get("wrong_count"):
            vectors = vectors[:-1]
        if api == "ollama":
            body = {"model": request.get("model"), "embeddings": vectors}
        else:
            body = {
                "object": "list",
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                "model": request.get("model"),
                "usage": {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0},
            }
        self._send(200, json.dumps(body).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = FakeServer(args.port)
    print(f"fake embeddings on {server.url} (openai/voyage: {server.url}/v1, ollama: {server.url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
