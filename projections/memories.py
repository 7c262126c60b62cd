"""The `memories` projection: one row per memory, with an FTS5 index.

Status is a generated column derived from three facts the events establish,
so no event handler can leave it inconsistent:
    forgotten      -> 'forgotten'   (memory.forgotten, or a reconciler DELETE)
    superseded_by  -> 'superseded'  (an UPDATE replaced it, or it duplicated another: NONE)
    derived        -> 'active'      (the drain reconciled it)
    otherwise      -> 'pending'     (remembered, not yet drained; keyword-recallable)

Time has two axes (docs/time.md): `occurred_at` is when a memory was true or
said (valid time), `created_at` when memman recorded it (transaction time).
A memory's validity ends at `valid_until` (said explicitly) or at
`superseded_at`, its successor's occurred_at (an UPDATE or `--replaces`).
`status_log` keeps, per memory, its state after every event that changed it
(by seq), and `content_log` every text it carried, so `recall --known-at` can
answer from these tables what the store held at any seq without a replay.

Derived events name their input (`causation`); a derivation whose input is no
longer the memory's latest text (it was replaced meanwhile) is ignored.
"""

from __future__ import annotations

import json
from functools import cached_property, singledispatchmethod

import apsw

from events.clock import IsoText
from events.types import (
    FactsExtracted,
    MemoryEnriched,
    MemoryForgotten,
    MemoryProtected,
    MemoryPurged,
    MemoryReconciled,
    MemoryRemembered,
    MemoryReplaced,
    MemoryRestored,
    MemoryUnprotected,
    Recorded,
)
from projections import scripts
from projections.base import bound_dispatch
from projections.history import ChangeLog

_SCHEMA = """
CREATE TABLE memories (
    key           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    content       TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    importance    INTEGER NOT NULL,
    entities      TEXT    NOT NULL DEFAULT '[]',
    keywords      TEXT    NOT NULL DEFAULT '',
    source        TEXT    NOT NULL,
    meta          TEXT    NOT NULL DEFAULT '{}',
    forgotten     INTEGER NOT NULL DEFAULT 0,
    forget_reason TEXT    NOT NULL DEFAULT '',
    protected     INTEGER NOT NULL DEFAULT 0,
    superseded_by TEXT,
    derived       INTEGER NOT NULL DEFAULT 0,
    status        TEXT GENERATED ALWAYS AS (
        CASE WHEN forgotten THEN 'forgotten'
             WHEN superseded_by IS NOT NULL THEN 'superseded'
             WHEN derived THEN 'active'
             ELSE 'pending' END) STORED,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    occurred_at   TEXT    NOT NULL,
    input_seq     INTEGER NOT NULL,
    derived_seq   INTEGER,
    derived_by    TEXT,
    valid_until   TEXT,
    superseded_at TEXT,
    replaces      TEXT
);
CREATE TABLE status_log (
    memory_id     TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    superseded_by TEXT,
    superseded_at TEXT,
    PRIMARY KEY (memory_id, seq)
) WITHOUT ROWID;
CREATE TABLE content_log (
    memory_id     TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    content       TEXT    NOT NULL,
    PRIMARY KEY (memory_id, seq)
) WITHOUT ROWID;
CREATE INDEX memories_status ON memories(status, category, source);
CREATE INDEX memories_source_time ON memories(source, occurred_at);
CREATE INDEX memories_updated ON memories(updated_at);
CREATE INDEX memories_occurred ON memories(occurred_at);
CREATE VIRTUAL TABLE memories_fts USING fts5(
    content, entities, keywords,
    content='memories', content_rowid='key', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content, entities, keywords)
    VALUES (new.key, new.content, new.entities, new.keywords);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, entities, keywords)
    VALUES ('delete', old.key, old.content, old.entities, old.keywords);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, entities, keywords ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, entities, keywords)
    VALUES ('delete', old.key, old.content, old.entities, old.keywords);
    INSERT INTO memories_fts(rowid, content, entities, keywords)
    VALUES (new.key, new.content, new.entities, new.keywords);
END;
"""
# Memories holding CJK, other unspaced scripts or emoji are also indexed by
# trigrams (projections/scripts.py): substrings, not unicode61 tokens.
_WIDE_SCHEMA = """
CREATE VIRTUAL TABLE memories_wide USING fts5(
    content, entities, keywords, tokenize='trigram remove_diacritics 1'
);
CREATE TRIGGER memories_wide_insert AFTER INSERT ON memories
WHEN new.content || new.entities || new.keywords GLOB :glob BEGIN
    INSERT INTO memories_wide(rowid, content, entities, keywords)
    VALUES (new.key, new.content, new.entities, new.keywords);
END;
CREATE TRIGGER memories_wide_delete AFTER DELETE ON memories BEGIN
    DELETE FROM memories_wide WHERE rowid = old.key;
END;
CREATE TRIGGER memories_wide_update AFTER UPDATE OF content, entities, keywords ON memories BEGIN
    DELETE FROM memories_wide WHERE rowid = old.key;
    INSERT INTO memories_wide(rowid, content, entities, keywords)
    SELECT new.key, new.content, new.entities, new.keywords
    WHERE new.content || new.entities || new.keywords GLOB :glob;
END;
"""


_FTS_TRIGGERS = (
    "memories_fts_insert", "memories_fts_delete", "memories_fts_update",
    "memories_wide_insert", "memories_wide_delete", "memories_wide_update",
)


def _trigger_sql() -> str:
    """Every full-text trigger of the schema, as CREATE TRIGGER IF NOT EXISTS."""
    statements = [
        part.strip() for schema in (_SCHEMA, _WIDE_SCHEMA.replace(":glob", _sql_string(scripts.GLOB)))
        for part in schema.split("END;") if "CREATE TRIGGER" in part
    ]
    return "".join(
        "CREATE TRIGGER IF NOT EXISTS " + st[st.index("CREATE TRIGGER") + len("CREATE TRIGGER ") :] + "\nEND;\n"
        for st in statements
    )


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Built once: json.dumps with options builds a new encoder per call (a third
# of its cost, ~32k calls a 10k replay). Same options, same text.
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json(value: object) -> str:
    if not value and type(value) in _EMPTY:  # most memories' meta, many entity lists: skip the encoder
        return _EMPTY[type(value)]
    return _JSON.encode(value)


_EMPTY = {list: "[]", dict: "{}"}


class MemoriesProjector:
    name = "memories"
    version = 5  # 4: the trigram index for CJK and emoji (memories_wide); 5: validity ends, status and text history
    tables = ("memories", "memories_wide", "status_log", "content_log")
    handles = frozenset(
        {
            "memory.remembered",
            "memory.replaced",
            "memory.forgotten",
            "memory.restored",
            "memory.protected",
            "memory.unprotected",
            "memory.purged",
            "facts.extracted",
            "memory.reconciled",
            "memory.enriched",
        }
    )

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(_SCHEMA)
        conn.execute(_WIDE_SCHEMA.replace(":glob", _sql_string(scripts.GLOB)))  # no parameters in DDL

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute(
            "DROP TABLE IF EXISTS memories_wide; DROP TABLE IF EXISTS memories_fts; DROP TABLE IF EXISTS memories;"
            " DROP TABLE IF EXISTS status_log; DROP TABLE IF EXISTS content_log;"
        )

    # ------------------------------------------------------------ bulk (replay)

    def bulk_begin(self, conn: apsw.Connection) -> None:
        """A replay from the start: the full-text indexes are built once at
        the end (`bulk_end`), not row by row through the triggers, which
        re-indexed each memory on every event that touched it."""
        for trigger in _FTS_TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")

    def bulk_end(self, conn: apsw.Connection) -> None:
        """Restore the triggers and index every row (idempotent: also what
        finishes a replay that was interrupted, see projections/runner.py)."""
        conn.execute(_trigger_sql())
        conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('rebuild')")
        conn.execute("DELETE FROM memories_wide")
        conn.execute(
            "INSERT INTO memories_wide(rowid, content, entities, keywords)"
            " SELECT key, content, entities, keywords FROM memories WHERE content || entities || keywords GLOB ?",
            (scripts.GLOB,),
        )

    @singledispatchmethod
    def _apply(self, event: object, conn: apsw.Connection, rec: Recorded) -> None:
        """Events this projector does not know are ignored."""

    @cached_property
    def _iso(self) -> IsoText:
        """`to_iso` remembering its last answer: a chunk's events share one time."""
        return IsoText()

    @cached_property
    def _dispatch(self):  # type: ignore[no-untyped-def]
        """`_apply` bound once, registered classes looked up in a dict
        (projections/base.py: bound_dispatch): a replay's hottest overhead."""
        return bound_dispatch(self)

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        self._dispatch(rec.event, conn, rec)
        self._log_changes(conn, rec)

    def _log_changes(self, conn: apsw.Connection, rec: Recorded) -> None:
        """Record the state and text of every memory this event concerns, where
        they changed (projections/history.py)."""
        self._history.record(conn, rec.seq, rec.event.memory_ids())

    @cached_property
    def _history(self) -> ChangeLog:
        return ChangeLog()

    def cache_open(self, conn: apsw.Connection) -> None:
        """The runner lets this projector keep what it read (see ChangeLog)."""
        self._history.open(conn)

    def cache_close(self) -> None:
        self._history.close()

    # ------------------------------------------------------------ commands

    @_apply.register(MemoryRemembered)
    def _remembered(self, e: MemoryRemembered, conn: apsw.Connection, rec: Recorded) -> None:
        at = self._iso(rec.recorded_at)
        conn.execute(
            "INSERT OR IGNORE INTO memories (id, content, category, importance, entities, source, meta,"
            " created_at, updated_at, occurred_at, input_seq, valid_until, replaces)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.memory_id,
                e.text,
                e.category,
                e.importance,
                _json(e.entities),
                e.source,
                _json(e.meta),
                at,
                at,
                self._iso(rec.occurred_at),
                rec.seq,
                e.valid_until,
                e.replaces,
            ),
        )

    @_apply.register(MemoryReplaced)
    def _replaced(self, e: MemoryReplaced, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute(
            "UPDATE memories SET content=?, category=?, importance=?, entities=?, source=?, meta=?,"
            " keywords='', superseded_by=NULL, superseded_at=NULL, derived=0, updated_at=?, input_seq=? WHERE id=?",
            (
                e.text,
                e.category,
                e.importance,
                _json(e.entities),
                e.source,
                _json(e.meta),
                self._iso(rec.recorded_at),
                rec.seq,
                e.memory_id,
            ),
        )

    @_apply.register(MemoryForgotten)
    def _forgotten(self, e: MemoryForgotten, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute(
            "UPDATE memories SET forgotten=1, forget_reason=?, updated_at=? WHERE id=?",
            (e.reason, self._iso(rec.recorded_at), e.memory_id),
        )

    @_apply.register(MemoryRestored)
    def _restored(self, e: MemoryRestored, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute(
            # A forgotten memory comes back; otherwise a superseded one does (undoing a
            # reconciler's UPDATE or duplicate decision). The RHS sees the old row.
            "UPDATE memories SET forgotten=0, forget_reason='', updated_at=?,"
            " superseded_by = CASE WHEN forgotten THEN superseded_by END,"
            " superseded_at = CASE WHEN forgotten THEN superseded_at END WHERE id=?",
            (self._iso(rec.recorded_at), e.memory_id),
        )

    @_apply.register(MemoryProtected)
    def _protected(self, e: MemoryProtected, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute("UPDATE memories SET protected=? WHERE id=?", (int(e.protected), e.memory_id))

    @_apply.register(MemoryPurged)
    def _purged(self, e: MemoryPurged, conn: apsw.Connection, rec: Recorded) -> None:
        """Erasure: the rows go (the FTS delete trigger takes their index entries)."""
        for memory_id in e.purged:
            conn.execute("DELETE FROM memories WHERE id=?", (memory_id,))

    @_apply.register(MemoryUnprotected)
    def _unprotected(self, e: MemoryUnprotected, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute("UPDATE memories SET protected=0 WHERE id=?", (e.memory_id,))

    # ------------------------------------------------------------ derived

    def _is_current(self, conn: apsw.Connection, memory_id: str, input_seq: int | None) -> bool:
        row = conn.execute("SELECT input_seq FROM memories WHERE id=?", (memory_id,)).fetchone()
        return row is not None and row[0] == input_seq

    @_apply.register(FactsExtracted)
    def _extracted(self, e: FactsExtracted, conn: apsw.Connection, rec: Recorded) -> None:
        # Each statement applies only while the input is current (its row's
        # input_seq is this derivation's cause), which none of them changes:
        # the same as checking once first, one read less per event.
        at = self._iso(rec.recorded_at)
        for fact in e.facts:
            if fact.memory_id == e.input_id:
                conn.execute(
                    "UPDATE memories SET content=?, category=?, importance=?, entities=?, updated_at=?"
                    " WHERE id=? AND input_seq IS ?",
                    (fact.text, fact.category, fact.importance, _json(fact.entities), at, fact.memory_id, rec.causation),
                )
            else:  # a further fact split from the same text: a new memory with the input's context
                conn.execute(
                    "INSERT OR IGNORE INTO memories (id, content, category, importance, entities, source,"
                    " meta, created_at, updated_at, occurred_at, input_seq)"
                    " SELECT ?, ?, ?, ?, ?, source, meta, ?, ?, occurred_at, input_seq"
                    " FROM memories WHERE id=? AND input_seq IS ?",
                    (
                        fact.memory_id,
                        fact.text,
                        fact.category,
                        fact.importance,
                        _json(fact.entities),
                        at,
                        at,
                        e.input_id,
                        rec.causation,
                    ),
                )

    @_apply.register(MemoryReconciled)
    def _reconciled(self, e: MemoryReconciled, conn: apsw.Connection, rec: Recorded) -> None:
        if not self._is_current(conn, e.input_id, rec.causation):
            return
        at = self._iso(rec.recorded_at)
        how = f"{e.provenance.implementation}/{e.provenance.version}"
        for d in e.decisions:
            if d.text:  # an UPDATE that merged texts: the memory says the merged text
                conn.execute("UPDATE memories SET content=? WHERE id=?", (d.text, d.memory_id))
            duplicate_of = d.target if d.action == "NONE" else None
            conn.execute(
                "UPDATE memories SET derived=1, superseded_by=?, derived_seq=?, derived_by=?, updated_at=?"
                " WHERE id=?",
                (duplicate_of, rec.seq, how, at, d.memory_id),
            )
            if d.action == "UPDATE" and d.target:  # the successor ends the target's validity when it occurred
                conn.execute(
                    "UPDATE memories SET superseded_by=?, updated_at=?,"
                    " superseded_at=(SELECT occurred_at FROM memories WHERE id=?) WHERE id=?",
                    (d.memory_id, at, d.memory_id, d.target),
                )
            elif d.action == "DELETE" and d.target:
                conn.execute(
                    "UPDATE memories SET forgotten=1, forget_reason=?, updated_at=? WHERE id=?",
                    (f"retired by {d.memory_id} ({how}): {d.reason}".strip(), at, d.target),
                )

    @_apply.register(MemoryEnriched)
    def _enriched(self, e: MemoryEnriched, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute(
            "UPDATE memories SET keywords=? WHERE id=?", (" ".join([*e.keywords, e.summary]).strip(), e.memory_id)
        )
