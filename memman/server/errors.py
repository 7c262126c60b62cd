"""Errors the `memman server` commands report (the warm path itself never
raises: it falls back to the in-process path)."""

from __future__ import annotations

from events.errors import MemmanError


class ServerUnavailable(MemmanError):
    """The warm server could not be started here."""
