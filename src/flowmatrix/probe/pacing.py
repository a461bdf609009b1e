"""``--rate``: a token bucket over every packet a run sends, retries first.

Each connection attempt (one SYN) and each datagram takes one token. Tokens come back at
``rate`` per second and pile up to ``burst`` at most, so time spent idle or stalled (a
busy machine, a suspended process) never turns into a flood afterwards: over any window
of ``w`` seconds a run sends at most ``burst + rate * w`` packets.

Senders ask for a token with a callback; callbacks wait in two FIFO queues, re-sends
before first packets, so that a probe already started gets its retry on time rather
than behind a queue of new probes. A callback tells whether it did send (a probe that
got its answer meanwhile does not): a token is spent only then.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

#: Seconds of traffic a burst may hold (at least one packet).
BURST_SECONDS = 0.01

Send = Callable[[], bool]
"""Sends one packet now and returns True, or returns False when it no longer needs to."""


class PacketGate:
    """At most ``rate`` packets per second, in bursts of at most ``burst``."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, rate: float, burst: float | None = None
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.loop = loop
        self.rate = rate
        self.burst = max(1.0, rate * BURST_SECONDS) if burst is None else max(1.0, burst)
        self.tokens = self.burst
        self.stamp = loop.time()
        self.sent = 0
        self._retries: deque[Send] = deque()
        self._firsts: deque[Send] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def _refill(self) -> None:
        now = self.loop.time()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def ask(self, send: Send, *, retry: bool = False) -> None:
        """Call ``send`` as soon as a token is free (at once when one is and nobody waits)."""
        if not self._retries and not self._firsts:
            self._refill()
            if self.tokens >= 1.0:
                self._spend(send)
                return
        (self._retries if retry else self._firsts).append(send)
        self._arm()

    def _spend(self, send: Send) -> None:
        # the token is taken before the call, so a sender that asks again from inside
        # ``send`` cannot be given the same token twice
        self.tokens -= 1.0
        if send():
            self.sent += 1
        else:
            self.tokens += 1.0

    async def wait(self) -> None:
        """Take one token for a packet the caller sends right after."""
        granted = self.loop.create_future()

        def send() -> bool:
            if granted.done():  # the waiter was cancelled
                return False
            granted.set_result(None)
            return True

        self.ask(send)
        await granted

    def _arm(self) -> None:
        if self._timer is not None:
            return
        delay = max(0.0, (1.0 - self.tokens) / self.rate)
        self._timer = self.loop.call_later(delay, self._drain)

    def _drain(self) -> None:
        self._timer = None
        self._refill()
        while self.tokens >= 1.0 and (self._retries or self._firsts):
            self._spend(self._retries.popleft() if self._retries else self._firsts.popleft())
        if self._retries or self._firsts:
            self._arm()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._retries.clear()
        self._firsts.clear()
