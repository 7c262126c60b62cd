"""The vector channel: what a memory means, beyond what the whole store says.

Three steps keep store-wide vocabulary out of it (issue 10, item 2):

1. Store-adaptive query weighting. With the static embedder (a mean of token
   vectors) each query word pools with its inverse document frequency in
   this store (memman/recall/terms.py): a name that most memories mention
   hardly moves the query vector, a rare word moves it most. ONNX and remote
   embedders see whole texts, so for them the weighting happens on vectors,
   by step 2.
2. Removal of the common component. Stored and query vectors are centred on
   the mean of the store's vectors (projections/vectors.py `centered`; at
   query time, memman/recall/scan.py `centred_similarities`) and
   re-normalised: the
   direction every memory shares ("Dana: ...", the store's register) no
   longer makes every memory look similar to every query.
3. A floor calibrated per store and query. The similarities of the query to
   every stored vector form a distribution; a candidate must stand out of it
   (z >= Z_FLOOR standard deviations above its mean) and clear a small
   absolute cosine floor. A fixed cosine floor let hundreds of memories of a
   one-topic store through. A query none of whose words the store has ever
   seen has no keyword support at all: its candidates must stand out beyond
   what chance gives the best of N unrelated similarities (z >= sqrt(2 ln N),
   `chance_z`), so nonsense finds nothing with any embedder. The static
   embedder knows its own vocabulary instead (`_nonsense`), which lets a
   true paraphrase through in a store of six memories ("how do we ship code
   to production" for "Deployments go through GitHub Actions"); a whole-text
   embedder (onnx, remote) does not, so for it this floor is the guard.

Scores mean the same for every embedder (issue 10: "the same must hold for
remote and onnx embedders"). Fusion's weights were fitted on the static
embedder's centred cosines, whose spread differs from another embedder's; so
for every other embedder the `vector` value fusion weighs is the static
equivalent of how far the memory stands out of this query's similarities,
PRIOR_CENTRE + PRIOR_SPREAD x z (`comparable`), an embedder-independent
feature; the raw cosine is still shown in `signals.similarity`.

Pending memories have no vector yet: they are found by keyword only.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import msgspec

from memman.recall import ann
from memman.recall.scan import (
    Scales, Values, centred_similarities, finite, moments, ranked_above, scales, similarities, unit_difference,
)
from memman.recall.terms import QueryTerms
from projections.queries import kinds_by_id
from projections.store import StoreDB
from projections.flatcache import widen
from projections.vectors import cache_identity, flat_view, stamp

CANDIDATES = 50
KINDS_CHUNK = CANDIDATES + 10  # candidates whose status and kind are read at a time (see `_kept`)
Z_FLOOR = 1.5  # standard deviations above the store's mean similarity to the query
MIN_Z_SAMPLE = 30  # below this many vectors the distribution says little: use the prior below
# A small store's similarities are judged against what 800-memory stores show
# once centred (mean ~0, standard deviation 0.09-0.18 for the static embedder).
PRIOR_CENTRE, PRIOR_SPREAD = 0.0, 0.13
# Centred cosine floors per embedder provider (noise sits near 0 once centred).
MIN_COSINE = {"static": 0.12, "hashing": 0.2, "onnx": 0.15, "openai": 0.15, "voyage": 0.15}
DEFAULT_MIN_COSINE = 0.2

VOCABULARY_CHECKED = ("static",)  # `_nonsense` knows its vocabulary: a paraphrase without a store word still counts
RAW_PROVIDERS = ("static",)  # the embedder fusion's vector weight was fitted on: its cosine is used as it is

# The three steps above, by the names `recall(disable=...)` switches them off with.
STEPS = ("centering", "query-weights", "store-floor")


class VectorHit(msgspec.Struct, frozen=True):
    memory_id: str
    cosine: float  # centred cosine similarity to the query
    z: float  # standard deviations above the store's mean similarity to this query


def chance_z(n: int) -> float:
    """About where the best of `n` unrelated similarities lands by chance, in
    standard deviations: sqrt(2 ln n) (the expected maximum of n normals)."""
    return math.sqrt(2.0 * math.log(max(n, MIN_Z_SAMPLE)))


def comparable(similarity: float | None, z: float | None, provider: str) -> float:
    """The `vector` value fusion weighs: the centred cosine for the embedder
    the weights were fitted on, the static-scale equivalent of `z` for any other."""
    if provider in RAW_PROVIDERS:
        return similarity or 0.0
    return max(-1.0, min(1.0, PRIOR_CENTRE + PRIOR_SPREAD * (z or 0.0)))


def _nonsense(embedder, words: QueryTerms) -> bool:  # type: ignore[no-untyped-def]
    """No word of the query is in this store and none is a word of the
    embedder's vocabulary (each splits into two or more pieces): the pieces'
    vectors are noise that lands on whichever memories are hubs, so the
    channel has nothing to match ("zorblax quintessor")."""
    return bool(words.words) and not any(words.df) and all(len(embedder.token_ids(w)) > 1 for w in words.words)


def _query_vector(db: StoreDB, query: str, fingerprint: str, words: QueryTerms, weigh: bool) -> list[float] | None:
    """The query's vector as a list (the static embedder computes it without numpy)."""
    from workers.embedders import embedder_for

    provider = fingerprint.split(":", 1)[0]
    if provider == "static":
        embedder = db.kept(f"embedder:{fingerprint}", None, lambda: embedder_for(fingerprint))  # a pure function of the package
        if weigh and _nonsense(embedder, words):
            return None
        weighted = words.weighted() if weigh else []
        if weighted:
            return embedder.embed_weighted(weighted)  # type: ignore[attr-defined,no-any-return]
        if hasattr(embedder, "embed_query"):  # the hashing fallback of a checkout without the artifact has none
            return embedder.embed_query(query)  # type: ignore[no-any-return]
        return [float(x) for x in embedder.embed([query], kind="query")[0]]
    if provider == "hashing":
        embedder = db.kept(f"embedder:{fingerprint}", None, lambda: embedder_for(fingerprint))
        return [float(x) for x in embedder.embed([query], kind="query")[0]]
    from memman.operations.embed import query_vector  # onnx or remote: the store's settings, a cache, a time budget

    raw = query_vector(db, query, fingerprint)
    return None if raw is None else [float(x) for x in raw]


class Scores:
    """The query's centred similarity to every stored vector, and where a
    value sits in their distribution (for memories found another way)."""

    def __init__(
        self, ids: list[str], scores: Values, centre: float, spread: float, position: dict[str, int] | None = None
    ) -> None:
        self._ids = ids
        self._scores = scores
        self.centre = centre
        self.spread = spread
        self._position: dict[str, int] = {} if position is None else position  # filled on first use; may be shared

    def cosine(self, wanted: list[str]) -> dict[str, float]:
        if not self._position:  # zip(...): ~5x faster than a generator at 10k ids; filled in place, as it may be shared
            self._position.update(zip(self._ids, range(len(self._ids))))
        return {i: float(self._scores[self._position[i]]) for i in wanted if i in self._position}

    def z(self, cosine: float) -> float:
        return (cosine - self.centre) / self.spread if self.spread > 0 else 0.0


def vector_hits(
    db: StoreDB, query: str, fingerprint: str, words: QueryTerms, *,
    category: str | None, source: str | None, disable: Collection[str] = (),
) -> tuple[list[VectorHit], Scores | None]:
    """Vector candidates (active, filtered, above the store's floor), best
    first, and a lookup of the query's centred similarity to any memory.
    numpy is not imported while the flat vector cache is current (scan.py)."""
    raw = _query_vector(db, query, fingerprint, words, "query-weights" not in disable)
    if raw is None or not any(raw):
        return [], None
    centring = "centering" not in disable
    rows = _flat(db, fingerprint)
    q = unit_difference(raw, rows.mean if centring else [])
    if not rows.ids or rows.rows is None or q is None:
        return [], None
    ids, position = rows.ids, rows.position
    if len(ids) >= ann.ANN_ROWS and centring:
        near = ann.neighbourhood(db, fingerprint, ids, rows.rows, rows.mean, _version(db, fingerprint))
        found = None if near is None else _near_hits(
            db, near, ids, q, fingerprint, words, category=category, source=source, disable=disable
        )  # fmt: skip
        if found is not None:
            return found
    scores = rows.similarities(q, centring)
    if not finite(scores):  # flipped bytes in the flat cache: check it, rebuild it if damaged
        rows = _flat(db, fingerprint, verify=True)
        ids, position = rows.ids, None  # the rebuilt rows' order, not the kept one's
        found = [] if rows.rows is None else rows.similarities(q, centring)
        scores = [s if math.isfinite(s) else -math.inf for s in found]
    if len(ids) >= MIN_Z_SAMPLE:
        centre, spread = moments(scores)
    else:
        centre, spread = PRIOR_CENTRE, PRIOR_SPREAD
    floor = _floor(fingerprint, words, len(ids), centre, spread, disable)
    best = [(ids[i], float(scores[i])) for i in ranked_above(scores, floor, CANDIDATES * 4)]
    return _kept(db, best, centre, spread, category, source), Scores(ids, scores, centre, spread, position)


def _floor(fingerprint: str, words: QueryTerms, n: int, centre: float, spread: float, disable: Collection[str]) -> float:
    """The similarity a vector candidate must reach in this store, for this query."""
    provider = fingerprint.split(":", 1)[0]
    floor = MIN_COSINE.get(provider, DEFAULT_MIN_COSINE)
    if spread > 0 and "store-floor" not in disable:
        floor = max(floor, centre + Z_FLOOR * spread)
        if provider not in VOCABULARY_CHECKED and words.words and words.known() == 0:  # beyond chance only
            floor = max(floor, centre + chance_z(n) * spread)
    return floor


def _kept(
    db: StoreDB, best: list[tuple[str, float]], centre: float, spread: float, category: str | None, source: str | None
) -> list[VectorHit]:
    """The active, filtered ones of `best`, at most CANDIDATES. Their kinds
    are read in rank order, a chunk at a time, until CANDIDATES are kept:
    usually one chunk, not the 200 lookups of all of `best` (~2 ms at 100k)."""
    kept: list[VectorHit] = []
    start = 0
    while start < len(best) and len(kept) < CANDIDATES:
        chunk = best[start : start + KINDS_CHUNK]
        start += KINDS_CHUNK
        found = kinds_by_id(db.main.conn, [i for i, _ in chunk])  # the caller reads whole rows of the kept ones
        for memory_id, cosine in chunk:
            kind = found.get(memory_id)
            if kind is None or kind[0] != "active":
                continue
            if (category and kind[1] != category) or (source and kind[2] != source):
                continue
            z = (cosine - centre) / spread if spread > 0 else 0.0
            kept.append(VectorHit(memory_id, cosine, z))
    return kept[:CANDIDATES]


class _NearScores(Scores):
    """Scores for the index path (memman/recall/ann.py): the distribution
    from its sample, a memory's similarity computed when asked."""

    def __init__(self, near: ann.Neighbourhood, query: list[float], ids: list[str], centre: float, spread: float) -> None:
        super().__init__(ids, [], centre, spread)
        self._near, self._query = near, query
        self._known: dict[str, float | None] = {}  # this query's similarities read so far (None: no row)

    def cosine(self, wanted: list[str]) -> dict[str, float]:
        """Each row is read once per query: recall asks again for most of
        the same candidates after its expansions."""
        missing = [m for m in dict.fromkeys(wanted) if m not in self._known]
        if missing:
            found = ann.similarity_of(self._near, self._query, self._ids, missing)
            self._known.update((m, found.get(m)) for m in missing)
        return {m: s for m in wanted if (s := self._known[m]) is not None}


def _near_hits(
    db: StoreDB, near: ann.Neighbourhood, ids: list[str], q: list[float], fingerprint: str,
    words: QueryTerms, *, category: str | None, source: str | None, disable: Collection[str],
) -> tuple[list[VectorHit], Scores] | None:
    """`vector_hits` from the drain's index: its candidates scored exactly;
    None when a score it read is not a number (flipped bytes in the flat
    cache: the exact scan checks the cache and rebuilds it)."""
    positions, values, centre, spread = ann.candidates(near, q, CANDIDATES * 4)
    if not (math.isfinite(centre) and math.isfinite(spread) and finite(values)):
        return None
    floor = _floor(fingerprint, words, len(ids), centre, spread, disable)
    best = [(ids[int(positions[i])], float(values[i])) for i in ranked_above(values, floor, CANDIDATES * 4)]
    return _kept(db, best, centre, spread, category, source), _NearScores(near, q, ids, centre, spread)


class _Flat:
    """The flat cache as recall reads it: ids, the raw rows (a 2-D
    memoryview: float32, or in a large store float16 bits), the store's
    common component, an id -> row map filled on first use, and each row's
    centring scale (`scan.scales`) computed on first use. Kept with the
    store handle while the vector set and its cache file stay the same: one
    read per change, not per call, in the warm server; the index path
    (ann.py) never asks for the scales, nor for float16 rows widened."""

    def __init__(self, ids: list[str], rows: memoryview | None, mean: list[float]) -> None:
        self.ids, self.rows, self.mean = ids, rows, mean
        self.position: dict[str, int] = {}
        self._scale: Scales | None = None
        self._wide: memoryview | None = None

    def similarities(self, query: list[float], centring: bool) -> Values:
        """Every row's cosine with `query`: centred (the query is centred
        already), or the raw rows' for the "centering" ablation. Float16
        rows are widened to float32 once (kept while this is): the scan's
        kernel reads float32, and widening is exact, so the scores are
        those of a float32 cache."""
        assert self.rows is not None
        if self._wide is None:
            self._wide = widen(self.rows)
        if not centring:
            return similarities(self._wide, query)
        if self._scale is None:
            self._scale = scales(self._wide, self.mean)
        return centred_similarities(self._wide, query, self.mean, self._scale)


def _flat(db: StoreDB, fingerprint: str, *, verify: bool = False) -> _Flat:
    """The store's `_Flat` (read again after any change; with `verify`, its
    rows' checksum checked and the cache rebuilt if damaged)."""
    if verify:
        return _Flat(*flat_view(db.vectors.conn, db.directory, fingerprint, verify=True))
    version = (stamp(db.vectors.conn, fingerprint), cache_identity(db.directory, fingerprint))
    return db.kept(f"flat:{fingerprint}", version, lambda: _Flat(*flat_view(db.vectors.conn, db.directory, fingerprint)))


def _version(db: StoreDB, fingerprint: str) -> object:
    """What the flat cache's rows and the drain's saved index were derived from."""
    import os

    from projections.vectors import _cache_path

    try:
        index = os.stat(_cache_path(db.directory, fingerprint, "hnsw"))
        saved: tuple[int, int, int] | None = (index.st_ino, index.st_size, index.st_mtime_ns)
    except OSError:
        saved = None
    return (stamp(db.vectors.conn, fingerprint), cache_identity(db.directory, fingerprint), saved)
