"""Per-event checksums: how the log proves that no event was altered.

Every event row carries `checksum`, computed by `checksum()` below over the
envelope fields exactly as stored (id, type, schema_version, recorded_at,
occurred_at, actor, causation, stage) and the payload bytes. It is a plain
per-row digest, not a hash chain, on purpose:

- it is backend-neutral: computed in Python over values every backend stores
  the same way, never by SQL, so a PostgreSQL log checks with the same code;
- it allows one documented rewrite. Erasure (purge) must destroy a payload's
  content while the log keeps proving its integrity. A chain would make one
  rewrite cascade through every later event; a per-row digest only needs the
  rewritten row's checksum recomputed (`EventLog.rewrite_payloads`), and the
  purge records which seqs it rewrote, so an audit can tell a documented
  rewrite from tampering.

`seq` is left out: it is assigned by the backend at insert. Its integrity is
checked separately (contiguous, from 1), and `id` (unique, in the digest)
binds a row's content to its identity.

Rows written before checksums existed are given one when the log is first
opened by a version that knows them (see events/log/schema.py `_add_checksums`).
"""

from __future__ import annotations

from events.digests import blake2b

ALGORITHM = "b2"  # blake2b-128; a prefix, so a later algorithm can sit beside it


def checksum(
    *,
    id: str,
    type: str,
    schema_version: int,
    recorded_at: str,
    occurred_at: str,
    actor: str,
    causation: int | None,
    stage: str | None,
    payload: bytes,
) -> str:
    """The checksum of one event row, as stored in its `checksum` column."""
    # Length-prefixed text of each field: no two different rows frame alike,
    # and None differs from "" and from "None". The frames are joined and
    # hashed at once (the digest of one update is that of the same bytes fed
    # in pieces; 18 updates a row were ~40% of appending it in bulk).
    parts = []
    for field in (id, type, schema_version, recorded_at, occurred_at, actor, causation, stage):
        text = b"\x00" if field is None else str(field).encode("utf-8", "surrogatepass")
        parts += (len(text).to_bytes(4, "big"), text)
    data = payload if isinstance(payload, bytes) else str(payload).encode("utf-8", "surrogatepass")
    parts += (len(data).to_bytes(8, "big"), data)
    digest = blake2b(b"".join(parts), digest_size=16)
    return f"{ALGORITHM}:{digest.hexdigest()}"


def row_checksum(row: tuple) -> str:
    """`checksum` of a row read as (seq, id, type, schema_version, recorded_at,
    occurred_at, actor, causation, stage, payload): the log's column order."""
    _seq, id_, type_, version, recorded_at, occurred_at, actor, causation, stage, payload = row
    return checksum(
        id=id_,
        type=type_,
        schema_version=version,
        recorded_at=recorded_at,
        occurred_at=occurred_at,
        actor=actor,
        causation=causation,
        stage=stage,
        payload=payload,
    )
