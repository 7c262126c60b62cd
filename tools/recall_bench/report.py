"""Tables and files: per-mode, per-category means as Markdown and JSON, and
the rewrite of a marked section of docs/recall-benchmark.md."""

from __future__ import annotations

import re
from pathlib import Path

from tools.recall_bench.metrics import METRICS, mean
from tools.recall_bench.model import CATEGORIES

HEADER = "| mode | category | n | hit@5 | hit@10 | recall@10 | all@10 | MRR |\n|---|---|---:|---:|---:|---:|---:|---:|"


def summarise(rows: list[dict], modes: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """mode -> category (and "overall") -> {"n", metric means}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for mode in modes:
        out[mode] = {}
        for category in (*CATEGORIES, "overall"):
            sel = [r["modes"][mode] for r in rows if category in ("overall", r["category"])]
            if sel:
                out[mode][category] = {"n": len(sel), **{m: round(v, 4) for m, v in mean(sel).items()}}
    return out


def table(summary: dict, modes: list[str] | None = None, categories: tuple[str, ...] = (*CATEGORIES, "overall")) -> str:
    lines = [HEADER]
    for mode in modes or list(summary):
        for category in categories:
            cell = summary.get(mode, {}).get(category)
            if cell:
                values = " | ".join(f"{cell[m]:.3f}" for m in METRICS)
                lines.append(f"| {mode} | {category} | {int(cell['n'])} | {values} |")
    return "\n".join(lines)


def headline(summary: dict) -> str:
    """One line: overall hit@10 and MRR for basic, hybrid and the BM25 baseline."""
    parts = []
    for mode in ("basic", "hybrid", "bm25"):
        cell = summary.get(mode, {}).get("overall")
        if cell:
            parts.append(f"{mode} hit@10 {cell['hit@10']:.3f} (MRR {cell['mrr']:.3f})")
    return "; ".join(parts)


def replace_section(path: Path, name: str, body: str) -> None:
    """Replace the text between `<!-- recall-bench:NAME:begin -->` and
    `<!-- recall-bench:NAME:end -->` in `path` (both markers must exist)."""
    text = path.read_text()
    begin, end = f"<!-- recall-bench:{name}:begin -->", f"<!-- recall-bench:{name}:end -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise KeyError(f"{path} has no section {name!r} ({begin} ... {end})")
    path.write_text(pattern.sub(lambda _: f"{begin}\n{body.strip()}\n{end}", text, count=1))
