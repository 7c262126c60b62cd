"""Edit JSON-with-comments files in place, touching only the bytes we add.

Agents' settings files (Claude Code's settings.json, OpenClaw's openclaw.json)
belong to the user: they may hold comments, trailing commas and their own
hooks. `parse` records where every value sits in the text; the edits insert
or delete spans, so everything else, comments included, stays byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from events.errors import BadInput


@dataclass
class Node:
    start: int
    end: int
    kind: str  # "object", "array", "scalar"
    value: object = None  # scalars: the decoded value
    members: list[tuple[str, Node]] = field(default_factory=list)  # objects
    items: list[Node] = field(default_factory=list)  # arrays

    def get(self, key: str) -> Node | None:
        for name, node in self.members:
            if name == key:
                return node
        return None

    def plain(self) -> object:
        if self.kind == "object":
            return {k: v.plain() for k, v in self.members}
        if self.kind == "array":
            return [v.plain() for v in self.items]
        return self.value


class JsoncError(BadInput):
    pass


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text, self.where, self.i = text, where, 0

    def fail(self, what: str) -> JsoncError:
        line = self.text.count("\n", 0, self.i) + 1
        return JsoncError(f"{self.where}: {what} at line {line}; fix the file or edit it by hand")

    def skip(self) -> None:
        t = self.text
        while self.i < len(t):
            c = t[self.i]
            if c in " \t\r\n\ufeff":
                self.i += 1
            elif t.startswith("//", self.i):
                end = t.find("\n", self.i)
                self.i = len(t) if end < 0 else end + 1
            elif t.startswith("/*", self.i):
                end = t.find("*/", self.i + 2)
                if end < 0:
                    raise self.fail("unterminated comment")
                self.i = end + 2
            else:
                return

    def value(self) -> Node:
        self.skip()
        if self.i >= len(self.text):
            raise self.fail("unexpected end")
        c = self.text[self.i]
        if c == "{":
            return self.container("object", "}")
        if c == "[":
            return self.container("array", "]")
        if c == '"':
            start = self.i
            return Node(start, self.string_end(), "scalar", json.loads(self.text[start : self.i]))
        start = self.i
        while self.i < len(self.text) and self.text[self.i] not in ",]} \t\r\n/":
            self.i += 1
        try:
            value = json.loads(self.text[start : self.i])
        except json.JSONDecodeError:
            raise self.fail(f"unexpected {self.text[start:self.i][:20]!r}") from None
        return Node(start, self.i, "scalar", value)

    def string_end(self) -> int:
        t, j = self.text, self.i + 1
        while j < len(t):
            if t[j] == "\\":
                j += 2
            elif t[j] == '"':
                self.i = j + 1
                return self.i
            else:
                j += 1
        raise self.fail("unterminated string")

    def container(self, kind: str, close: str) -> Node:
        node = Node(self.i, -1, kind)
        self.i += 1
        while True:
            self.skip()
            if self.i >= len(self.text):
                raise self.fail(f"missing {close!r}")
            if self.text[self.i] == close:
                self.i += 1
                node.end = self.i
                return node
            if kind == "object":
                if self.text[self.i] != '"':
                    raise self.fail("expected a quoted key")
                key_start = self.i
                key = json.loads(self.text[key_start : self.string_end()])
                self.skip()
                if self.i >= len(self.text) or self.text[self.i] != ":":
                    raise self.fail("expected ':'")
                self.i += 1
                node.members.append((key, self.value()))
            else:
                node.items.append(self.value())
            self.skip()
            if self.i < len(self.text) and self.text[self.i] == ",":
                self.i += 1
            elif self.i < len(self.text) and self.text[self.i] != close:
                raise self.fail(f"expected ',' or {close!r}")


def parse(text: str, where: str = "settings") -> Node:
    parser = _Parser(text, where)
    root = parser.value()
    parser.skip()
    if parser.i != len(text):
        raise parser.fail("trailing content")
    if root.kind != "object":
        raise parser.fail("the top level is not an object")
    return root


def _indent_of(text: str, pos: int) -> str:
    line_start = text.rfind("\n", 0, pos) + 1
    prefix = text[line_start:pos]
    return prefix if not prefix.strip() else ""


def _member_indent(text: str, obj: Node) -> str:
    if obj.members:
        # the indentation of the first member's key line
        first_value = obj.members[0][1]
        key_pos = text.rfind('"', obj.start, text.rfind(":", obj.start, first_value.start))
        key_pos = text.rfind('"', obj.start, key_pos)
        return _indent_of(text, key_pos) or "  "
    return _indent_of(text, obj.start) + "  "


def add_member(text: str, obj: Node, key: str, value_json: str) -> str:
    """`obj` gains `"key": value` as its last member."""
    indent = _member_indent(text, obj)
    entry = f"{json.dumps(key)}: {value_json}"
    if obj.members:
        last = obj.members[-1][1]
        return text[: last.end] + f",\n{indent}{entry}" + text[last.end :]
    closing_indent = _indent_of(text, obj.end - 1)
    return text[: obj.start + 1] + f"\n{indent}{entry}\n{closing_indent}" + text[obj.end - 1 :]


def append_item(text: str, arr: Node, value_json: str) -> str:
    if arr.items:
        last = arr.items[-1]
        indent = _indent_of(text, last.start)
        return text[: last.end] + (f",\n{indent}" if indent else ", ") + value_json + text[last.end :]
    return text[: arr.start + 1] + value_json + text[arr.end - 1 :]


def remove_item(text: str, arr: Node, index: int) -> str:
    """Delete one array item and the separator that joined it to its neighbour."""
    items = arr.items
    if index > 0:
        return text[: items[index - 1].end] + text[items[index].end :]
    if len(items) > 1:
        return text[: items[0].start] + text[items[1].start :]
    return text[: arr.start + 1] + text[arr.end - 1 :]


def remove_member(text: str, obj: Node, key: str) -> str:
    names = [k for k, _ in obj.members]
    index = names.index(key)
    value = obj.members[index][1]
    key_start = text.rfind('"', obj.start, text.rfind(":", obj.start, value.start))
    key_start = text.rfind('"', obj.start, key_start)
    if index > 0:
        return text[: obj.members[index - 1][1].end] + text[value.end :]
    if len(obj.members) > 1:
        next_value = obj.members[1][1]
        next_key = text.rfind('"', obj.start, text.rfind(":", obj.start, next_value.start))
        next_key = text.rfind('"', obj.start, next_key)
        return text[:key_start] + text[next_key:]
    return text[: obj.start + 1] + text[obj.end - 1 :]
