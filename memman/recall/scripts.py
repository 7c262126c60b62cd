"""Script agreement for the vector channel.

The local embedders (the shipped static one, feature hashing, the optional
ONNX MiniLM) learned English: to them a query in Chinese, Japanese or Korean
is a handful of single-character or unknown tokens, and its vector lands near
unrelated texts ("テスト" came out 0.31 similar to a German sentence, above
the 0.30 floor). So when a query's only words are in such scripts or emoji
(projections/scripts.py), a memory these embedders found must share at least
one of those characters with the query; the keyword channel (trigram index)
finds the real matches. Remote embedders (OpenAI, Voyage, Ollama models) may
be multilingual and are trusted across scripts.
"""

from __future__ import annotations

import re

import apsw

from projections import scripts
from projections.queries import memories_by_id

LOCAL_EMBEDDERS = ("static", "hashing", "onnx")
_LATIN_WORD = re.compile(r"[^\W\d_]", re.UNICODE)


def wide_only(query: str) -> bool:
    """The query's letters are all in unspaced scripts or emoji."""
    runs = scripts.runs(query)
    if not runs:
        return False
    rest = query
    for run in runs:
        rest = rest.replace(run, " ")
    return _LATIN_WORD.search(rest) is None


def agreeing(
    conn: apsw.Connection, query: str, fingerprint: str, vector: list[tuple[str, float]]
) -> list[tuple[str, float]]:
    """`vector` without the memories that share no character with a wide-only query."""
    if not vector or fingerprint.split(":", 1)[0] not in LOCAL_EMBEDDERS or not wide_only(query):
        return vector
    wanted = set("".join(scripts.runs(query))) - set("\u200d\ufe0f\ufe0e")
    rows = memories_by_id(conn, [i for i, _ in vector])
    return [(i, s) for i, s in vector if i in rows and wanted & set(rows[i].content + "".join(rows[i].entities))]
