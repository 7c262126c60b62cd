"""What a projector is.

A projector is a pure function of the log: it reads the event, its envelope
and its own tables, nothing else (no clock, no randomness, no network, no
config, no other projection's tables). The runner owns transactions and
checkpoints; a projector never commits.

Optional: `bulk_begin`/`bulk_end` (see runner.BULK_MIN_EVENTS) and
`cache_open(conn)`/`cache_close()`: between them a projector may keep in
memory what it read from its own tables (the runner reopens the cache
whenever another process may have written them; see ProjectionSet._caches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import apsw

from events.types import Recorded


class Projector(Protocol):
    name: str  # the checkpoint key
    version: int  # bump to force a rebuild from the log
    handles: frozenset[str]  # event types it reads
    tables: tuple[str, ...]  # tables it owns, compared row for row by `events verify`

    def create(self, conn: apsw.Connection) -> None: ...

    def drop(self, conn: apsw.Connection) -> None: ...

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None: ...


def bound_dispatch(obj: object, name: str = "_apply") -> Callable[..., None]:
    """The `functools.singledispatchmethod` `name` of `obj`, bound once, with
    a dict from each registered event class to its bound handler in front:
    functools builds a wrapper on every attribute access and looks the class
    up through a weak-keyed cache on every call (~5% of a replay). Any class
    not registered exactly (a subclass, an unknown event) goes through
    singledispatch, so what is called is what singledispatch would call."""
    # The class attribute as stored (what inspect.getattr_static returns,
    # without importing inspect: ~5 ms of every cold recall).
    method = next(vars(k)[name] for k in type(obj).__mro__ if name in vars(k))
    handlers = {cls: fn.__get__(obj) for cls, fn in method.dispatcher.registry.items() if cls is not object}
    general = getattr(obj, name)

    def dispatch(event: object, *args: Any) -> None:
        handler = handlers.get(type(event))
        if handler is None:
            return general(event, *args)  # type: ignore[no-any-return]
        return handler(event, *args)  # type: ignore[no-any-return]

    return dispatch
