"""The graph benchmark's Markdown tables: recall of the evidence per intent
(off vs on), detected intent per question kind, evidence reached only
through the graph, and the performance table against issue 5's targets."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from tools.graph_bench.history import INTENTS
from tools.graph_bench.perf import TARGETS


def reach_markdown(rows: list[dict]) -> str:
    lines = [
        "| intent | questions with evidence reached only via the graph (top 50) | their best rank, median |",
        "|---|---:|---:|",
    ]
    for intent in INTENTS:
        sel = [r for r in rows if r["intent"] == intent]
        hit = [r["reach"]["best_rank"] for r in sel if r["reach"]["via_graph"]]
        med = f"{statistics.median(hit):g}" if hit else "-"
        lines.append(f"| {intent} | {len(hit)}/{len(sel)} | {med} |")
    return "\n".join(lines)


def markdown(table: dict[str, dict[str, float]]) -> str:
    lines = [
        "| intent | n | R@5 off | R@5 on | Δ R@5 | R@10 off | R@10 on | Δ R@10 | MRR off | MRR on"
        " | R@10 default |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for intent, c in table.items():
        d5, d10 = c["r@5 on"] - c["r@5 off"], c["r@10 on"] - c["r@10 off"]
        lines.append(
            f"| {intent} | {c['n']} | {c['r@5 off']:.3f} | {c['r@5 on']:.3f} | {d5:+.3f} | {c['r@10 off']:.3f}"
            f" | {c['r@10 on']:.3f} | {d10:+.3f} | {c['rr off']:.3f} | {c['rr on']:.3f} | {c.get('r@10 default', float('nan')):.3f} |"
        )
    return "\n".join(lines)


def detection(rows: list[dict]) -> str:
    """How recall classified each kind of question, and how often its default
    (graph=None) expanded the graph."""
    counts: dict[str, Counter] = defaultdict(Counter)
    expanded: Counter = Counter()
    for r in rows:
        counts[r["intent"]][str(r["default"]["detected"])] += 1
        expanded[r["intent"]] += bool(r["default"]["graph"])
    found = sorted({d for c in counts.values() for d in c})
    lines = [
        "| question kind | " + " | ".join(f"detected {d}" for d in found) + " | graph on by default |",
        "|---|" + "---:|" * (len(found) + 1),
    ]
    for intent in INTENTS:
        if intent in counts:
            cells = [str(counts[intent][d]) for d in found] + [f"{expanded[intent]}/{sum(counts[intent].values())}"]
            lines.append(f"| {intent} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def perf_markdown(p: dict) -> str:
    def verdict(name: str, value: float | None) -> str:
        if value is None:
            return "n/a"
        op, bound = TARGETS[name]
        ok = value <= bound if op == "<=" else value >= bound
        return f"{'met' if ok else 'MISSED'} ({op} {bound:g})"

    rows = [
        ("active memories", p["active"], ""),
        ("edges (by type)", f"{p['edges']} ({', '.join(f'{k} {v}' for k, v in sorted(p['edges_by_type'].items()))})", ""),
        ("edges per memory", p["edges_per_memory"], ""),
        ("whole drain", f"{p['drain_s']} s, {p['drain_rate']} memories/s", ""),
        ("edge stage in the drain", f"{p['edge_stage_s']} s, {p['edge_rate']} memories/s" if p["edge_rate"] else "n/a",
         verdict("edge_rate", p["edge_rate"] or p["drain_rate"])),
        ("edge inference per input, first 1k / last 1k",
         f"{p.get('edge_ms_first_1k')} ms / {p.get('edge_ms_last_1k')} ms", ""),
        ("`graph rebuild`", f"{p['rebuild_s']} s" if p["rebuild_s"] is not None else "no such command",
         verdict("rebuild_s", p["rebuild_s"])),
        ("recall, graph off (median)", f"{p['recall_off_ms']} ms", ""),
        ("recall, graph on (median)", f"{p['recall_on_ms']} ms", ""),
        ("added by graph expansion", f"{p['added_ms']} ms median, {p['added_ms_p90']} ms p90",
         verdict("added_ms", p["added_ms"])),
    ]
    return "\n".join(["| at 10k | value | target |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)])
