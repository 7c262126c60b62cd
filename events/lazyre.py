"""Regular expressions compiled on first use.

A cold `memman recall` is a fresh process, and Python compiles every
module-level `re.compile` at import: the extractor, the reconciler's subject
rules and the script index held ~80 patterns, ~20 ms of a ~130 ms recall,
most of which a recall never runs. `lazy(pattern, flags)` has the
`re.Pattern` methods memman uses and compiles the pattern the first time one
is called (Python's own cache then keeps it for the rest of the process).

    _BULLET = lazy(r"[ \\t]*[-*][ \\t]+(?=\\S)")
    _BULLET.match(line)      # compiled here, once

Stdlib only, so every layer can use it (events/ is the bottom of the stack).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["LazyPattern", "lazy"]


class LazyPattern:
    """A `re.Pattern` stand-in that compiles on first use; see the module docstring."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def search(self, string: str, *args: int) -> re.Match[str] | None:
        return self.compiled.search(string, *args)

    def match(self, string: str, *args: int) -> re.Match[str] | None:
        return self.compiled.match(string, *args)

    def fullmatch(self, string: str, *args: int) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, *args)

    def finditer(self, string: str, *args: int) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, *args)

    def findall(self, string: str, *args: int) -> list[Any]:
        return self.compiled.findall(string, *args)

    def split(self, string: str, maxsplit: int = 0) -> list[str | Any]:
        return self.compiled.split(string, maxsplit)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)

    def subn(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> tuple[str, int]:
        return self.compiled.subn(repl, string, count)

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r}, {self.flags!r})"


def lazy(pattern: str, flags: int = 0) -> LazyPattern:
    """A pattern compiled the first time it is used (`re.compile` arguments)."""
    return LazyPattern(pattern, flags)
