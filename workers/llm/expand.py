"""Query expansion for `recall --expand`: synonyms, entities and intent from
the fast model, cached per store (`<store>/llm_cache.db`, keyed by prompt hash,
model and the normalised query), so asking again costs no call.

The cache is a cache, not a projection: deleting it only costs calls.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import apsw
import msgspec

from workers.llm import prompts
from workers.llm.accounting import Accounted
from workers.llm.client import ChatClient
from workers.llm.schemas import ExpandReply

CACHE_FILE = "llm_cache.db"


class Expansion(msgspec.Struct, frozen=True, kw_only=True):
    synonyms: list[str]
    entities: list[str]
    intent: str
    cached: bool = False

    def terms(self) -> list[str]:
        return list(dict.fromkeys([*self.synonyms, *self.entities]))


class QueryExpander(Accounted):
    def __init__(self, client: ChatClient, store_dir: Path) -> None:
        super().__init__(client, prompts.EXPAND)
        self.cache_path = store_dir / CACHE_FILE

    def _key(self, query: str) -> str:
        norm = " ".join(query.casefold().split())
        return hashlib.sha256(f"{self.prompt.hash}\0{self.model}\0{norm}".encode()).hexdigest()

    def _cache(self) -> apsw.Connection:
        conn = apsw.Connection(str(self.cache_path))
        conn.setbusytimeout(2000)
        conn.execute("CREATE TABLE IF NOT EXISTS expansions (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        return conn

    def expand(self, query: str) -> Expansion:
        key = self._key(query)
        conn = self._cache()
        try:
            row = conn.execute("SELECT value FROM expansions WHERE key=?", (key,)).fetchone()
            if row is not None:
                return msgspec.structs.replace(msgspec.json.decode(row[0], type=Expansion), cached=True)
            reply: ExpandReply = self._ask({"query": query})
            q = query.casefold()
            expansion = Expansion(
                synonyms=[s.strip() for s in reply.synonyms if s.strip() and s.strip().casefold() not in q],
                entities=[e.strip() for e in reply.entities if e.strip()],
                intent=" ".join(reply.intent.split()),
            )
            conn.execute(
                "INSERT OR REPLACE INTO expansions (key, value) VALUES (?, ?)", (key, msgspec.json.encode(expansion))
            )
            return expansion
        finally:
            conn.close()
