"""`scheduler serve`: the long-running drain loop (PID 1 in containers).

Every `interval` seconds, or at once when `scheduler trigger` touches the
trigger file or a store on PostgreSQL notifies an append (workers/wake.py), it drains every store under the data dir's drain lock and
writes the heartbeat. It polls for stop/trigger/signals every `POLL_S`
seconds, so it notices `scheduler stop` within a second and pauses (no
drains) until `scheduler start`. SIGTERM / SIGINT end it cleanly: a pass in
progress finishes its current chunk boundary (the drain commits per chunk),
then the loop exits 0.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from events.clock import Clock, utc_now
from events.errors import StoreLocked
from memman.scheduler import state

if TYPE_CHECKING:
    from workers.vectors.kept import KeptVectors

POLL_S = 0.2
# Inputs per store per pass inside the loop: between passes the loop checks
# for stop and signals, so a large backlog never delays shutdown for long.
BATCH = 200


class PassReport(msgspec.Struct, frozen=True, kw_only=True):
    ran: bool
    reason: str  # "drained", "stopped", "locked"
    processed: int = 0
    remaining: int = 0
    failed: int = 0
    seconds: float = 0.0


def run_pass(
    data_dir: Path, mode: str, *, clock: Clock = utc_now, limit: int | None = None, kept: KeptVectors | None = None
) -> PassReport:
    """One drain pass over every store, unless stopped; records the heartbeat.
    `kept`: the vector sets a long-running loop keeps between passes
    (workers.vectors.kept.KeptVectors)."""
    from memman.operations.maintenance import drain_all

    if state.is_stopped(data_dir):
        return PassReport(ran=False, reason="stopped")
    stores = _automatic(data_dir) if mode == "auto" else None
    if stores == []:
        return PassReport(ran=False, reason="server reads only")
    started = time.perf_counter()
    try:
        reports = drain_all(data_dir, stores=stores, clock=clock, limit=limit, kept=kept)
    except StoreLocked:
        return PassReport(ran=False, reason="locked")  # another drain is on it; that one beats
    seconds = time.perf_counter() - started
    beat = state.record_pass(data_dir, mode, reports, clock=clock, seconds=seconds)
    return PassReport(
        ran=True,
        reason="drained",
        processed=beat.processed,
        remaining=beat.remaining,
        failed=beat.failed,
        seconds=beat.seconds,
    )


def _automatic(data_dir: Path) -> list[str]:
    """The stores the automatic drain (started after a write) works on: not
    those this machine reads from the server projections (docs/postgres.md),
    whose drain would first build the local replica they exist to avoid;
    the team's workers drain them."""
    from memman.recall.server import reads_server
    from memman.stores import Registry

    registry = Registry(data_dir)
    return [n for n in registry.names() if reads_server(data_dir, n, registry.path(n)) is None]


class Loop:
    def __init__(
        self,
        data_dir: Path,
        *,
        interval: float | None,
        say: Callable[[str], None] = lambda _: None,
        clock: Clock = utc_now,
    ) -> None:
        self.data_dir = data_dir
        self.fixed_interval = interval
        self.say = say
        self.clock = clock
        self.stopping = False
        self.passes = 0
        self.kept: KeptVectors | None = None  # each store's vector set between passes (workers.vectors.kept.KeptVectors)

    def _signal(self, signum: int, _frame: object) -> None:
        self.stopping = True
        self.say(f"received {signal.Signals(signum).name}; exiting after the current step")

    def interval(self) -> float:
        if self.fixed_interval is not None:
            return self.fixed_interval
        from memman import config

        return float(config.settings_for(self.data_dir).scheduler.interval_s)

    def run(self) -> int:
        import os

        from memman.scheduler.ops import SERVE_PID

        previous = {s: signal.signal(s, self._signal) for s in (signal.SIGTERM, signal.SIGINT)}
        pid_file = state.directory(self.data_dir) / SERVE_PID
        pid_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pid_file.write_text(f"{os.getpid()}\n")
        try:
            self._loop()
        finally:
            pid_file.unlink(missing_ok=True)
            for s, handler in previous.items():
                signal.signal(s, handler)
        self.say(f"serve: exited cleanly after {self.passes} passes")
        return 0

    def _loop(self) -> None:
        from memman.stores import Registry
        from workers.wake import LogWaker

        registry = Registry(self.data_dir)
        waker = LogWaker([registry.path(n) for n in registry.names()])  # stores on PostgreSQL wake us at once
        try:
            self._poll(waker)
        finally:
            waker.close()

    def _poll(self, waker) -> None:  # type: ignore[no-untyped-def]
        due = 0.0  # monotonic time of the next pass; 0 = now
        paused = False
        while not self.stopping:
            stopped = state.is_stopped(self.data_dir)
            if stopped != paused:
                paused = stopped
                self.say("serve: scheduler stopped; paused" if paused else "serve: scheduler started; resuming")
                if not paused:
                    due = 0.0
            triggered = state.take_trigger(self.data_dir)
            if not paused and (triggered or time.monotonic() >= due):
                self._drain_backlog()
                due = time.monotonic() + self.interval()
            if waker.wait(POLL_S):
                due = 0.0  # a shared log was appended to: drain now

    def _drain_backlog(self) -> None:
        """Passes of BATCH inputs until nothing is due, checking for stop in between."""
        while not self.stopping:
            if self.kept is None:
                from workers.vectors.kept import KeptVectors

                self.kept = KeptVectors()
            report = run_pass(self.data_dir, "serve", clock=self.clock, limit=BATCH, kept=self.kept)
            self.passes += report.ran
            self.say(
                f"serve: {report.reason}: {report.processed} processed, {report.remaining} remaining"
                f" ({report.seconds:.2f}s)"
            )
            if not report.ran or report.processed == 0 or report.remaining == 0:
                return
