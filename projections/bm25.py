"""FTS5's bm25 with each phrase's document frequency given, not counted.

FTS5's own `bm25()` starts every statement by counting, for each phrase of
the query, every memory that says it (`xQueryPhrase` over the phrase's
whole posting list: 237k memories say "service" at 1M), to weigh the phrase
by its inverse document frequency. Recall has already counted those words
(memman/recall/terms.py: the query words' document frequencies, from the
index's vocabulary), so ranking a capped candidate list
(projections/queries.py) need not count them again.

`memman_bm25(memories_fts, df1, df2, ...)` is that function as an FTS5
auxiliary function: the arithmetic of SQLite's fts5_aux.c, in the same
order on the same doubles, so it returns the very value `bm25()` returns
for the same row and weights (tests/projections/test_bm25.py compares them
over whole stores), with `df_i` as phrase i's count. Only the first
len(dfs) phrases are scored: a statement may match `(full) AND (rare)` and
score `full` alone. It costs ~1.5 µs of Python per row ranked, so it is for
capped lists (at most KEYWORD_CAP rows), where FTS5's count of a common
word costs far more; below the cap the statement keeps `bm25()`.
"""

from __future__ import annotations

import math

import apsw

NAME = "memman_bm25"
WEIGHTS = (1.0, 0.8, 0.5)  # memories_fts's columns: content, entities, keywords
_K1 = 1.2
_B = 0.75
_K1_PLUS_1 = _K1 + 1.0  # (1.0 * this) is this: the frequency-1 case below


def register(conn: apsw.Connection) -> None:
    """Make `memman_bm25` available on `conn` (once per connection: FTS5
    keeps every registration)."""
    conn.register_fts5_function(NAME, _bm25)


def call(dfs: int, first: int) -> str:
    """The SQL call scoring `dfs` phrases whose counts are bound from
    parameter ?`first` on."""
    return f"{NAME}(memories_fts, {', '.join(f'?{first + i}' for i in range(dfs))})"


def _weights(api: apsw.FTS5ExtensionApi, dfs: tuple[int, ...]) -> tuple[float, tuple[tuple[int, float], ...]]:
    """(average row length in tokens, (phrase, idf) of each phrase scored),
    as fts5Bm25GetData."""
    rows = api.row_count
    average = api.column_total_size(-1) / rows
    idf = []
    for df in dfs:
        value = math.log((rows - df + 0.5) / (df + 0.5))
        idf.append(value if value > 0.0 else 1e-6)
    return average, tuple(enumerate(idf))


def _bm25(api: apsw.FTS5ExtensionApi, *dfs: int) -> float:
    """fts5Bm25Function: each phrase's frequency summed instance by instance
    in column order (the column's weight each time), then the same sum. A
    phrase said once, in the content column, has frequency 1.0, and one not
    said adds 0.0 (skipped): the same doubles, with less Python per row."""
    held = api.aux_data
    if held is None:
        held = api.aux_data = _weights(api, dfs)
    average, phrases = held
    norm = _K1 * (1 - _B + _B * api.column_size(-1) / average)
    locations = api.phrase_locations
    score = 0.0
    for phrase, idf in phrases:
        content, entities, keywords = locations(phrase)
        if entities or keywords or len(content) > 1:
            freq = 0.0
            for weight, offsets in zip(WEIGHTS, (content, entities, keywords)):
                for _ in offsets:
                    freq += weight
            score += idf * ((freq * _K1_PLUS_1) / (freq + norm))
        elif content:
            score += idf * (_K1_PLUS_1 / (1.0 + norm))
    return -1.0 * score
