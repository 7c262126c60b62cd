"""The key the drain's HNSW index (workers/vectors/annindex.py) files a memory's
vector under: 63 bits of a BLAKE2b hash of the memory id, so the index
outlives the positions of rows in any file.

It lives here, below workers/, because the flat vector cache
(projections/flatcache.py) stores every row's key beside the row: a
reader that maps index answers onto rows then reads 8 bytes a row instead
of hashing every id (~1 s at 1M memories, once per process or per change
of the vector set; issue 16).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.digests import blake2b  # not hashlib: its import costs the cold path ~6 ms (events/digests.py)

if TYPE_CHECKING:
    import numpy as np

_KEY_MASK = (1 << 63) - 1


def key_of(memory_id: str) -> int:
    return int.from_bytes(blake2b(memory_id.encode(), digest_size=8).digest(), "big") & _KEY_MASK


def keys_of(memory_ids: list[str]) -> np.ndarray:
    """The keys of `memory_ids`, in order (uint64)."""
    import numpy as np

    return np.fromiter((key_of(m) for m in memory_ids), dtype=np.uint64, count=len(memory_ids))
