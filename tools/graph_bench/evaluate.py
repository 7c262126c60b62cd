"""A history imported and drained into a fresh store, then every question
recalled with graph expansion off, on and left to recall's per-intent
default, and scored against its evidence keys (results map back to keys by
content: the drain may split a text into facts).

    R@k   fraction of the evidence keys in a limit=k recall, out of min(|evidence|, k)
    MRR   mean of 1 / rank of the first evidence hit (0 when none in the top 10)
"""

from __future__ import annotations

import inspect
import io
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tools.graph_bench.history import INTENTS, History

# What to pass as `intent=` under --oracle-intent (multi-hop questions are about entities).
ORACLE = {"multi-hop": "entity", "why": "why", "when": "when", "entity": "entity", "general": "general"}
LIMIT = 10
MODES = (("off", False), ("on", True), ("default", None))  # graph= passed to recall


def _normal(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?;: ")


class KeyMap:
    """Memory ids -> history keys, by content: exact, or contained in one
    remembered text (a fact split off it by the drain)."""

    def __init__(self, history: History) -> None:
        self.exact = {_normal(m.text): m.key for m in history.memories}
        self.texts = [(_normal(m.text), m.key) for m in history.memories]
        self.by_id: dict[str, str | None] = {}

    def load(self, conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
        """Map every memory row; returns key -> status of its memory."""
        status: dict[str, str] = {}
        for memory_id, content, st in conn.execute("SELECT id, content, status FROM memories"):
            key = self.key(memory_id, content)
            if key is not None and status.get(key) != "active":
                status[key] = st
        return status

    def key(self, memory_id: str, content: str) -> str | None:
        if memory_id not in self.by_id:
            c = _normal(content)
            key = self.exact.get(c)
            if key is None:
                key = next((k for t, k in self.texts if c and c in t), None)
            self.by_id[memory_id] = key
        return self.by_id[memory_id]


def _recall_api():  # type: ignore[no-untyped-def]
    from memman.service import Memman

    params = inspect.signature(Memman.recall).parameters
    return "graph" in params, "intent" in params


def recall_keys(  # type: ignore[no-untyped-def]
    app, keymap: KeyMap, text: str, *, graph: bool | None, intent: str | None, has_graph: bool, has_intent: bool,
    limit: int = LIMIT,
):
    """(ranked distinct keys, the result's meta, wall ms) of one recall;
    graph=None leaves expansion to recall's per-intent default."""
    kwargs: dict[str, object] = {"limit": limit}
    if has_graph and graph is not None:
        kwargs["graph"] = graph
    if has_intent and intent is not None:
        kwargs["intent"] = intent
    started = time.perf_counter()
    result = app.recall(text, **kwargs)
    ms = (time.perf_counter() - started) * 1000
    keys: list[str] = []
    for hit in result.results:
        k = keymap.key(hit.id, hit.content)
        if k is not None and k not in keys:
            keys.append(k)
        elif k is None:
            keys.append(f"?{hit.id}")
    return keys, result.meta, ms


def score(keys: list[str], evidence: tuple[str, ...], top5: list[str] | None = None) -> dict[str, float]:
    """R@5 (from `top5`, the keys of a limit=5 recall, when given), R@10 and RR."""
    ev = set(evidence)
    five = keys[:5] if top5 is None else top5
    out = {f"r@{k}": len(ev & set(got)) / min(len(ev), k) for k, got in ((5, five), (10, keys))}
    first = next((i for i, key in enumerate(keys[:LIMIT], start=1) if key in ev), None)
    out["rr"] = 0.0 if first is None else 1.0 / first
    return out


@contextmanager
def timing(owner: object, method: str, spent: list[float]) -> Iterator[None]:
    """Add the wall time of every call of `owner.method` to spent[0] (in-process only)."""
    original = getattr(owner, method)

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    setattr(owner, method, timed)
    try:
        yield
    finally:
        setattr(owner, method, original)


def load(history: History, data_dir: Path, edge_time: list[float] | None = None, progress=None):  # type: ignore[no-untyped-def]
    """Import and drain a history into a fresh store; (app, keymap, drain seconds).
    With `edge_time`, the time spent inferring edges in the drain is added to it."""
    from memman.operations.maintenance import drain_all
    from memman.service import Memman
    from memman.operations.transfer import import_jsonl

    app = Memman(data_dir, "default")
    import_jsonl(app, io.BytesIO(history.jsonl()))
    app.close()
    with ExitStack() as stack:
        if edge_time is not None:
            try:
                from workers.stages.edges import EdgeInferer

                stack.enter_context(timing(EdgeInferer, "infer", edge_time))
            except ImportError:
                pass
        started = time.perf_counter()
        drain_all(data_dir, progress=progress)
        drained = time.perf_counter() - started
    app = Memman(data_dir, "default")
    keymap = KeyMap(history)
    return app, keymap, drained


def evaluate(history: History, data_dir: Path, *, oracle: bool, log) -> dict:  # type: ignore[no-untyped-def]
    has_graph, has_intent = _recall_api()
    app, keymap, drained = load(history, data_dir)
    try:
        status = keymap.load(app.fresh().main.conn)
        hidden = sorted({k for q in history.questions for k in q.evidence if status.get(k) != "active"})
        if hidden:
            log(f"  {len(hidden)} evidence keys not active after the drain: {hidden[:5]}")
        rows = []
        for q in history.questions:
            # A superseded memory cannot be recalled: score the evidence that is still there.
            evidence = tuple(k for k in q.evidence if status.get(k) == "active")
            if not evidence:
                continue
            intent = ORACLE[q.intent] if oracle else None
            row: dict[str, object] = {"qid": q.qid, "question": q.text, "intent": q.intent, "evidence": list(evidence)}
            for mode, graph in MODES:
                keys, meta, ms = recall_keys(
                    app, keymap, q.text, graph=graph, intent=intent, has_graph=has_graph, has_intent=has_intent
                )
                # WHY and WHEN results come back in causal or time order, not by score: the
                # top 5 of a limit-10 list is not what limit=5 returns, so ask for it.
                top5, _, _ = recall_keys(
                    app, keymap, q.text, graph=graph, intent=intent, has_graph=has_graph, has_intent=has_intent, limit=5
                )
                row[mode] = {
                    **score(keys, evidence, top5),
                    "top": keys,
                    "detected": getattr(meta, "intent", None),
                    "graph": getattr(meta, "graph", None),
                    "ordering": getattr(meta, "ordering", None),
                    "ms": round(ms, 2),
                }
            row["reach"] = reach(app, keymap, q.text, evidence, intent, has_graph, has_intent)
            rows.append(row)
        edges = dict(app.fresh().main.conn.execute("SELECT edge_type, count(*) FROM edges GROUP BY edge_type").fetchall())
    finally:
        app.close()
    return {
        "seed": history.seed,
        "memories": len(history.memories),
        "drain_s": round(drained, 3),
        "edges": edges,
        "hidden_evidence": hidden,
        "graph_api": has_graph,
        "intent_api": has_intent,
        "questions": rows,
    }


def reach(app, keymap: KeyMap, text: str, evidence: tuple[str, ...], intent, has_graph: bool, has_intent: bool):  # type: ignore[no-untyped-def]
    """Where the graph puts evidence the anchors miss: in a limit-50 recall with
    graph on, the evidence hits that came only through the graph (`via` set),
    and their best rank (None when there is none)."""
    if not has_graph:
        return {"via_graph": 0, "best_rank": None}
    kwargs: dict[str, object] = {"limit": 50, "graph": True}
    if has_intent and intent is not None:
        kwargs["intent"] = intent
    result = app.recall(text, **kwargs)
    ranks = [
        rank for rank, hit in enumerate(result.results, start=1)
        if getattr(hit.signals, "via", None) and keymap.key(hit.id, hit.content) in evidence
    ]
    return {"via_graph": len(ranks), "best_rank": min(ranks) if ranks else None}


def summarise(rows: list[dict]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for intent in (*INTENTS, "all"):
        sel = [r for r in rows if intent in ("all", r["intent"])]
        if not sel:
            continue
        cell: dict[str, float] = {"n": len(sel)}
        for mode, _ in MODES:
            if mode not in sel[0]:
                continue
            for metric in ("r@5", "r@10", "rr"):
                cell[f"{metric} {mode}"] = round(statistics.fmean(r[mode][metric] for r in sel), 3)
        table[intent] = cell
    return table
