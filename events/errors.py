"""The error hierarchy. `MemmanError` lives here, in the bottom layer, so every
package can subclass it; the CLI catches it in one place and prints one line.

    MemmanError                      exit 1
    ├── BadInput                     exit 2   (EmptyText, TextTooLong, InvalidText, ...)
    ├── NotFound                     exit 3   (UnknownMemory, UnknownEvent, UnknownStore)
    ├── StoreLocked                  exit 4
    ├── StoreCorrupt                 exit 5
    ├── ProviderUnavailable          exit 6
    ├── BackendUnavailable           exit 6   (the PostgreSQL server is down)
    └── LogError / ProjectionError / ConfigError  (bases per layer)
"""

from __future__ import annotations


class MemmanError(Exception):
    """Root of every error memman raises on purpose."""

    exit_code = 1


class BadInput(MemmanError):
    exit_code = 2


class NotFound(MemmanError):
    exit_code = 3


class StoreLocked(MemmanError):
    exit_code = 4


class StoreCorrupt(MemmanError):
    exit_code = 5


class ProviderUnavailable(MemmanError):
    exit_code = 6


class CircuitOpen(ProviderUnavailable):
    """A provider failed several times in a row: its work is skipped for a
    cool-down instead of waiting out every Retry-After. Skipped work stays
    pending and spends no retry attempt."""


class ProviderRejected(MemmanError):
    exit_code = 6


class BackendUnavailable(MemmanError):
    """The store's PostgreSQL server cannot be reached (like a provider that is
    down: nothing is lost, try again)."""

    exit_code = 6


class LogError(MemmanError):
    """Something about the event log itself went wrong."""


class AppendOnlyViolation(LogError):
    exit_code = 5


class LogDamaged(StoreCorrupt):
    """A check found the log damaged (events verify, doctor): nothing more is
    appended to it until a check finds it sound again."""


class CorruptEvent(StoreCorrupt):
    """An event row that cannot be read back (damaged bytes, a bad timestamp)."""


class DiskFull(MemmanError):
    """No space left where the store lives. SQLite rolled the write back, so
    nothing was lost; the message names the disk and what to do."""


class ReadOnlyStore(MemmanError):
    """The store is on a read-only file system (or not writable by us):
    reads answer from a scratch copy, writes are refused."""


class LogMissing(StoreCorrupt):
    """log.db is gone, emptied or older than the projections built from it.
    `fix` says what to do; it never suggests anything that would discard the
    projections, which may then be the last copy of the memories."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}; {fix}")
        self.problem = message
        self.fix = fix


class UnknownEvent(NotFound):
    pass


class UnknownMemory(NotFound):
    pass


class UnknownStore(NotFound):
    pass


class EmptyText(BadInput):
    pass


class TextTooLong(BadInput):
    pass


class InvalidText(BadInput):
    pass


class ProjectionError(MemmanError):
    pass


class ConfigError(BadInput):
    pass


class WorkerError(MemmanError):
    pass
