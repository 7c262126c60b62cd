"""Reads from a PostgreSQL log through libpq itself (ctypes), without psycopg.

Importing psycopg costs about 150 ms on a quiet machine (some 290 modules:
asyncio, ssl, email, logging), fifteen times a bare Python start, while the
libpq it wraps loads in a few milliseconds. A recall on a store whose local
replica is level with the shared log only reads a few small rows (the head,
the id at the replica's mark, whether a purge arrived), so the log's reads go
through this small client; appends, the schema, advisory locks and LISTEN use
psycopg, imported on first need (events/backends/postgres.py).

- Results come back in text format and are converted by column type: the
  integer types to int, bytea to bytes, bool to bool, NULL to None, anything
  else to str. Parameters are sent as text (`?` placeholders become `$n`).
- Every statement runs on its own, as on psycopg's autocommit connection.
- The libpq is the one psycopg's binary wheel ships (`psycopg_binary.libs`),
  else the system's (`ctypes.util.find_library("pq")`). With neither,
  `open_reader` returns None and psycopg serves the reads as well.
- This is the seam where libpq's errors become memman's: a connection that
  fails or drops (SQLSTATE class 08, a server shutting down, 57P) is
  BackendUnavailable, exit 6; any other error is a LogError.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from events.errors import AppendOnlyViolation, BackendUnavailable, LogDamaged, LogError, StoreLocked

_CONNECTION_OK = 0
_COMMAND_OK, _TUPLES_OK = 1, 2
_SQLSTATE, _MESSAGE, _DETAIL = ord("C"), ord("M"), ord("D")
_INTEGERS = frozenset({20, 21, 23, 26})  # int8, int2, int4, oid
_BOOL, _BYTEA = 16, 17
_GONE = ("08", "57P")  # connection exceptions; the server shutting down


APPEND_ONLY_STATE = "MM001"  # the SQLSTATE our append-only triggers raise
DAMAGED_STATE = "MM002"  # raised by the trigger that refuses appends to a log a check found damaged
DAMAGED_FIX = (
    "the log is the source of truth and is never repaired in place: have the database restored from a backup"
    " (or undo what the check names), and 'memman export --what events' reads out every event still readable;"
    " then 'memman events verify' checks it again and allows writes once it is sound"
)
_LOCKED = ("55P03", "57014")  # lock_not_available, query_canceled (lock_timeout)


def server_error(state: str, message: str, detail: str, where: str) -> LogError | StoreLocked:
    """The memman error for an error the server reported (by SQLSTATE, never by its text)."""
    if state == APPEND_ONLY_STATE:
        return AppendOnlyViolation(f"the event log in {where} is append-only")
    if state == DAMAGED_STATE:
        return LogDamaged(f"{where} was found damaged ({detail or 'damage'}); nothing was written; {DAMAGED_FIX}")
    if state in _LOCKED:
        return StoreLocked(f"the log in {where} is locked by another writer; try again")
    return LogError(f"PostgreSQL error in {where}: {message}")


def _find() -> str | None:
    for entry in sys.path:
        libs = os.path.join(entry or ".", "psycopg_binary.libs")
        if os.path.isdir(libs):
            names = sorted(n for n in os.listdir(libs) if n.startswith("libpq-") and ".so" in n)
            if names:
                return os.path.join(libs, names[-1])
    import ctypes.util

    return ctypes.util.find_library("pq")


def _load() -> Any | None:
    """libpq with the signatures used here declared, or None if none loads."""
    path = _find()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    for name, restype, argtypes in (
        ("PQconnectdbParams", p, [ctypes.POINTER(s), ctypes.POINTER(s), i]),
        ("PQstatus", i, [p]),
        ("PQerrorMessage", s, [p]),
        ("PQfinish", None, [p]),
        ("PQexecParams", p, [p, s, i, p, ctypes.POINTER(s), p, p, i]),
        ("PQresultStatus", i, [p]),
        ("PQresultErrorField", s, [p, i]),
        ("PQntuples", i, [p]),
        ("PQnfields", i, [p]),
        ("PQftype", ctypes.c_uint, [p, i]),
        ("PQgetvalue", p, [p, i, i]),
        ("PQgetlength", i, [p, i, i]),
        ("PQgetisnull", i, [p, i, i]),
        ("PQclear", None, [p]),
    ):
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


class Rows:
    """A statement's result, read already: fetchone, fetchall, iteration."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next = 0

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class Reader:
    """One libpq connection behind the `execute(sql, args)` surface the log's reads use."""

    def __init__(self, lib: Any, dsn: str, where: str, unreachable: str) -> None:
        self._lib = lib
        self.where = where
        self._unreachable = unreachable
        self._sql: dict[str, bytes] = {}
        # Defaults before dbname, where the URL is expanded: what the URL sets wins over them.
        keys = (ctypes.c_char_p * 4)(b"connect_timeout", b"client_encoding", b"dbname", None)
        values = (ctypes.c_char_p * 4)(b"10", b"UTF8", dsn.encode(), None)
        self._conn = lib.PQconnectdbParams(keys, values, 1)
        if not self._conn or lib.PQstatus(self._conn) != _CONNECTION_OK:
            self.close()
            raise BackendUnavailable(unreachable.format(where=where))

    def execute(self, sql: str, args: Sequence[object] = ()) -> Rows:
        query = self._sql.get(sql)
        if query is None:
            parts = sql.split("?")
            query = self._sql[sql] = "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)).encode() + parts[-1].encode()
        params = (ctypes.c_char_p * max(len(args), 1))(*(_param(a) for a in args))
        lib = self._lib
        res = lib.PQexecParams(self._conn, query, len(args), None, params, None, None, 0)
        try:
            self._check(res)
            return Rows(self._rows(res))
        finally:
            lib.PQclear(res)

    def _check(self, res: int | None) -> None:
        lib = self._lib
        if res and lib.PQresultStatus(res) in (_COMMAND_OK, _TUPLES_OK):
            return
        state = (lib.PQresultErrorField(res, _SQLSTATE) or b"").decode() if res else ""
        if not res or lib.PQstatus(self._conn) != _CONNECTION_OK or state.startswith(_GONE):
            raise BackendUnavailable(self._unreachable.format(where=self.where))
        message = (lib.PQresultErrorField(res, _MESSAGE) or b"unknown error").decode(errors="replace")
        detail = (lib.PQresultErrorField(res, _DETAIL) or b"").decode(errors="replace")
        raise server_error(state, message, detail, self.where)

    def _rows(self, res: int) -> list[tuple[Any, ...]]:
        lib = self._lib
        columns = range(lib.PQnfields(res))
        types = [lib.PQftype(res, c) for c in columns]
        out = []
        for r in range(lib.PQntuples(res)):
            row = []
            for c in columns:
                if lib.PQgetisnull(res, r, c):
                    row.append(None)
                    continue
                raw = ctypes.string_at(lib.PQgetvalue(res, r, c), lib.PQgetlength(res, r, c))
                row.append(_value(types[c], raw))
            out.append(tuple(row))
        return out

    def close(self) -> None:
        if self._conn:
            self._lib.PQfinish(self._conn)
            self._conn = None


def _param(value: object) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, bytes):
        return b"\\x" + value.hex().encode()
    if isinstance(value, list | tuple):  # an array literal; the server infers its type from the query
        return ("{" + ",".join(_element(v) for v in value) + "}").encode()
    return str(value).encode()


def _element(value: object) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(oid: int, raw: bytes) -> object:
    if oid in _INTEGERS:
        return int(raw)
    if oid == _BYTEA:
        return bytes.fromhex(raw[2:].decode())  # hex output: \x0a1b...
    if oid == _BOOL:
        return raw == b"t"
    return raw.decode()


def open_reader(dsn: str, *, where: str, unreachable: str) -> Reader | None:
    """A libpq reader connected to `dsn`, or None when no libpq can be loaded
    (psycopg then serves the reads). An unreachable server is BackendUnavailable."""
    lib = _load()
    if lib is None:
        return None
    return Reader(lib, dsn, where, unreachable)
