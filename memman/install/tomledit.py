"""Reversible line-level edits of a TOML file (Codex's config.toml).

Only two shapes are needed: one `key = value` under a table (`[features]
codex_hooks = true`), and a whole table memman owns (`[mcp_servers.memman]`).
Every other line, comment and blank is left exactly as it was. What was
added is recorded in `created` (as for JSON edits: `[table]` for a table
memman created or owns, `[table, key]` for a key), so `unset` removes exactly
that when the file changed since install and the original bytes cannot
simply be put back.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def _header(line: str) -> str | None:
    found = _HEADER.match(line)
    return found.group(1).replace(" ", "") if found else None


def _span(lines: list[str], table: str) -> tuple[int, int] | None:
    """(header index, end index exclusive) of `[table]`, or None."""
    for i, line in enumerate(lines):
        if _header(line) == table:
            end = i + 1
            while end < len(lines) and _header(lines[end]) is None and not lines[end].lstrip().startswith("[["):
                end += 1
            return i, end
    return None


def _append_block(text: str, block: list[str]) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    if text.strip():
        text += "\n"
    return text + "\n".join(block) + "\n"


def set_key(text: str, table: str, key: str, value: str, created: list[list[str]]) -> str:
    """`key = value` under `[table]`, unless the key is already there (the user's choice stands)."""
    lines = text.splitlines()
    span = _span(lines, table)
    if span is None:
        if [table] not in created:
            created.append([table])
        if [table, key] not in created:
            created.append([table, key])
        return _append_block(text, [f"[{table}]", f"{key} = {value}"])
    start, end = span
    if any(re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]) for i in range(start + 1, end)):
        return text
    lines.insert(start + 1, f"{key} = {value}")
    if [table, key] not in created:
        created.append([table, key])
    return "\n".join(lines) + "\n"


def set_table(text: str, table: str, body: list[str], created: list[list[str]]) -> str:
    """The whole `[table]` with `body`; replaced when memman owns it, left alone when the user wrote it."""
    lines = text.splitlines()
    span = _span(lines, table)
    if span is None:
        created.append([table]) if [table] not in created else None
        return _append_block(text, [f"[{table}]", *body])
    if [table] not in created:
        return text
    start, end = span
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    lines[start + 1 : end] = body
    return "\n".join(lines) + "\n"


def unset(text: str, created: list[list[str]]) -> str:
    """Remove what `created` records: keys first, then tables memman created (if nothing else remains in them)."""
    lines = text.splitlines()
    for entry in [e for e in created if len(e) == 2]:
        span = _span(lines, entry[0])
        if span is None:
            continue
        start, end = span
        lines = [l for i, l in enumerate(lines) if not (start < i < end and re.match(rf"^\s*{re.escape(entry[1])}\s*=", l))]
    for entry in [e for e in created if len(e) == 1]:
        span = _span(lines, entry[0])
        if span is None:
            continue
        start, end = span
        owned = not any(len(e) == 2 and e[0] == entry[0] for e in created)  # a whole table memman wrote
        if owned or not any(l.strip() and not l.lstrip().startswith("#") for l in lines[start + 1 : end]):
            while start > 0 and not lines[start - 1].strip():
                start -= 1  # the blank line that separated it
            del lines[start:end]
    return "\n".join(lines) + "\n" if lines else ""
