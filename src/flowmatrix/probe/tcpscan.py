"""Many TCP connect probes at once, driven by one epoll set and a few FIFO timer queues.

A probe is a non-blocking ``connect``; its answer (handshake, reset, ICMP error) shows as
the socket turning writable. Thousands run at once without a task or a loop entry per
probe: the sockets share one epoll set registered once with the event loop, and the
timers of equal delay (every probe of a run has the same timeout and retry spacing) fire
in the order they were set, so each delay is one FIFO queue.

Latency is the network's: the clock starts right before the ``connect`` call and stops
when the answer is read, and answers are read after every launch, not only when the
event loop gets round to it, so a reset on a veth reads as the tens of microseconds it
took rather than the time it took to start a thousand other probes.

Every attempt is exactly one SYN. Unanswered probes are re-sent on a fresh socket,
spaced evenly inside the timeout; an attempt's socket is closed before the kernel would
resend its SYN on its own (``SYN_GUARD``, under the kernel's initial 1 s retransmission
timeout), so ``attempts`` counts every SYN sent and ``--rate`` can bound them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
import select
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flowmatrix.probe.icmp import enable_error_queue, read_icmp_error
from flowmatrix.probe.pacing import PacketGate
from flowmatrix.probe.results import Outcome
from flowmatrix.probe.tcp import classify, sockaddr

#: Seconds an attempt waits for its answer at most: the kernel resends an unanswered SYN
#: after its initial retransmission timeout (1 s, RFC 6298), a packet no rate could count.
SYN_GUARD = 0.8
_TIMER_SLACK = 0.0005
_POLL_BATCH = 4096
#: Probes started per event-loop turn at most, so that timers and other tasks keep time.
_LAUNCH_BURST = 256
_now = time.monotonic
#: Linux's IP_BIND_ADDRESS_NO_PORT (include/uapi/linux/in.h; IPv6 sockets too).
_IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


@dataclass(frozen=True, slots=True)
class TcpRequest:
    """One connect probe to run."""

    address: str
    port: int
    source_address: str | None = None
    keep_open: bool = False
    """Hand the connected socket to the caller instead of closing it (two-ended probes)."""


Done = Callable[[int, Outcome, "socket.socket | None"], None]
"""Called once per request: its index, the outcome, the kept socket (or None)."""


@dataclass(slots=True, eq=False)
class _Probe:
    index: int
    request: TcpRequest
    family: socket.AddressFamily
    target: tuple[str, int]
    deadline: float = math.inf
    attempts: int = 0
    finished: bool = False
    pending: dict[int, tuple[socket.socket, float]] = field(default_factory=dict)
    """fd -> (socket, time its SYN was sent) of the attempts still waiting."""


class TcpScan:
    """Run connect probes ``concurrency`` at a time; ``on_done`` receives each outcome."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        timeout: float,
        retries: int,
        concurrency: int,
        on_done: Done,
        gate: PacketGate | None = None,
    ) -> None:
        self.loop = loop
        self.timeout = timeout
        self.retries = retries
        self.spacing = timeout / (retries + 1)
        self.guard = SYN_GUARD if timeout > SYN_GUARD else math.inf
        self.on_done = on_done
        self.gate = gate
        self.free = max(1, concurrency)
        self.epoll = select.epoll()
        self.waiting: dict[int, _Probe] = {}
        self.queue: deque[_Probe] = deque()
        self.unfinished = 0
        self.timers: dict[float, deque[tuple[float, Callable[[], None]]]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = math.inf
        self.asking = False
        self.busy = False
        self.all_done: asyncio.Future[None] = loop.create_future()
        self.closed = False
        self.resume_soon = False

    # --- running ------------------------------------------------------------------

    async def run(self, requests: Sequence[tuple[int, TcpRequest]]) -> None:
        """Probe every ``(index, request)``; returns when each has been reported."""
        for index, request in requests:
            family, target = sockaddr(request.address, request.port)
            self.queue.append(_Probe(index, request, family, target))
        self.unfinished = len(self.queue)
        if not self.unfinished:
            return
        self.loop.add_reader(self.epoll.fileno(), self._pump)
        try:
            self._pump()
            await self.all_done
        finally:
            self.close()

    def close(self) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(self.epoll.fileno())
        for probe in {id(p): p for p in self.waiting.values()}.values():
            self._close_all(probe)
        self.epoll.close()

    def hold(self) -> None:
        """Keep the slot of the probe just reported (from ``on_done``): its follow-up
        (a TLS handshake, a two-ended exchange) still counts as in flight."""
        self.free -= 1

    def release(self) -> None:
        """The follow-up of a held slot ended: the slot takes the next probe."""
        self.free += 1
        if not self.closed:
            self._pump()

    def _pump(self) -> None:
        """Read the answers that arrived, then start probes while there is room."""
        self._busy_with(lambda: None)

    def _busy_with(self, action: Callable[[], bool | None]) -> bool | None:
        """Run ``action``, then read answers and refill; nested calls only run ``action``
        (answers are never read in the middle of handling other answers, so a closed
        socket's number cannot be reused while its event is still being handled)."""
        if self.busy:
            return action()
        self.busy = True
        try:
            result = action()
            self._harvest()
            self._fill()
        finally:
            self.busy = False
        return result

    def _fill(self) -> None:
        launched = 0
        while self.free and self.queue and not self.asking:
            if launched == _LAUNCH_BURST:  # let timers and other tasks run, then go on
                if not self.resume_soon:
                    self.resume_soon = True
                    self.loop.call_soon(self._resume)
                return
            launched += 1
            if self.gate is None:
                self._launch_next()
            else:
                self.asking = True
                self.gate.ask(self._granted)

    def _resume(self) -> None:
        self.resume_soon = False
        if not self.closed:
            self._pump()

    def _granted(self) -> bool:
        self.asking = False
        if not (self.free and self.queue):
            return False
        self._busy_with(self._launch_next)
        return True

    def _launch_next(self) -> None:
        probe = self.queue.popleft()
        self.free -= 1
        probe.deadline = _now() + self.timeout
        self._attempt(probe)
        if not probe.finished:
            self._later(self.timeout, lambda: self._expire(probe))
            for i in range(1, self.retries + 1):
                self._later(i * self.spacing, lambda: self._retry(probe))

    # --- attempts -----------------------------------------------------------------

    def _attempt(self, probe: _Probe) -> bool:
        """Send one SYN for ``probe`` (False when it had finished meanwhile)."""
        if probe.finished:
            return False
        probe.attempts += 1
        request = probe.request
        try:
            sock = socket.socket(probe.family, socket.SOCK_STREAM)
        except OSError as exc:
            self._finish(probe, exc.errno or errno.EIO, None, 0.0)
            return True
        try:
            sock.setblocking(False)
            enable_error_queue(sock, probe.family)
            if request.source_address is not None:
                # the port is picked by connect (for the 4-tuple), not searched for by bind
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((request.source_address, 0))
            sent = _now()
            code = sock.connect_ex(probe.target)
        except OSError as exc:
            self._finish(probe, exc.errno or errno.EIO, sock, 0.0)
            return True
        if code != errno.EINPROGRESS:
            self._finish(probe, code, sock, (_now() - sent) * 1000.0)
            return True
        fd = sock.fileno()
        self.epoll.register(fd, select.EPOLLOUT | select.EPOLLONESHOT)
        probe.pending[fd] = (sock, sent)
        self.waiting[fd] = probe
        if self.guard < probe.deadline - sent:
            self._later(self.guard, lambda: self._give_up(probe, fd, sock))
        self._harvest()
        return True

    def _retry(self, probe: _Probe) -> None:
        if probe.finished or _now() >= probe.deadline:
            return
        if self.gate is None:
            self._attempt(probe)
            return

        def send() -> bool:
            if _now() >= probe.deadline:
                return False
            return bool(self._busy_with(lambda: self._attempt(probe)))

        self.gate.ask(send, retry=True)

    def _give_up(self, probe: _Probe, fd: int, sock: socket.socket) -> None:
        """Close an unanswered attempt before the kernel resends its SYN."""
        if probe.finished or probe.pending.get(fd, (None,))[0] is not sock:
            return
        del self.waiting[fd], probe.pending[fd]
        sock.close()  # which also takes it out of the epoll set

    def _expire(self, probe: _Probe) -> None:
        if not probe.finished:
            self._finish(probe, errno.ETIMEDOUT, None, 0.0)

    def _harvest(self) -> None:
        while True:
            events = self.epoll.poll(0, _POLL_BATCH)
            if not events:
                return
            arrived = _now()
            for fd, _ in events:
                probe = self.waiting.get(fd)
                if probe is None:
                    continue
                sock, sent = probe.pending.pop(fd)
                del self.waiting[fd]
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                self._finish(probe, code, sock, (arrived - sent) * 1000.0)
            if len(events) < _POLL_BATCH:
                return

    def _finish(
        self, probe: _Probe, code: int, sock: socket.socket | None, latency_ms: float
    ) -> None:
        if probe.finished:
            return
        probe.finished = True
        icmp = (
            read_icmp_error(sock) if sock is not None and code not in (0, errno.ETIMEDOUT) else None
        )
        request = probe.request
        outcome = classify(
            code, icmp, request.address, request.port, probe.attempts, self.timeout, latency_ms
        )
        kept = sock if code == 0 and request.keep_open else None
        self._close_all(probe)
        if kept is not None:
            with contextlib.suppress(OSError):
                self.epoll.unregister(kept.fileno())
        elif sock is not None:
            sock.close()
        self.free += 1
        self.unfinished -= 1
        try:
            self.on_done(probe.index, outcome, kept)
        except BaseException as exc:
            if not self.all_done.done():
                self.all_done.set_exception(exc)
            raise
        if self.unfinished == 0 and not self.all_done.done():
            self.all_done.set_result(None)

    def _close_all(self, probe: _Probe) -> None:
        """Close the attempts still waiting (closing takes them out of the epoll set)."""
        for fd, (sock, _) in probe.pending.items():
            del self.waiting[fd]
            sock.close()
        probe.pending.clear()

    # --- timers -------------------------------------------------------------------

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        when = _now() + delay
        queue = self.timers.get(delay)
        if queue is None:
            queue = self.timers[delay] = deque()
        queue.append((when, callback))
        if when < self.timer_at:
            self._arm(when)

    def _arm(self, when: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self._fire)
        self.timer_at = when

    def _fire(self) -> None:
        self.timer, self.timer_at = None, math.inf
        self.busy = True
        try:
            now = _now() + _TIMER_SLACK
            for queue in list(self.timers.values()):
                while queue and queue[0][0] <= now:
                    queue.popleft()[1]()
            self._harvest()
            self._fill()
        finally:
            self.busy = False
        heads = [queue[0][0] for queue in self.timers.values() if queue]
        if heads and min(heads) < self.timer_at:
            self._arm(min(heads))
