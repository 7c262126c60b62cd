"""Text rendering for people and agents: compact, one line per item."""

from __future__ import annotations

from memman.output.results import RecallHit, RecallResult

SHORT_ID = 8


def short(memory_id: str) -> str:
    """The last 8 characters of a ULID: its random part, unique in practice,
    and accepted wherever an id is (`memman forget 7QX2K9ZB`)."""
    return memory_id[-SHORT_ID:]


def one_line(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _tags(hit: RecallHit) -> str:
    """What to know beside the text: pending, the other time axis, where
    validity ends, and why a value is stale."""
    occurred = hit.occurred_at or hit.created_at
    recorded = hit.recorded_at or hit.created_at
    tags = []
    if hit.status == "pending":
        tags.append("pending")
    if recorded[:10] != occurred[:10]:
        tags.append(f"recorded {recorded[:10]}")
    if hit.valid_until:
        tags.append(f"valid until {hit.valid_until[:10]}")
    if hit.stale == "superseded" and hit.superseded_by:
        tags.append(f"superseded by {short(hit.superseded_by)}")
    elif hit.stale:
        tags.append(hit.stale)
    return f" ({'; '.join(tags)})" if tags else ""


def recall_lines(result: RecallResult, *, raw: bool = False) -> list[str]:
    """One line per hit: short id, score, the date it occurred (valid time),
    category, text (made inert for a terminal unless `raw`), then tags (see `_tags`)."""
    from memman.output.sanitize import for_terminal

    clean = (lambda text: text) if raw else for_terminal
    lines = []
    for hit in result.results:
        occurred = (hit.occurred_at or hit.created_at)[:10]
        lines.append(
            f"{short(hit.id)}  {hit.score:.2f}  {occurred}  {hit.category:<10}  {clean(one_line(hit.content))}{_tags(hit)}"
        )
    if not lines:
        lines.append("no memories matched")
        if result.meta.hint:
            lines.append(f"# {result.meta.hint}")
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
