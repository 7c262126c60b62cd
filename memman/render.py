"""Text rendering for people and agents: compact, one line per item."""

from __future__ import annotations

from memman.results import RecallResult

SHORT_ID = 8


def short(memory_id: str) -> str:
    """The last 8 characters of a ULID: its random part, unique in practice,
    and accepted wherever an id is (`memman forget 7QX2K9ZB`)."""
    return memory_id[-SHORT_ID:]


def one_line(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def recall_lines(result: RecallResult, *, raw: bool = False) -> list[str]:
    """One line per hit; memory text made inert for a terminal unless `raw`."""
    from memman.sanitize import for_terminal

    clean = (lambda text: text) if raw else for_terminal
    lines = []
    for hit in result.results:
        pending = " (pending)" if hit.status == "pending" else ""
        lines.append(
            f"{short(hit.id)}  {hit.score:.2f}  {(hit.occurred_at or hit.created_at)[:10]}  {hit.category:<10}"
            f"  {clean(one_line(hit.content))}{pending}"
        )
    if not lines:
        lines.append("no memories matched")
    if result.meta.degraded:
        lines.append(f"# {result.meta.degraded}")
    return lines


def recall_diagnostics(result: RecallResult) -> str:
    """One line for `-v`: how the answer was found."""
    m = result.meta
    return (
        f"recall[{m.mode}] store={m.store} took={m.took_ms:.1f}ms keyword_hits={m.keyword_hits}"
        f" vector_hits={m.vector_hits} pending={m.pending} embedder={m.fingerprint or '-'}"
        + (f" degraded={m.degraded!r}" if m.degraded else "")
    )


def to_json(value: object) -> str:
    import msgspec

    return msgspec.json.encode(value).decode()


def remembered_line(result) -> str:  # type: ignore[no-untyped-def]
    """What `remember` prints: the new id, or the id an earlier call with the
    same --id made."""
    if result.already:
        return f"already remembered {result.id} ({result.status}); nothing appended"
    return f"remembered {result.id} (pending)"
