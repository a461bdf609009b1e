"""The watch loop: jittered cycles in a worker thread, signals in the main one.

The main thread only waits: SIGTERM (or Ctrl-C) ends the wait at once, the server is
closed and the process exits, whatever probe is in flight (well within a second).
SIGHUP wakes the worker, which reads the site again and runs a cycle on the new plan
(or keeps the old plan when the edit is broken, and logs why).
"""

from __future__ import annotations

import contextvars
import random
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from flowmatrix.i18n import _
from flowmatrix.watch.cycle import Watcher
from flowmatrix.watch.state import Cycle

Publish = Callable[[Cycle | None], None]


def jittered(interval: float, jitter: float, rng: random.Random) -> float:
    """``interval`` give or take ``jitter`` of it."""
    return interval * (1.0 + rng.uniform(-jitter, jitter))


class WatchLoop:
    """Runs ``watcher``'s cycles until stopped, handing each to ``publish``."""

    def __init__(self, watcher: Watcher, publish: Publish, *, seed: int | None = None) -> None:
        self.watcher = watcher
        self.publish = publish
        self.stopped = threading.Event()
        self._wake = threading.Event()
        self._reload = False
        self._rng = random.Random(seed)

    def request_reload(self) -> None:
        self._reload = True
        self._wake.set()

    def stop(self) -> None:
        self.stopped.set()
        self._wake.set()

    def install_signals(self) -> None:
        def on_stop(signum: int, frame: FrameType | None) -> None:
            self.stop()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    def _next_wait(self) -> float:
        settings = self.watcher.settings
        return jittered(settings.interval, settings.jitter, self._rng)

    def work(self) -> None:
        """Cycle until stopped (the worker thread's body)."""
        interval = self.watcher.settings.interval
        due = time.monotonic() + self._next_wait()
        while not self.stopped.is_set():
            self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()
            if self.stopped.is_set():
                return
            if self._reload:
                self._reload = False
                self.watcher.reload()
            elif time.monotonic() < due:
                continue
            started = time.monotonic()
            cycle = self.watcher.cycle_or_log()
            if self.stopped.is_set():
                return
            self.publish(cycle)
            if cycle is not None and cycle.duration > interval:
                self.watcher.log(
                    {
                        "event": "slow_cycle",
                        "error": _(
                            "the cycle took {duration:.2f}s, more than the "
                            "--interval of {interval:g}s: the next one starts at once"
                        ).format(duration=cycle.duration, interval=interval),
                    }
                )
            due = started + self._next_wait()

    def run(self) -> None:
        """Start the worker; return when stopped (a signal, or ``stop``)."""
        # The worker speaks the run's language: it runs in a copy of this thread's context.
        context = contextvars.copy_context()
        worker = threading.Thread(
            target=context.run, args=(self.work,), name="watch-cycles", daemon=True
        )
        worker.start()
        while not self.stopped.wait(1.0):
            pass
