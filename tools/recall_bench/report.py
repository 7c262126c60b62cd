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


def by_kind(rows: list[dict], modes: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """mode -> "category/kind" (and "paraphrased" / "literal") -> {"n", metric means}."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(f"{r['category']}/{r['kind']}", []).append(r)
        groups.setdefault("paraphrased" if r["paraphrased"] else "literal", []).append(r)
    return {
        mode: {g: {"n": len(sel), **{m: round(v, 4) for m, v in mean([r["modes"][mode] for r in sel]).items()}}
               for g, sel in sorted(groups.items())}
        for mode in modes
    }


def kind_table(kinds: dict, modes: list[str]) -> str:
    groups = sorted({g for cells in kinds.values() for g in cells})
    lines = ["| kind | n | " + " | ".join(modes) + " |", "|---|---:|" + "---:|" * len(modes)]
    for g in groups:
        n = next(int(kinds[m][g]["n"]) for m in modes if g in kinds[m])
        cells = [f"{kinds[m][g]['hit@10']:.2f} / {kinds[m][g]['mrr']:.2f}" if g in kinds[m] else "-" for m in modes]
        lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme_line(summary: dict, section: str) -> str:
    """The README's headline: overall held-out figures for basic, hybrid, BM25."""
    rows = ["| mode | hit@5 | hit@10 | recall@10 | all@10 | MRR |", "|---|---:|---:|---:|---:|---:|"]
    for mode in ("basic", "hybrid", "bm25"):
        cell = summary[mode]["overall"]
        rows.append(f"| {mode} | " + " | ".join(f"{cell[m]:.3f}" for m in METRICS) + " |")
    n = int(summary["hybrid"]["overall"]["n"])
    return "\n".join(rows) + (f"\n\n{n} held-out questions ({section} table in docs/recall-benchmark.md, per category"
                               " and with each signal switched off).")


def noise_line(rows: list[dict], modes: list[str]) -> str:
    """Mean share of shown results that share only a name with the question, per mode."""
    parts = []
    for mode in modes:
        values = [r["modes"][mode].get("name_only") for r in rows]
        values = [v for v in values if v is not None]
        if values:
            parts.append(f"{mode} {sum(values) / len(values):.2f}")
    return ("Share of the top 10 that shares no content word with the question, names aside: " + ", ".join(parts)) if parts else ""
