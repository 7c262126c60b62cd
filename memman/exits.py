"""How a failure leaves the process: one line on stderr and an exit code.

Shared by the click CLI and the fast path so both fail identically:
MemmanError -> its exit_code; Ctrl-C -> 130; anything else -> 1 with a pointer
to MEMMAN_DEBUG=1 (which re-raises, so the traceback shows).
"""

from __future__ import annotations

import errno
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


def _damaged() -> tuple[type[BaseException], ...]:
    """SQLite's corruption errors, when apsw is loaded (it always is once a
    store was opened; importing it here just to name them would cost a
    process that never opened one)."""
    apsw = sys.modules.get("apsw")
    return (apsw.CorruptError, apsw.NotADBError) if apsw is not None else ()


def run_guarded(work: Callable[[], int | None]) -> int:
    try:
        return work() or 0
    except MemmanError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            fail(f"no space left on the disk holding {exc.filename or 'the data dir'}: free space and retry;"
                 " nothing was lost", 1)
        if exc.errno == errno.EROFS:
            fail(f"{exc.filename or 'the data dir'} is on a read-only file system: this command must write", 1)
        if isinstance(exc, BrokenPipeError):
            sys.stderr.close()  # the reader went away (e.g. `| head`); nothing to report
            return 0
        if os.environ.get("MEMMAN_DEBUG") == "1":
            raise
        fail(f"unexpected {type(exc).__name__}: {exc} (run with MEMMAN_DEBUG=1 for details)", 1)
    except _damaged() as exc:
        fail(f"a database of this store is damaged ({exc}); run 'memman doctor' to see which and how to fix it", 5)
    except Exception as exc:
        if os.environ.get("MEMMAN_DEBUG") == "1":
            raise
        fail(f"unexpected {type(exc).__name__}: {exc} (run with MEMMAN_DEBUG=1 for details)", 1)
