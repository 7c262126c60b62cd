"""Import and export as JSON Lines.

Import lines: {"text": ..., "at"?, "cat"?, "imp"?, "entities"?, "source"?, "meta"?}.
The whole file is validated before anything is written (a bad line N imports
nothing and names line N), then appended in batches of `BATCH` events, one
transaction each. Exported memories use the same field names, so an export
imports into another store as-is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import IO

import msgspec

from events.errors import BadInput, MemmanError
from events.ids import UlidFactory
from events.log import NewEvent
from events.types import MemoryId, MemoryRemembered
from memman import validate
from memman.results import ImportReport
from memman.service import Memman
from projections.queries import MEMORY_COLUMNS, row_to_memory

BATCH = 2000


class ImportLine(msgspec.Struct, forbid_unknown_fields=False):
    text: str
    at: str | None = None
    cat: str = "general"
    imp: int = 3
    entities: list[str] | str | None = None
    source: str = "agent"
    meta: dict[str, str | int | float | bool | None] | None = None


def _parse(lines: Iterable[bytes], app: Memman) -> list[NewEvent]:
    decoder = msgspec.json.Decoder(ImportLine)
    ids = UlidFactory()
    items: list[NewEvent] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            # Decode the bytes ourselves: how msgspec reports invalid UTF-8
            # changed between releases (UnicodeDecodeError, then DecodeError).
            item = decoder.decode(raw.decode("utf-8"))
            event = MemoryRemembered(
                memory_id=MemoryId(ids.mint(app.clock())),
                text=validate.text(item.text),
                category=validate.category(item.cat),  # type: ignore[arg-type]
                importance=validate.importance(item.imp),
                entities=validate.entities(item.entities),
                source=validate.source(item.source),  # type: ignore[arg-type]
                meta=validate.meta(item.meta),  # type: ignore[arg-type]
            )
            at = validate.occurred(validate.moment(item.at), app.clock()) if item.at else None
        except UnicodeDecodeError:
            raise BadInput(f"line {number}: not valid UTF-8; nothing was imported") from None
        except msgspec.DecodeError as exc:
            raise BadInput(f"line {number}: not a valid import object ({exc}); nothing was imported") from None
        except MemmanError as exc:
            raise BadInput(f"line {number}: {exc}; nothing was imported") from None
        items.append(NewEvent(event=event, occurred_at=at, actor="import"))
    return items


def import_jsonl(app: Memman, stream: IO[bytes]) -> ImportReport:
    app.ensure_writable()
    started = time.perf_counter()
    items = _parse(stream, app)
    first = last = None
    for start in range(0, len(items), BATCH):
        recorded = app.db.log.append_many(items[start : start + BATCH])
        first = first or recorded[0].seq
        last = recorded[-1].seq
    if items:
        app.db.compact()
    return ImportReport(
        store=app.store, imported=len(items), first_seq=first, last_seq=last, seconds=round(time.perf_counter() - started, 3)
    )


def export_memories(app: Memman, *, include_all: bool = False) -> Iterator[bytes]:
    where = "" if include_all else "WHERE status IN ('active', 'pending')"
    encoder = msgspec.json.Encoder()
    for row in app.fresh().main.conn.execute(f"SELECT {MEMORY_COLUMNS} FROM memories {where} ORDER BY key"):
        m = row_to_memory(row)
        yield encoder.encode(
            {
                "id": m.id,
                "text": m.content,
                "at": m.occurred_at,
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
    encoder = msgspec.json.Encoder()
    for rec in app.db.log.read():
        yield encoder.encode(rec)
