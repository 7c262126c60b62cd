"""PostgreSQL connection strings: recognised, checked and shown without secrets."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from events.errors import BadInput

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str) -> bool:
    return location.startswith(SCHEMES)


def check(dsn: str) -> str:
    """The DSN if it is a well-formed postgresql:// URL, else BadInput (never echoing a password)."""
    if not is_postgres(dsn):
        raise BadInput("backend must be 'sqlite' or a postgresql:// URL")
    try:
        parts = urlsplit(dsn)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError:
        raise BadInput(f"malformed PostgreSQL URL {redact(dsn)}") from None
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise BadInput(f"the PostgreSQL URL {redact(dsn)} names no database: add /DBNAME")
    return dsn


def redact(dsn: str) -> str:
    """The DSN with any password replaced by ***, for messages and `status`."""
    redacted = re.sub(r"(://[^:/@?#]*):[^@/?#]*@", r"\1:***@", dsn)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", redacted)
