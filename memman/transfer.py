"""Import and export as JSON Lines.

Import lines: {"text": ..., "at"?, "until"?, "cat"?, "imp"?, "entities"?, "source"?, "meta"?, "id"?}
("at": when it was true or said, as `remember --at`; "until": an explicit end
of validity, as `remember --until`, after "at").
The whole file is validated before anything is written (a bad line N imports
nothing and names line N), then appended in batches of `BATCH` events, one
transaction each. Exported memories use the same field names, so an export
imports into another store as-is.

Import is idempotent. Each line gets a stable key, recorded in its event:
`id:<id>` when the line has an "id" (the caller's own, or the memory id an
export wrote), else `line:<hash of the line's bytes>:<n>`, where n counts
earlier identical lines in the same input (so a file that repeats a line on
purpose still imports it twice). Re-running an interrupted or repeated
import appends only the lines not yet in the log and reports "N new, M
already imported". The key holds no file path, so the same input piped
through stdin or copied elsewhere is recognised too; the same line in two
different files is taken as the same memory.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from typing import IO

import apsw
import msgspec

from events.clock import to_iso
from events.errors import BadInput, CorruptEvent, LogError, LogMissing, MemmanError
from events.ids import UlidFactory
from events.log import NewEvent
from events.types import MemoryId, MemoryRemembered
from memman import validate
from memman.privacy import guard
from memman.results import ImportReport
from memman.service import Memman
from projections.queries import MEMORY_COLUMNS, row_to_memory

BATCH = 2000


class ImportInterrupted(MemmanError):
    """Ctrl-C during an import: what landed stays (idempotent re-run adds the rest)."""

    exit_code = 130


class ImportLine(msgspec.Struct, forbid_unknown_fields=False):
    text: str
    id: str | None = None
    at: str | None = None
    until: str | None = None
    cat: str = "general"
    imp: int = 3
    entities: list[str] | str | None = None
    source: str = "agent"
    meta: dict[str, str | int | float | bool | None] | None = None


def _line_key(raw: bytes, item: ImportLine, seen: dict[bytes, int]) -> str:
    if item.id is not None:
        return f"id:{validate.idempotency_key(item.id, 'id')}"
    digest = hashlib.blake2b(raw.strip(), digest_size=16).digest()
    seen[digest] = seen.get(digest, -1) + 1
    return f"line:{digest.hex()}:{seen[digest]}"


def _parse(lines: Iterable[bytes], app: Memman, redact: bool) -> list[NewEvent]:
    decoder = msgspec.json.Decoder(ImportLine)
    ids = UlidFactory()
    items: list[NewEvent] = []
    seen: dict[bytes, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            # Decode the bytes ourselves: how msgspec reports invalid UTF-8
            # changed between releases (UnicodeDecodeError, then DecodeError).
            item = decoder.decode(raw.decode("utf-8"))
            at = validate.occurred(validate.moment(item.at), app.clock()) if item.at else None
            end = validate.until(validate.moment(item.until), at or app.clock()) if item.until else None
            event = MemoryRemembered(
                memory_id=MemoryId(ids.mint(app.clock())),
                text=guard(validate.text(item.text), redacting=redact),
                category=validate.category(item.cat),  # type: ignore[arg-type]
                importance=validate.importance(item.imp),
                entities=validate.entities(item.entities),
                source=validate.source(item.source),  # type: ignore[arg-type]
                meta=validate.meta(item.meta),  # type: ignore[arg-type]
                key=_line_key(raw, item, seen),
                valid_until=None if end is None else to_iso(end),
            )
        except UnicodeDecodeError:
            raise BadInput(f"line {number}: not valid UTF-8; nothing was imported") from None
        except msgspec.DecodeError as exc:
            raise BadInput(f"line {number}: not a valid import object ({exc}); nothing was imported") from None
        except MemmanError as exc:
            raise BadInput(f"line {number}: {exc}; nothing was imported") from None
        items.append(NewEvent(event=event, occurred_at=at, actor="import"))
    return items


def import_jsonl(app: Memman, stream: IO[bytes], *, redact: bool = False) -> ImportReport:
    """A line holding a likely secret fails the import (naming the line),
    unless `redact` masks it; `<private>` sections are dropped."""
    app.ensure_writable()
    started = time.perf_counter()
    items = _parse(stream, app, redact)
    first = last = None
    imported = 0
    head = app.db.log.head()
    try:
        for start in range(0, len(items), BATCH):
            recorded = app.db.log.append_many(items[start : start + BATCH])
            if recorded:
                first = first or recorded[0].seq
                last = recorded[-1].seq
                imported += len(recorded)
    except KeyboardInterrupt:
        # a batch may have committed in the instant before the interrupt, before
        # it was counted: count from the log what this run appended
        imported = _appended_since(app, items, head)
        raise ImportInterrupted(
            f"interrupted: {imported} new lines were imported before the interrupt;"
            " run the same import again to add the rest (lines already imported are skipped)"
        ) from None
    if imported:
        app.db.compact()
    return ImportReport(
        store=app.store, imported=imported, first_seq=first, last_seq=last,
        seconds=round(time.perf_counter() - started, 3), already=len(items) - imported,
    )


def _appended_since(app: Memman, items: list[NewEvent], head: int) -> int:
    """How many of `items` (each carries its idempotency key) landed after seq `head`."""
    log = app.db.log
    keys = [getattr(i.event, "key", None) for i in items]
    return sum(1 for k in keys if k is not None and (log.seq_of_key(k) or 0) > head)


def _memories_conn(app: Memman):  # type: ignore[no-untyped-def]
    """The caught-up memories projection; if the log is lost, projections.db
    as it stands, read-only (it may be the last copy: export is the salvage)."""
    try:
        return app.fresh().main.conn
    except LogMissing:
        from events.db import connect
        from projections.store import PROJECTIONS_FILE

        path = app.registry.require(app.store) / PROJECTIONS_FILE
        app.db.notices.append(f"the log is missing: exported the memories {path.name} still holds")
        return connect(path, readonly=True)


def export_memories(app: Memman, *, include_all: bool = False) -> Iterator[bytes]:
    where = "" if include_all else "WHERE status IN ('active', 'pending')"
    encoder = msgspec.json.Encoder()
    for row in _memories_conn(app).execute(f"SELECT {MEMORY_COLUMNS} FROM memories {where} ORDER BY key"):
        m = row_to_memory(row)
        yield encoder.encode(
            {
                "id": m.id,
                "text": m.content,
                "at": m.occurred_at,
                **({"until": m.valid_until} if m.valid_until else {}),
                "cat": m.category,
                "imp": m.importance,
                "entities": m.entities,
                "source": m.source,
                "meta": m.meta,
                "status": m.status,
                "created_at": m.created_at,
            }
        )


def export_events(app: Memman) -> Iterator[bytes]:
    """Every readable event. A damaged one is skipped and named (a notice on
    stderr), never the end of the export: what is readable always comes out."""
    encoder = msgspec.json.Encoder()
    log = app.db.log
    skipped: list[int] = []
    for seq in log.seqs():
        try:
            rec = log.get(seq)
        except (CorruptEvent, LogError, apsw.CorruptError):
            skipped.append(seq)
            continue
        yield encoder.encode(rec)
    if skipped:
        shown = ", ".join(map(str, skipped[:10])) + (" ..." if len(skipped) > 10 else "")
        app.db.notices.append(f"{len(skipped)} damaged events could not be read and were left out (seq {shown});"
                              " see 'memman events verify'")
