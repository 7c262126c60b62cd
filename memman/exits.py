"""How a failure leaves the process: one line on stderr and an exit code.

Shared by the click CLI and the fast path so both fail identically:
MemmanError -> its exit_code; Ctrl-C -> 130; anything else -> 1 with a pointer
to MEMMAN_DEBUG=1 (which re-raises, so the traceback shows).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

from events.errors import MemmanError


def fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(f"memman: error: {' '.join(message.split())}\n")
    sys.stderr.flush()
    sys.exit(code)


def warn(message: str) -> None:
    sys.stderr.write(f"memman: warning: {' '.join(message.split())}\n")


def run_guarded(work: Callable[[], int | None]) -> int:
    try:
        return work() or 0
    except MemmanError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing to report
        return 0
    except Exception as exc:
        if os.environ.get("MEMMAN_DEBUG") == "1":
            raise
        fail(f"unexpected {type(exc).__name__}: {exc} (run with MEMMAN_DEBUG=1 for details)", 1)
