"""The flat vector cache (projections/flatcache.py), open, for reading the
rows the drain needs when it needs them.

Past the HNSW threshold the drain asks the index for candidates and scores
only those exactly (workers/vectors/indexedset.py), so it needs a few dozen rows per
query, not every row: copying the whole matrix out of the cache at the start
of each drain (100 MB at 100k memories) was most of a small drain's cost.
The rows are read with `pread` (the model is memman/recall/ann.py's
`RowFile`): nothing is mapped, and a rewrite of the file since (a re-embed
or purge renames a new file into place) is never read, because the open
descriptor keeps the old inode. Rows appended since are past the count this
reader knows and never asked for.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from projections import flatcache

if TYPE_CHECKING:
    import numpy as np


class CacheRows:
    """The cache's ids, keys and rows as of its stamp when opened."""

    def __init__(self, fd: int, header: flatcache.Header, ids: list[str], keys: np.ndarray) -> None:
        import numpy as np

        self.fd, self.header = fd, header
        self.dim: int = header["dim"]
        self.ids = ids  # row position -> memory id
        self.keys = keys  # row position -> index key (projections/vectorkeys.py)
        self._order = np.argsort(keys)  # keys are unique (one row per id)
        self._sorted = keys[self._order]
        weakref.finalize(self, os.close, fd)

    @classmethod
    def open(cls, path: Path, fingerprint: str, current: flatcache.Stamp) -> CacheRows | None:
        """The cache at `path` if it copies exactly `current` and its ids and
        keys pass their checksums, else None (the caller loads another way)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        header = flatcache.header_at(fd, fingerprint)
        ok = header is not None and tuple(header.get("stamp", ())) == tuple(current)
        ids = flatcache.ids_at(fd, header) if ok and header is not None else None
        raw = flatcache.keys_at(fd, header) if ids is not None and header is not None else None
        if header is None or ids is None or raw is None or len(ids) != header["count"]:
            os.close(fd)
            return None
        return cls(fd, header, ids, flatcache.as_keys(raw))

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, key: int) -> int | None:
        """The row position of index key `key`, None if no row has it."""
        import numpy as np

        at = int(np.searchsorted(self._sorted, np.uint64(key)))
        if at == len(self._sorted) or int(self._sorted[at]) != key:
            return None
        return int(self._order[at])

    def positions(self, keys: list[int]) -> np.ndarray:
        """The row position of each of `keys`, -1 where no row has it."""
        import numpy as np

        wanted = np.asarray(keys, dtype=np.uint64)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        return np.where(self._sorted[at] == wanted, self._order[at], -1) if len(self._sorted) else np.full(len(wanted), -1)

    def rows(self, positions: list[int]) -> np.ndarray:
        """The rows at `positions`, in that order (a new float32 array; a
        large store's cache holds float16 rows, widened exactly). The
        file was checked when opened and the rows before its count never
        move; one that shrank since is damaged: StoreCorrupt."""
        import numpy as np

        from events.errors import StoreCorrupt

        out = np.empty((len(positions), self.dim), dtype=np.float32)
        if positions:
            raw = flatcache.rows_at(self.fd, self.header, positions)
            if raw is None:
                raise StoreCorrupt("the flat vector cache shrank while a drain read it; run 'memman doctor'")
            out[:] = flatcache.as_rows(raw, self.header)  # float16 widened exactly
        return out
