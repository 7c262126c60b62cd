"""What a long-running worker (`memman scheduler serve`) keeps between the
drains of its stores: each store's vector set as the last drain left it, so
the next drain does not load it again (at 100k memories: the HNSW index
read back from disk and its missing rows added, the flat cache's ids and
keys, the inactive memories; at 10k, the 10 MB of rows copied out of the
flat cache and every active id).

A kept set is used only when the store has not changed under it: the same
embedder fingerprint, the same vector set stamp (no vector appended,
re-embedded or purged by anyone else: `projections.vectors.stamp`), and,
since the log position the set reflects, nothing but events that change no
memory's status and no vector (new inputs, recorded use, protection,
manual edges, queue bookkeeping; `HARMLESS`). Anything else (a forget, a
restore, a replace, a purge, another worker's derivations, a retention
pass that forgot memories) and the set is loaded afresh, as is one whose
drain failed an input (what a failed input added to the set never reached
the log) and one that grew past `MAX_ADDED` rows since it was loaded.

Kept versus loaded: the same memories with the same vectors, not the same
bits in every case. Past the HNSW threshold the kept index goes on drawing
insertion levels from its generator where a reloaded one starts it afresh,
so the two graphs differ and an approximate search can return a different
near-tie neighbour (2 of 300 queries in a 3k-row experiment); below it the
kept matrix holds the retired rows in place, and this BLAS rounds a few
products of a differently laid-out matrix in the last bit (41 of 280k
products in the same experiment). Candidates are rescored exactly either
way; a fresh process per drain (`scheduler drain`, the benchmarks) is
unaffected and reproducible as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from projections.store import StoreDB
    from workers.vectors.indexedset import IndexedVectorSet
    from workers.vectors.vectorset import VectorSet

# Event types that change no memory's status and no stored vector.
HARMLESS = frozenset({
    "memory.remembered",  # a new pending input (INSERT OR IGNORE): not a row of the set until derived
    "session.captured",
    "memory.accessed",
    "memory.protected",
    "memory.unprotected",
    "edge.linked",
    "edge.unlinked",
    "work.retried",
})
MAX_SINCE = 5_000  # events since the last drain read to check them; more: load afresh (it costs less than they will)
MAX_ADDED = 50_000  # rows a kept set may have gained since it was loaded (~50 MB at 256-d) before it is loaded afresh


class KeptVectors:
    """Per store directory: (fingerprint, vector set stamp, log head, the set)."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, object, int, VectorSet | IndexedVectorSet]] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def take(self, db: StoreDB, fingerprint: str) -> VectorSet | IndexedVectorSet | None:
        """The set the last drain of this store left, if still current (then
        it is no longer kept: `keep` it again after the drain), else None."""
        from projections.vectors import stamp

        kept = self._kept.pop(str(db.directory), None)
        if kept is None:
            return None
        kept_fingerprint, kept_stamp, head, vectors = kept
        if kept_fingerprint != fingerprint or stamp(db.vectors.conn, fingerprint) != kept_stamp:
            return None
        since = [rec.type for rec in db.log.read(after=head, limit=MAX_SINCE + 1)]
        if len(since) > MAX_SINCE or not HARMLESS.issuperset(since):
            return None
        vectors.forget_queries()
        return vectors

    def keep(self, db: StoreDB, fingerprint: str, vectors: VectorSet | IndexedVectorSet) -> None:
        """Keep `vectors` as the drain just left it (the caller checked that
        every input it derived landed), unless it has grown too far."""
        from projections.vectors import stamp

        if vectors.added_since_loaded() > MAX_ADDED:
            return
        self._kept[str(db.directory)] = (fingerprint, stamp(db.vectors.conn, fingerprint), db.log.head(), vectors)

    def drop(self, db: StoreDB) -> None:
        self._kept.pop(str(db.directory), None)
