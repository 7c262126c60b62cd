"""The graph benchmark's performance half (`--perf`): a 10k-memory history
drained with edge inference timed in-process, edges per memory, the recall
time graph expansion adds, and `memman graph rebuild` (targets from issue
5: <= 15 ms added at 10k with ~20 edges per memory; >= 200 memories/s;
rebuild of 10k <= 30 s)."""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from pathlib import Path

from tools.graph_bench.evaluate import LIMIT, MODES, KeyMap, _recall_api, load, recall_keys, score, summarise
from tools.graph_bench.history import Question, generate

ROOT = Path(__file__).resolve().parents[2]
MEMMAN = ROOT / ".venv" / "bin" / "memman"
PERF_SIZE = 10_000
TARGETS = {"added_ms": ("<=", 15.0), "edge_rate": (">=", 200.0), "rebuild_s": ("<=", 30.0)}


def perf(tmp: Path, *, seed: int, questions: int, runs: int, log) -> dict:  # type: ignore[no-untyped-def]
    log(f"perf: generating {PERF_SIZE} memories")
    history = generate(seed, size=PERF_SIZE, questions=questions)
    data_dir = tmp / "perf"
    edge_time = [0.0]
    marks: list[tuple[int, float, float]] = []  # (inputs done, drain seconds, edge seconds) per chunk
    started = time.perf_counter()

    def progress(store: str, done: int, total: int) -> None:
        marks.append((done, time.perf_counter() - started, edge_time[0]))
        if done % 1000 < 100:
            log(f"perf: drained {done}/{total}")

    app, keymap, drained = load(history, data_dir, edge_time, progress)
    out: dict[str, object] = {"memories_generated": len(history.memories), "drain_s": round(drained, 2)}
    try:
        out.update(_drain_figures(app, len(history.memories), drained, marks, edge_time[0]))
        log(f"perf: drained {len(history.memories)} in {drained:.1f}s, {out['edges']} edges")
        keymap.load(app.fresh().main.conn)
        out.update(_recall_figures(app, keymap, history.questions, runs))
    finally:
        app.close()
    out["rebuild_s"] = rebuild(data_dir, log)
    return out


def _drain_figures(  # type: ignore[no-untyped-def]
    app, memories: int, drained: float, marks: list[tuple[int, float, float]], spent: float
) -> dict[str, object]:
    """Edges and drain rates; `spent`: seconds in EdgeInferer.infer, timed in-process during the drain."""
    from memman.operations.maintenance import status

    st = status(app)
    active = st.by_status.get("active", 0)
    conn = app.fresh().main.conn
    out: dict[str, object] = dict(
        active=active,
        edges=st.edges,
        edges_per_memory=round(st.edges / max(active, 1), 2),
        edges_by_type=dict(conn.execute("SELECT edge_type, count(*) FROM edges GROUP BY edge_type").fetchall()),
        drain_rate=round(memories / drained, 1),
    )
    if len(marks) > 20:  # does inferring edges slow down as the store grows?
        (n0, _, e0), (n1, _, e1) = marks[9], marks[-11]
        out["edge_ms_first_1k"] = round(e0 / n0 * 1000, 2)
        out["edge_ms_last_1k"] = round((marks[-1][2] - e1) / (marks[-1][0] - n1) * 1000, 2)
    out["edge_stage_s"] = round(spent, 2)
    out["edge_rate"] = round(memories / spent, 1) if spent > 0 else None
    return out


def _recall_figures(app, keymap: KeyMap, questions: list[Question], runs: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Median recall time with graph expansion off and on (`runs` each per
    question), the time it adds, and recall of the evidence at this size."""
    has_graph, has_intent = _recall_api()

    def recall(text: str, graph: bool | None, limit: int = LIMIT) -> tuple[list[str], object, float]:
        return recall_keys(app, keymap, text, graph=graph, intent=None, has_graph=has_graph, has_intent=has_intent, limit=limit)

    offs, ons, deltas, rows = [], [], [], []
    for q in questions[:1]:  # warm caches (vectors, embedder, graph) once
        recall(q.text, True)
    for q in questions:
        off_ms, on_ms = [], []
        for _ in range(runs):
            off_ms.append(recall(q.text, False)[2])
            on_ms.append(recall(q.text, True)[2])
        offs.append(statistics.median(off_ms))
        ons.append(statistics.median(on_ms))
        deltas.append(ons[-1] - offs[-1])
        row: dict[str, object] = {"intent": q.intent}
        for mode, graph in MODES:  # untimed: the keys of limit=10 and limit=5 recalls
            row[mode] = score(recall(q.text, graph)[0], q.evidence, recall(q.text, graph, 5)[0])
        rows.append(row)
    deltas.sort()
    return dict(
        recall_off_ms=round(statistics.median(offs), 2),
        recall_on_ms=round(statistics.median(ons), 2),
        added_ms=round(statistics.median(deltas), 2),
        added_ms_p90=round(deltas[int(0.9 * (len(deltas) - 1))], 2),
        quality_10k=summarise(rows),
    )


def rebuild(data_dir: Path, log) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds for `memman graph rebuild`, or None when the command does not exist."""
    help_text = subprocess.run([str(MEMMAN), "graph", "--help"], capture_output=True, text=True).stdout
    if not re.search(r"^\s+rebuild\b", help_text, re.M):
        log("perf: no 'graph rebuild' command yet")
        return None
    started = time.perf_counter()
    done = subprocess.run(
        [str(MEMMAN), "--data-dir", str(data_dir), "graph", "rebuild"], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        log(f"perf: graph rebuild failed: {done.stderr.strip()[:300]}")
        return None
    return round(seconds, 2)
