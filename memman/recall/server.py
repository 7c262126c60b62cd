"""Recall from the server projections (`postgres.reads = server`): the
candidates come from PostgreSQL (projections/server/view.py), the ranking is
recall's own, unchanged (memman/recall/hybrid.py, fusion, succession).

A machine that reads this way keeps no local replica: an ephemeral CI runner
or a fresh laptop joining a large team store answers its first recall
without replaying the log. The answers are as fresh as the server
projections, which the store's workers keep (`status` shows their lag).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from typing import TYPE_CHECKING

from events.errors import BadInput, MemmanError

if TYPE_CHECKING:  # every recall asks `reads_server`; the view loads only for server reads
    from projections.server.view import ServerView
    from projections.store import StoreDB

READS = ("replica", "server")
KNOWN_AT_REFUSED = (
    "--known-at is not answered from server reads (the server projections keep each memory's current state,"
    " not its history): read the local replica for it (--reads replica on 'store create', or"
    " 'memman config set postgres.reads replica --for-store {store}')"
)


def reads_server(data_dir: Path, store: str, directory: Path) -> str | None:
    """The store's PostgreSQL URL when its recall reads the server projections
    (a PostgreSQL store with `postgres.reads = server`), else None. A SQLite
    store pays one stat for the question."""
    from events.backends import backend_of

    dsn = backend_of(directory)
    if dsn is None:
        return None
    from memman.config import settings_for

    return dsn if settings_for(data_dir, store).postgres.reads == "server" else None


def candidates(
    view: ServerView, query: str, *, basic: bool, category: str | None, source: str | None,
    as_of: str | None, disable: Collection[str], today: datetime,
) -> StoreDB:
    """The scratch store holding this question's candidates (see view.py);
    `today` is what recall reads the query's dates against."""
    from memman.recall import dates
    from memman.recall.window import bounds
    from workers.entities import aliases

    fingerprint = view.db.setting("embedder")
    vector = None
    if fingerprint and not basic and "vector" not in disable:
        from memman.recall.vector import _query_vector

        try:  # unweighted: the candidates' ranking uses recall's own (weighted) query vector later
            vector = _query_vector(view.db, query, fingerprint, None, False)  # type: ignore[arg-type]
        except MemmanError:
            vector = None  # recall says why its vector channel is unavailable
    when = None if "date" in disable else dates.find(query, today)
    text = " ".join([when.keyword_text if when else query, *aliases.expansion(query)])
    return view.fill(
        text, vector, fingerprint, category=category, source=source, as_of=as_of,
        hop=not basic, window=bounds(when) if when else None,
    )  # fmt: skip


def refuse_known_at(store: str) -> BadInput:
    return BadInput(KNOWN_AT_REFUSED.format(store=store))
