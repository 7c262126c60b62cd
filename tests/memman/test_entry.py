"""The entry point loads msgspec without typing_extensions (a start-up cost
memman's types do not need), and nothing else is affected: every event type
still round-trips, and typing_extensions imports normally afterwards."""

from __future__ import annotations

import os
import subprocess
import sys


def test_msgspec_loads_lean_and_everything_still_works(data_dir) -> None:  # type: ignore[no-untyped-def]
    probe = """
import sys
from memman.entry import _load_msgspec_without_typing_extensions
_load_msgspec_without_typing_extensions()
assert 'typing_extensions' not in sys.modules and 'inspect' not in sys.modules, sorted(sys.modules)
import msgspec
from events.types import EVENT_CLASSES, Event, MemoryReconciled, Decision, Candidate, Provenance
e = MemoryReconciled(input_id='A', decisions=[Decision(memory_id='A', action='ADD',
    candidates=[Candidate(memory_id='B', similarity=0.5)])], provenance=Provenance(implementation='rules'))
assert msgspec.msgpack.decode(msgspec.msgpack.encode(e), type=Event) == e
try:
    msgspec.msgpack.decode(msgspec.msgpack.encode({'type': 'memory.reconciled', 'input_id': 'A',
        'decisions': [{'memory_id': 'A', 'action': 'MAYBE'}], 'provenance': {'implementation': 'x'}}), type=Event)
except msgspec.ValidationError:
    pass
else:
    raise AssertionError('Literal validation lost')
import typing_extensions
assert typing_extensions.Literal
print('OK')
"""
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "OK"
