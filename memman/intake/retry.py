"""The retry key of this invocation's `remember`: what makes a write that is
tried twice append once.

The warm client (memman/server/client.py) forwards a `remember` to the server
with a key it chose at random. If the reply is lost (the server died after
appending, the client timed out), the client runs the command in-process
with the same key. Whichever run reaches the log first appends the memory
with the key "req:<key>" in the log's idempotency index (events/log/append.py
`append_many`, checked under the write lock); the other appends nothing and
reports the same memory as the first did, so the user sees exactly what one
run would have printed.

The key travels in a context variable set for the duration of one
invocation (`keyed`): the server sets it around the command it runs, the
client's in-process retry around its own; nothing else sets it, so a cold
`remember` (no server involved) records no key, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PREFIX = "req:"
_current: ContextVar[str | None] = ContextVar("memman_retry_key", default=None)


@contextmanager
def keyed(request: str | None) -> Iterator[None]:
    """`request` is the retry key of the write made in this block (None: no key)."""
    token = _current.set(request)
    try:
        yield
    finally:
        _current.reset(token)


def log_key() -> str | None:
    """The idempotency key a `remember` made now records, if its caller chose one."""
    request = _current.get()
    return None if request is None else PREFIX + request


def is_retry_key(key: str) -> bool:
    return key.startswith(PREFIX)
