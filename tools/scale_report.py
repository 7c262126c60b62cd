"""The Markdown report of tools/scale_bench.py: one column per store size,
each figure with its multiple of `python -c pass` (wall, and CPU) and a
verdict against issue 16's targets where the target names that size."""

from __future__ import annotations

TARGETS = {  # issue 16, whole-process medians as multiples of `python -c pass` (x) or rates
    "recall": ("<=", 8.0, "x", 10_000),
    "remember": ("<=", 3.0, "x", None),
    "recall_warm": ("<=", 3.0, "x", 10_000),
    "hook_warm": ("<=", 4.0, "x", None),
    "drain_rate": (">=", 300.0, "/s", 10_000),
    "replay_rate": (">=", 20_000.0, "/s", 100_000),
    "as_of_ms": ("<=", 1000.0, "ms", 10_000),
    "bytes_per_memory": ("<=", 5000.0, "B", 100_000),
    "server_rss_mb": ("<=", 1000.0, "MB", 1_000_000),
}


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _verdict(key: str, value: float | None, n: int) -> str:
    if value is None or key not in TARGETS:
        return ""
    comparison, bound, _, at = TARGETS[key]
    if at is not None and n != at:
        return ""
    return " ✓" if (value <= bound if comparison == "<=" else value >= bound) else " ✗"


def _per_cpu(figures: dict) -> str:
    return f" ({figures['cpu_rate']:,.0f})" if figures.get("cpu_rate") else ""


def rows(r: dict) -> dict[str, str]:
    n, cold_, warm_ = r["size"], r["cold"], r["warm"]

    def x(group: dict, key: str, target: str | None = None) -> str:
        s = group[key]
        cpu = f" (CPU {s['cpu_x']:.1f}x)" if s.get("cpu_x") else ""
        return f"{s['median']:.0f} ms = {s['x']:.1f}x{_verdict(target or key, s['x'], n)}{cpu}"

    store = r["store"]
    base = {}
    if "recall@base" in cold_:
        base = {
            "before (baseline tree): `recall`, cold": x(cold_, "recall@base", "none"),
            "before (baseline tree): `recall --basic`, cold": x(cold_, "recall_basic@base", "none"),
            "before (baseline tree): prompt hook, cold": x(cold_, "hook@base", "none"),
            "before (baseline tree): `remember`": x(r["remember"], "remember@base", "none"),
        }  # fmt: skip
    return {
        "`python -c pass` (floor), wall ms (CPU ms)": f"{cold_['pass']['median']:.0f} (CPU {cold_['pass']['cpu_ms']:.0f})",
        "`recall` (hybrid), cold": x(cold_, "recall"),
        "`recall --basic`, cold": x(cold_, "recall_basic"),
        "`recall --as-of` (mid-history), cold": f"{cold_['recall_as_of']['median']:.0f} ms"
        + _verdict("as_of_ms", cold_["recall_as_of"]["median"], n),
        "prompt hook, cold": x(cold_, "hook", "hook_cold"),
        "`recall` via the warm server": x(warm_, "recall_warm"),
        "`recall --basic` via the warm server": x(warm_, "recall_basic_warm"),
        "prompt hook via the warm server": x(warm_, "hook_warm"),
        **({"prompt hook via the warm server, through the installed shim": x(warm_, "hook_shim_warm", "hook_warm")}
           if "hook_shim_warm" in warm_ else {}),
        "`remember`": x(r["remember"], "remember"),
        **({"`remember` via the warm server": x(warm_, "remember_warm", "remember")} if "remember_warm" in warm_ else {}),
        "warm server RSS, MB": f"{warm_.get('server_rss_mb') or 0:.0f}" + _verdict("server_rss_mb", warm_.get("server_rss_mb"), n),
        "drain at this size, inputs/s (per CPU-second)": f"{r['drain']['rate'] or 0:,.0f}" + _verdict("drain_rate", r["drain"]["rate"], n)
        + _per_cpu(r["drain"]),
        "`events replay`, events/s (per CPU-second)": f"{r['replay']['rate'] or 0:,.0f} ({r['replay']['events']:,} in {r['replay']['seconds']:,.1f} s)"
        + _verdict("replay_rate", r["replay"]["rate"], n) + _per_cpu(r["replay"]),
        "store on disk, bytes per memory": f"{store['bytes_per_memory']:,}" + _verdict("bytes_per_memory", store["bytes_per_memory"], n),
        "memories; events; edges": f"{store['memories']:,}; {store['events']:,}; {store['edges'] or 0:,}",
        "built by": f"{r['build']['method']} in {r['build']['build_seconds']:,.0f} s",
    } | base  # fmt: skip


TARGET_TEXT = {
    "`recall` (hybrid), cold": "≤ 8x at 10k",
    "`recall --as-of` (mid-history), cold": "≤ 1 s at 10k, ≤ 3 s at 100k",
    "`recall` via the warm server": "≤ 3x at 10k, ≤ 4x at 1M",
    "prompt hook via the warm server": "≤ 4x",
    "prompt hook via the warm server, through the installed shim": "≤ 4x",
    "`remember`": "≤ 3x",
    "`remember` via the warm server": "≤ 3x",
    "warm server RSS, MB": "≤ 1,000 at 1M",
    "drain at this size, inputs/s (per CPU-second)": "≥ 300 at 10k, ≥ 250 at 100k",
    "`events replay`, events/s (per CPU-second)": "≥ 20,000 at 100k",
    "store on disk, bytes per memory": "≤ 5,000 at 100k",
}


def markdown(results: list[dict], meta: dict) -> str:
    table = [rows(r) for r in results]
    lines = ["| measure | target | " + " | ".join(_label(r["size"]) for r in results) + " |",
             "|---|---|" + "---:|" * len(results)]  # fmt: skip
    for key in table[0]:
        lines.append(f"| {key} | {TARGET_TEXT.get(key, '')} | " + " | ".join(t[key] for t in table) + " |")
    peers = [r for r in results if "peer" in r]
    for r in peers:
        p = r["peer"]
        lines.append(f"| peer `recall` / `remember` ({meta['peer']}) | | {p['peer_recall']['median']:.0f} / "
                     f"{p['peer_remember']['median']:.0f} ms ({p['peer_recall']['x']:.1f}x / {p['peer_remember']['x']:.1f}x) |")  # fmt: skip
    lines.append("")
    lines.append(
        f"Whole processes of `.venv/bin/memman`, medians of {meta['runs']} runs; each group interleaved with `python -c pass`, "
        "and Nx is the median over that group's floor (CPU Nx: the same with user + system CPU time, "
        "which a loaded machine inflates less). Cold rows: MEMMAN_SERVER=off. Drain: a fresh batch of "
        f"{meta['drain_batch']} inputs imported into the store and drained (inputs / in-process seconds). "
        f"{meta['cpus']} CPUs, Python {meta['python']}, memman {meta['commit']}, load {meta['load_before']} before / "
        f"{meta.get('load_after')} after. ✓/✗ against issue 16's targets."
    )
    return "\n".join(lines)
