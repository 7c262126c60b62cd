"""events/digests.py gives hashlib's digests without importing hashlib."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from events.digests import blake2b, sha256_hex


def test_the_digests_are_hashlibs() -> None:
    for data in (b"", b"static:minilm-l6-static-256:256:abc", "ünïcode".encode(), bytes(range(256)) * 9):
        assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
        ours, theirs = blake2b(digest_size=16), hashlib.blake2b(digest_size=16)
        ours.update(data)
        theirs.update(data)
        assert ours.hexdigest() == theirs.hexdigest()


def test_remember_and_recall_paths_do_not_import_hashlib() -> None:
    code = (
        "import sys\nimport events.integrity, projections.vectors, memman.scope.resolve, memman.install.hookrun\n"
        "print('hashlib' in sys.modules, '_hashlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
