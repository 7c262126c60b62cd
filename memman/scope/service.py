"""`Scoped`: the agent verbs over a project store and the personal store.

- remember: a preference, or `personal=True`, goes to the personal store;
  anything else to the project store (created on its first write), or to
  the personal store outside a project. `personal=False` forces the project.
- recall: both stores, each with the same query and limit; the hits are
  merged by score, and a project hit is ordered before a personal one unless
  the personal one scores more than `PROJECT_EDGE` higher ("project first":
  the work at hand outranks the general, but a clearly better personal
  answer is not buried). Each hit names its store.
- forget / restore / replace / memory: the id is looked up in the project
  store first, then the personal one.

Every store is served by the same `Memman`; nothing here reimplements recall.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec

from events.errors import UnknownMemory
from memman.output.results import Changed, RecallResult, Remembered
from memman.scope.resolve import Scope, ensure_project_store, resolve
from memman.service import Memman

PROJECT_EDGE = 0.1
PERSONAL_CATEGORIES = frozenset({"preference"})
T = TypeVar("T")


class Scoped:
    def __init__(self, data_dir: Path, scope: Scope) -> None:
        self.data_dir = data_dir
        self.scope = scope
        self._apps: dict[str, Memman] = {}

    @classmethod
    def at(cls, data_dir: Path, flag: str | None, cwd: Path | str | None) -> Scoped:
        return cls(data_dir, resolve(data_dir, flag, cwd))

    def app(self, store: str) -> Memman:
        if store not in self._apps:
            self._apps[store] = Memman(self.data_dir, store)
        return self._apps[store]

    @property
    def notices(self) -> list[str]:
        return [n for a in self._apps.values() for n in a.notices]

    def close(self, *, failed: bool = False) -> None:
        for a in self._apps.values():
            a.close(failed=failed)
        self._apps.clear()

    def __enter__(self) -> Scoped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(failed=exc[0] is not None)

    def target(self, category: str, personal: bool | None) -> str:
        """The store a new memory goes to."""
        if self.scope.project is None:
            return self.scope.personal
        if personal is None:
            personal = category in PERSONAL_CATEGORIES
        return self.scope.personal if personal else self.scope.project

    def remember(self, text: str | bytes, *, personal: bool | None = None, **fields: object) -> Remembered:
        store = self.target(str(fields.get("category", "general")), personal)
        if store == self.scope.project:
            self.app(store).ensure_writable()
            ensure_project_store(self.app(store).registry, self.scope)
        return self.app(store).remember(text, **fields)  # type: ignore[arg-type]

    def capture(self, excerpts: list[str], **fields: object) -> int:
        """Session excerpts go to the store the session works in (the project's, else the personal one)."""
        store = self.scope.project or self.scope.personal
        if store == self.scope.project:
            self.app(store).ensure_writable()
            ensure_project_store(self.app(store).registry, self.scope)
        return self.app(store).capture(excerpts, **fields)  # type: ignore[arg-type]

    def existing(self) -> list[str]:
        """The stores recall reads that exist (a read never creates a project
        store); the personal store when none does (as before scoping)."""
        registry = self.app(self.scope.personal).registry
        return [s for s in self.scope.reads if registry.exists(s)] or [self.scope.personal]

    def recall(self, query: str, **options: object) -> RecallResult:
        """Recall every store the scope reads, merged. Use is noted for what
        the merged answer returns, not for what each store offered."""
        stores = self.existing()
        if len(stores) == 1:
            return _labelled(self.app(stores[0]).recall(query, **options), stores[0])  # type: ignore[arg-type]
        note = bool(options.pop("note_use", True)) and options.get("as_of") is None and options.get("known_at") is None
        results = [_labelled(self.app(s).recall(query, note_use=False, **options), s) for s in stores]  # type: ignore[arg-type]
        merged = merge(results, int(options.get("limit", 10)), self.scope.project)  # type: ignore[arg-type]
        if note:
            for store in stores:
                self.app(store).note_use([h.id for h in merged.results if h.store == store])
        return merged

    def find(self, memory_id: str, action: Callable[[Memman], T]) -> T:
        """`action` on the store holding the id: the project store first, then the personal one."""
        registry = self.app(self.scope.personal).registry
        stores = [s for s in self.scope.reads if registry.exists(s)] or [self.scope.write]
        for store in stores[:-1]:
            try:
                return action(self.app(store))
            except UnknownMemory:
                continue
        return action(self.app(stores[-1]))

    def forget(self, memory_id: str, reason: str = "") -> Changed:
        return self.find(memory_id, lambda a: a.forget(memory_id, reason))

    def restore(self, memory_id: str) -> Changed:
        return self.find(memory_id, lambda a: a.restore(memory_id))

    def replace(self, memory_id: str, text: str | bytes, **fields: object) -> Changed:
        return self.find(memory_id, lambda a: a.replace(memory_id, text, **fields))  # type: ignore[arg-type]


def _labelled(result: RecallResult, store: str) -> RecallResult:
    hits = [msgspec.structs.replace(h, store=store) for h in result.results]
    return msgspec.structs.replace(result, results=hits, meta=msgspec.structs.replace(result.meta, stores=[store]))


def merge(results: list[RecallResult], limit: int, project: str | None) -> RecallResult:
    """One answer from several stores' answers (see the module docstring)."""
    hits = [h for r in results for h in r.results]
    from memman.recall.succession import asked_first, successors_first

    first = results[0].meta
    hits.sort(key=lambda h: (-(h.score + (PROJECT_EDGE if h.store == project else 0.0)), h.store != project, h.id))
    # as within one store: the subject asked about first, and a stale value never above its successor
    hits = successors_first(asked_first(hits, first))
    meta = msgspec.structs.replace(
        first,
        store=",".join(r.meta.store for r in results),
        stores=[r.meta.store for r in results],
        took_ms=round(sum(r.meta.took_ms for r in results), 2),
        keyword_hits=sum(r.meta.keyword_hits for r in results),
        vector_hits=sum(r.meta.vector_hits for r in results),
        pending=sum(r.meta.pending for r in results),
    )
    return RecallResult(results=hits[:limit], meta=meta)
