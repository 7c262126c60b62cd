"""What a drain derived, as one digest per event, comparable across runs and code versions.

Two drains of the same inputs over copies of the same store must derive the
same events. They cannot be compared byte for byte: memory ids are ULIDs with
random bits, and provenance records each stage's latency. So each derived
event (seq > `after`) is reduced to its type, stage, causation and payload
with every ULID replaced by its order of first appearance in the compared
range and `latency_ms` dropped; everything else (decisions, candidates and
their similarities, vectors, edges and weights) is compared as it is.

    .venv/bin/python tools/drain_digest.py STORE_A STORE_B --after SEQ   # exit 1 at the first difference

A store is a store directory (the one holding log.db). docs/drain-costs.md
uses it to show that a faster drain derives what the old one did.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")


def _normal(value: object, names: dict[str, str]) -> object:
    if isinstance(value, dict):
        return {k: _normal(v, names) for k, v in value.items() if k != "latency_ms"}
    if isinstance(value, list):
        return [_normal(v, names) for v in value]
    if isinstance(value, str):
        return _ULID.sub(lambda m: names.setdefault(m.group(0), f"#{len(names)}"), value)
    if isinstance(value, bytes):
        return "b:" + hashlib.sha256(value).hexdigest()[:16]
    return value


def digests(store: Path, after: int) -> list[tuple[str, str]]:
    """(readable head, digest) of every event after `after`, in log order."""
    from events.log import EventLog

    log = EventLog(store / "log.db")
    names: dict[str, str] = {}
    out = []
    try:
        for rec in log.read(after=after):
            payload = _normal(msgspec.to_builtins(rec.event, enc_hook=bytes), names)
            body = msgspec.json.encode([rec.type, rec.stage, rec.causation, payload])
            out.append((f"seq {rec.seq} {rec.type} {rec.stage}", hashlib.sha256(body).hexdigest()))
    finally:
        log.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--after", type=int, default=0, help="compare events after this seq [0: all]")
    args = parser.parse_args()
    for store in (args.a, args.b):
        if not (store / "log.db").is_file():
            print(f"drain_digest: no log.db in {store} (give a store directory: DATA_DIR/stores/NAME)", file=sys.stderr)
            return 2
    a, b = digests(args.a, args.after), digests(args.b, args.after)
    for n, (x, y) in enumerate(zip(a, b)):
        if x[1] != y[1]:
            print(f"differ at event {n}: {x[0]} vs {y[0]}")
            return 1
    if len(a) != len(b):
        print(f"same first {min(len(a), len(b))} events, then {len(a)} vs {len(b)} in all")
        return 1
    print(f"{len(a)} events, identical (ids by first appearance, latencies aside)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
