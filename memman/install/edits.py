"""Reversible edits of agents' JSON settings files.

Install records, per file, the original bytes (or that the file was absent)
and a hash of what it wrote. Uninstall restores the original bytes exactly
when the file is still what install wrote; when the user changed it since,
it removes only memman's entries (recognised by `is_ours`) and the containers
install created if they are empty, leaving every other byte alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import msgspec

from memman.install import jsonc

Ours = Callable[[object], bool]


class FileEdit(msgspec.Struct, kw_only=True):
    path: str
    original: str | None  # base64 of the bytes before the first install; None = the file did not exist
    written_sha256: str
    created_keys: list[list[str]] = []  # key paths install added (removed on uninstall when empty)
    kind: str = ""  # which editor made it (targets.editor); "" = by file name (older manifests)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ensure_object(text: str, path: list[str], created: list[list[str]], where: str) -> tuple[str, jsonc.Node]:
    node = jsonc.parse(text, where)
    for depth, key in enumerate(path):
        child = node.get(key)
        if child is None:
            text = jsonc.add_member(text, node, key, "{}" if depth < len(path) else "[]")
            created.append(path[: depth + 1])
            node = jsonc.parse(text, where)
            for k in path[: depth + 1]:
                node = node.get(k)  # type: ignore[assignment]
            continue
        if child.kind != "object":
            raise jsonc.JsoncError(f"{where}: {'.'.join(path[: depth + 1])} is not an object; memman will not change it")
        node = child
    return text, node


def _array(text: str, path: list[str], created: list[list[str]], where: str) -> tuple[str, jsonc.Node]:
    text, parent = _ensure_object(text, path[:-1], created, where)
    arr = parent.get(path[-1])
    if arr is None:
        text = jsonc.add_member(text, parent, path[-1], "[]")
        created.append(path)
        text, parent = _ensure_object(text, path[:-1], [], where)
        arr = parent.get(path[-1])
        assert arr is not None
    if arr.kind != "array":
        raise jsonc.JsoncError(f"{where}: {'.'.join(path)} is not a list; memman will not change it")
    return text, arr


def _node_at(text: str, path: list[str], where: str) -> jsonc.Node | None:
    node: jsonc.Node | None = jsonc.parse(text, where)
    for key in path:
        node = node.get(key) if node is not None and node.kind == "object" else None
    return node


def drop_ours(text: str, path: list[str], is_ours: Ours, where: str) -> str:
    while True:
        arr = _node_at(text, path, where)
        if arr is None or arr.kind != "array":
            return text
        hits = [i for i, item in enumerate(arr.items) if is_ours(item.plain())]
        if not hits:
            return text
        text = jsonc.remove_item(text, arr, hits[-1])


def add_items(text: str, path: list[str], values: list[object], is_ours: Ours, created: list[list[str]], where: str) -> str:
    """Replace memman's items in the array at `path` by `values` (idempotent)."""
    text = drop_ours(text, path, is_ours, where)
    for value in values:
        text, arr = _array(text, path, created, where)
        text = jsonc.append_item(text, arr, json.dumps(value))
    return text


def set_key(text: str, path: list[str], value: object, created: list[list[str]], where: str) -> str:
    """Add `path[-1]: value` under the object at path[:-1], unless the key exists."""
    text, parent = _ensure_object(text, path[:-1], created, where)
    if parent.get(path[-1]) is None:
        text = jsonc.add_member(text, parent, path[-1], json.dumps(value))
        created.append(path)
    return text


def drop_created(text: str, created: list[list[str]], where: str, *, only_empty: bool) -> str:
    """Remove keys install created, deepest first; containers only when empty."""
    for path in sorted(created, key=len, reverse=True):
        parent = _node_at(text, path[:-1], where)
        node = _node_at(text, path, where)
        if parent is None or node is None:
            continue
        empty = (node.kind == "object" and not node.members) or (node.kind == "array" and not node.items)
        if empty or (not only_empty and node.kind == "scalar") or (node.kind == "object" and not only_empty):
            text = jsonc.remove_member(text, parent, path[-1])
    return text


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    tmp = path.with_name(f".{path.name}.memman-{os.getpid()}.tmp")
    tmp.write_bytes(data)
    if mode is not None:
        os.chmod(tmp, mode)
    tmp.replace(path)


def read_original(path: Path, empty: str = "{}\n") -> tuple[str | None, str]:
    if not path.exists():
        return None, empty
    data = path.read_bytes()
    try:
        return base64.b64encode(data).decode(), data.decode("utf-8")
    except UnicodeDecodeError:
        raise jsonc.JsoncError(f"{path} is not UTF-8 text; memman will not change it") from None


def restore(edit: FileEdit, fallback: Callable[[str], str]) -> str:
    """Undo one file's edit: exact original bytes if untouched since, else `fallback`."""
    path = Path(edit.path)
    if not path.exists():
        return "absent"
    current = path.read_bytes()
    if sha256(current) == edit.written_sha256:
        if edit.original is None:
            path.unlink()
            return "removed"
        write_atomic(path, base64.b64decode(edit.original), path.stat().st_mode & 0o777)
        return "restored"
    write_atomic(path, fallback(current.decode("utf-8")).encode(), path.stat().st_mode & 0o777)
    return "cleaned"
