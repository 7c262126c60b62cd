"""tools/bench.py's Markdown report: one column per store size, each timed
command's median (min / p90) against its target, the warm path and the
start-up floor as ratios of `python -c pass`, and the run's conditions."""

from __future__ import annotations

from tools.bench_corpus import QUERIES

TARGETS = {  # (comparison, bound, unit); recall's hybrid bound is stated at 10k
    "remember": ("<=", 40.0, "ms"),
    "recall_basic": ("<=", 60.0, "ms"),
    "recall": ("<=", 150.0, "ms"),
    "drain_rate": (">=", 300.0, "memories/s"),
    "replay_rate": (">=", 20_000.0, "events/s"),
}


def _size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _verdict(key: str, value: float, n: int) -> str:
    comparison, bound, _ = TARGETS[key]
    if key == "recall" and n != 10_000:
        return ""
    ok = value <= bound if comparison == "<=" else value >= bound
    return " ✓" if ok else " ✗"


def store_mb(result: dict, db: bool) -> float:
    return sum(v for k, v in result["disk_bytes"].items() if k.endswith(".db") == db) / 1e6


def _ms(s: dict[str, float]) -> str:
    return f"{s['median']:.0f} ({s['min']:.0f} / {s['p90']:.0f})"


def markdown(results: list[dict], floor_stats: dict, meta: dict) -> str:
    head = "| measure | target | " + " | ".join(_size_label(r["size"]) for r in results) + " |"
    rule = "|---|---|" + "---:|" * len(results)
    lines = [head, rule, *_rows(results, floor_stats), ""]
    lines.append("| cold-process floor | ms |")
    lines.append("|---|---:|")
    for name, s in floor_stats.items():
        lines.append(f"| `{name}` | {_ms(s)} |")
    lines.append("")
    return "\n".join(lines + _notes(results, meta))


def _rows(results: list[dict], floor_stats: dict) -> list[str]:
    """One row per measure, one cell per size."""
    rows = []

    def row(label: str, target: str, cells: list[str]) -> None:
        rows.append(f"| {label} | {target} | " + " | ".join(cells) + " |")

    row("`remember`, ms", "≤ 40", [_ms(r["remember"]) + _verdict("remember", r["remember"]["median"], r["size"]) for r in results])
    row("`recall --basic`, ms", "≤ 60",
        [_ms(r["recall_basic"]) + _verdict("recall_basic", r["recall_basic"]["median"], r["size"]) for r in results])
    row("`recall` (hybrid), ms", "≤ 150 at 10k",
        [_ms(r["recall"]) + _verdict("recall", r["recall"]["median"], r["size"]) for r in results])
    base = floor_stats["python -c pass"]["median"]

    def warm_row(label: str, target: str, key: str) -> None:
        if all(key in r for r in results):
            row(label, target, [f"{_ms(r[key])} = {r[key]['median'] / base:.1f}x" for r in results])

    warm_row("`recall` (hybrid), cold, x `python -c pass`", "≤ 8x at 10k", "recall")
    warm_row("`recall` through the warm server, ms", "≤ 3x", "recall_warm")
    warm_row("`recall --basic` through the warm server, ms", "≤ 3x", "recall_basic_warm")
    warm_row("prompt hook (`user-prompt-submit`), cold, ms", "", "hook")
    warm_row("prompt hook through the warm server, ms", "≤ 4x", "hook_warm")
    warm_row("`remember`, x `python -c pass`", "≤ 3x", "remember")
    warm_row("`recall --as-of` (mid-history), ms", "< 1,000", "recall_as_of")
    warm_row("`recall --known-at` (after drain), ms", "< 1,000", "recall_known_at")
    if all("server_rss_mb" in r for r in results):
        row("warm server peak RSS, MB", "", [f"{r['server_rss_mb']:.0f}" for r in results])
    row("`scheduler drain`, memories/s", "≥ 300",
        [f"{r['drain']['wall_rate']:,.0f} ({r['drain']['wall_ms'] / 1000:,.1f} s)"
         + _verdict("drain_rate", r["drain"]["wall_rate"], r["size"]) for r in results])
    row("`events replay`, events/s", "≥ 20,000",
        [f"{r['replay']['rate']['median']:,.0f} ({r['replay']['events_applied']:,} in {r['replay']['wall_ms']['median'] / 1000:,.2f} s)"
         + _verdict("replay_rate", r["replay"]["rate"]["median"], r["size"]) for r in results])
    row("`import`, memories/s", "", [f"{r['import']['wall_rate']:,.0f} ({r['import']['wall_ms'] / 1000:,.2f} s)" for r in results])
    row("store on disk, MB: *.db (+ WAL)", "", [f"{store_mb(r, True):,.1f} (+ {store_mb(r, False):,.1f})" for r in results])
    row("memories active / superseded; events", "",
        [f"{r['status']['by_status'].get('active', 0):,} / {r['status']['by_status'].get('superseded', 0):,};"
         f" {r['status']['events']:,}" for r in results])

    return rows


def _notes(results: list[dict], meta: dict) -> list[str]:
    """How the figures were taken, under the tables."""
    lines = []
    lines.append(
        f"Whole process through `{meta['launcher']}`, each run a fresh process; ms cells are median (min / p90) of "
        f"{meta['runs']} runs (recall rotates {len(QUERIES)} queries; replay: {meta['replay_runs']} run(s)). Drain and import "
        "are one whole-process run over the full imported backlog (inputs / wall seconds); replay is events_applied / "
        f"in-process seconds. {meta['cpus']} CPUs, Python {meta['python']}, memman {meta['memman']} ({meta['commit']}), "
        f"OPENBLAS_NUM_THREADS=1, load average {meta['load_before'][0]:.1f} before / {meta['load_after'][0]:.1f} after. "
        "✓/✗: against the target."
    )
    reused = [_size_label(r["size"]) for r in results if r.get("reused")]
    if reused:
        lines.append(f"Import, drain and store figures for {', '.join(reused)} come from the earlier run that built the store (--reuse).")
    by_launcher = [r for r in results if "remember_by_launcher" in r]
    if by_launcher:
        r = by_launcher[0]
        lines.append(
            f"Launcher, `remember` at {_size_label(r['size'])}: "
            + ", ".join(f"`{k}` {_ms(v)} ms" for k, v in r["remember_by_launcher"].items())
            + "."
        )
    return lines
