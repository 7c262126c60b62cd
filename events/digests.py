"""blake2b and sha256 without importing hashlib.

`import hashlib` loads OpenSSL's bindings (`_hashlib`, ~2 ms) to offer its
constructors, and the hot path only ever needs two of them: blake2b for the
log's event checksums (events/integrity.py, every `remember`) and sha256 for
short file and directory names (the flat vector cache, a project store, a
hook's session file). CPython's own modules provide both, and hashlib itself
hands out `_blake2.blake2b`; their digests are the same bytes as hashlib's
(tests/events/test_digests.py). An interpreter without them falls back to
hashlib.
"""

from __future__ import annotations

from typing import Any

__all__ = ["blake2b", "sha256"]

try:
    from _blake2 import blake2b
except ImportError:  # not CPython
    from hashlib import blake2b

try:
    from _sha256 import sha256  # CPython 3.11
except ImportError:
    try:
        from _sha2 import sha256  # type: ignore[no-redef]  # CPython 3.12+
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment]


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of `data`."""
    digest: Any = sha256(data)
    return str(digest.hexdigest())
