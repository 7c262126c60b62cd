"""Embedding benchmarks: what the issue's performance bars ask for.

    .venv/bin/python tools/bench_embed.py [--n 10000] [--onnx-model DIR] [--json]

    static embed      texts/s embedding drain-sized chunks (100 inputs' facts per call)
    drain             inputs/s of a whole drain (extract, reconcile, embed, edges) with static
    reembed           seconds to re-embed N memories with static, incl. recall's flat index
    onnx embed        texts/s, batched, one thread (if the model is built)
    recall (remote)   whole-process `memman recall` against the loopback fake server:
                      first call (httpx import + request) vs repeated (query cache)
    recall (static)   whole-process cold `memman recall` on the same N-memory store
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

WORDS = (
    "cache server deploy database latency team prefers config release budget search index vector memory "
    "tuesday frankfurt python rust invoice customer backup logs alert pager staging production schema "
    "migration query ranking token model embedding storage network region replica cluster"
).split()


def texts(n: int) -> list[str]:
    import random

    rng = random.Random(7)
    return [f"Note {i}: the {' '.join(rng.choices(WORDS, k=rng.randint(6, 14)))}" for i in range(n)]


def bench_static(n: int) -> float:
    from workers.embedders import create_embedder

    embedder = create_embedder("static")
    data = texts(n)
    started = time.perf_counter()
    for i in range(0, n, 100):
        embedder.embed(data[i : i + 100])
    return n / (time.perf_counter() - started)


def bench_onnx(model: Path, n: int = 2000) -> float | None:
    if not (model / "model-int8.onnx").is_file():
        return None
    from workers.embedders.onnx import OnnxEmbedder

    embedder = OnnxEmbedder.load(model)
    data = texts(n)
    embedder.embed(data[:64])  # warm up
    started = time.perf_counter()
    embedder.embed(data)
    return n / (time.perf_counter() - started)


def _cli(data_dir: Path, *args: str) -> float:
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "memman", *args], env=env, check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def bench_store(n: int) -> dict[str, float]:
    from memman.operations import embed
    from memman import config
    from memman.operations.maintenance import drain_all
    from memman.service import Memman
    from fake_embeddings import FakeServer

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="memman-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        config.set_value(data_dir, "embeddings.provider", "hashing")  # so the reembed below is a real switch
        with Memman(data_dir) as app:
            for t in texts(n):
                app.remember(t)
        started = time.perf_counter()
        drain_all(data_dir)
        out["drain_inputs_per_s"] = n / (time.perf_counter() - started)
        with Memman(data_dir) as app:
            started = time.perf_counter()
            report = embed.reembed(app, "static")
            out["reembed_s"] = time.perf_counter() - started
            assert report.embedded == report.active, report  # a few random texts reconcile as duplicates
        out["recall_static_cold_ms"] = statistics.median(_cli(data_dir, "recall", "database latency") for _ in range(7))
        fake = FakeServer().start()
        try:
            for key, value in {"provider": "openai", "model": "fake-256", "base_url": fake.base_url("bench")}.items():
                config.set_value(data_dir, f"embeddings.{key}", value)
            with Memman(data_dir) as app:
                embed.swap(app, "openai:fake-256")
            firsts, repeats = [], []
            for i in range(5):
                firsts.append(_cli(data_dir, "recall", f"database latency {i}"))
                repeats.append(_cli(data_dir, "recall", f"database latency {i}"))
            out["recall_remote_first_ms"] = statistics.median(firsts)
            out["recall_remote_cached_ms"] = statistics.median(repeats)
        finally:
            fake.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--onnx-model", type=Path, default=Path.home() / ".memman" / "models" / "minilm-onnx")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result: dict[str, float | None] = {"static_texts_per_s": bench_static(args.n)}
    result["onnx_texts_per_s"] = bench_onnx(args.onnx_model)
    result.update(bench_store(args.n))
    if args.json:
        print(json.dumps({k: None if v is None else round(v, 1) for k, v in result.items()}, indent=2))
        return
    for key, value in result.items():
        print(f"{key:28} {'n/a (no model)' if value is None else f'{value:,.1f}'}")


if __name__ == "__main__":
    main()
