"""TCP connect probes: open (handshake), closed (reset), filtered (silence), unreachable (ICMP).

Each probe is a non-blocking ``connect`` driven by the event loop's selector (no thread,
no task per attempt), so thousands run at once. Unanswered probes are re-sent on a fresh
socket, spaced evenly inside the timeout: a lost SYN, or an ICMP answer the sender's
kernel rate-limited (about 6 per burst per destination), gets another chance without
making the run longer than one timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
import select
import socket
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from flowmatrix.probe.icmp import (
    LOCAL_ERRORS,
    IcmpError,
    enable_error_queue,
    errno_text,
    read_icmp_error,
)
from flowmatrix.probe.results import Outcome, State

CLOSED_NOTE = (
    "a firewall that rejects with a TCP reset looks exactly the same, "
    "so closed is not proof that the firewall lets the flow through"
)


def sockaddr(address: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return family, (address, port)


class _Dispatcher:
    """The pending connects and the timers of a run, at the cost of one loop entry each.

    Registering thousands of sockets with the event loop one by one, and putting two
    timers per probe on its heap, costs more than the probes themselves. Here the
    sockets share one epoll set (one C call each), and timers of equal delay, which
    fire in the order they were set, share one FIFO queue.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.epoll = select.epoll()
        self.callbacks: dict[int, Callable[[], None]] = {}
        self.queues: dict[float, deque[tuple[float, Callable[[], None]]]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = math.inf
        loop.add_reader(self.epoll.fileno(), self._ready)

    def watch(self, fd: int, callback: Callable[[], None]) -> None:
        """Call ``callback`` once when ``fd`` becomes writable (its connect ended)."""
        self.epoll.register(fd, select.EPOLLOUT | select.EPOLLONESHOT)
        self.callbacks[fd] = callback

    def forget(self, fd: int) -> None:
        if self.callbacks.pop(fd, None) is not None:
            with contextlib.suppress(OSError):
                self.epoll.unregister(fd)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` after ``delay`` seconds (there is no cancelling: callbacks
        check whether they still have something to do)."""
        when = self.loop.time() + delay
        self.queues.setdefault(delay, deque()).append((when, callback))
        if when < self.timer_at:
            self._arm(when)

    def _arm(self, when: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self._fire)
        self.timer_at = when

    def _fire(self) -> None:
        self.timer, self.timer_at = None, math.inf
        now = self.loop.time() + _TIMER_SLACK
        for queue in list(self.queues.values()):
            while queue and queue[0][0] <= now:
                queue.popleft()[1]()
        heads = [queue[0][0] for queue in self.queues.values() if queue]
        if heads and min(heads) < self.timer_at:
            self._arm(min(heads))

    def _ready(self) -> None:
        for fd, _ in self.epoll.poll(0, 4096):
            callback = self.callbacks.pop(fd, None)
            if callback is not None:
                self.epoll.unregister(fd)
                callback()

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.queues.clear()
        self.loop.remove_reader(self.epoll.fileno())
        self.epoll.close()


_TIMER_SLACK = 0.001
_shared: ContextVar[_Dispatcher | None] = ContextVar("flowmatrix_tcp_dispatcher", default=None)


@contextlib.contextmanager
def shared_dispatcher() -> Iterator[None]:
    """Let every TCP probe started in this context (and its tasks) share one dispatcher."""
    dispatcher = _Dispatcher(asyncio.get_running_loop())
    token = _shared.set(dispatcher)
    try:
        yield
    finally:
        _shared.reset(token)
        dispatcher.close()


@dataclass
class _Attempts:
    """The attempts of one probe, sharing one deadline; the first answer wins."""

    loop: asyncio.AbstractEventLoop
    address: str
    port: int
    source_address: str | None
    done: asyncio.Future[tuple[int, socket.socket | None, float]]
    dispatcher: _Dispatcher
    sockets: list[socket.socket] = field(default_factory=list)
    watched: set[int] = field(default_factory=set)
    count: int = 0

    def launch(self) -> None:
        if self.done.done():
            return
        family, target = sockaddr(self.address, self.port)
        started = self.loop.time()
        self.count += 1
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            self._answer(exc.errno or errno.EIO, None, started)
            return
        self.sockets.append(sock)
        sock.setblocking(False)
        try:
            enable_error_queue(sock, family)
            if self.source_address is not None:
                sock.bind((self.source_address, 0))
            code = sock.connect_ex(target)
        except OSError as exc:
            self._answer(exc.errno or errno.EIO, sock, started)
            return
        if code == errno.EINPROGRESS:
            fd = sock.fileno()
            self.watched.add(fd)
            self.dispatcher.watch(fd, lambda: self._writable(sock, started))
        else:
            self._answer(code, sock, started)

    def _writable(self, sock: socket.socket, started: float) -> None:
        self.watched.discard(sock.fileno())
        self._answer(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), sock, started)

    def _answer(self, code: int, sock: socket.socket | None, started: float) -> None:
        if not self.done.done():
            self.done.set_result((code, sock, (self.loop.time() - started) * 1000.0))

    def expire(self) -> None:
        if not self.done.done():
            self.done.set_result((errno.ETIMEDOUT, None, 0.0))

    def cleanup(self, keep: socket.socket | None) -> None:
        for fd in self.watched:
            self.dispatcher.forget(fd)
        self.watched.clear()
        for sock in self.sockets:
            if sock is not keep:
                sock.close()


async def tcp_probe(
    address: str,
    port: int,
    *,
    timeout: float,
    retries: int = 1,
    source_address: str | None = None,
    keep_open: bool = False,
) -> tuple[Outcome, socket.socket | None]:
    """Connect to ``address:port``; the socket is returned only if open and ``keep_open``."""
    loop = asyncio.get_running_loop()
    shared = _shared.get()
    dispatcher = shared if shared is not None else _Dispatcher(loop)
    attempts = _Attempts(loop, address, port, source_address, loop.create_future(), dispatcher)
    dispatcher.call_later(timeout, attempts.expire)
    spacing = timeout / (retries + 1)
    for i in range(1, retries + 1):
        dispatcher.call_later(i * spacing, attempts.launch)
    attempts.launch()
    kept: socket.socket | None = None
    try:
        code, sock, latency = await attempts.done
        icmp = read_icmp_error(sock) if sock is not None and code != 0 else None
        outcome = classify(code, icmp, address, port, attempts.count, timeout, latency)
        if code == 0 and keep_open:
            kept = sock
        return outcome, kept
    finally:
        attempts.cleanup(kept)
        if shared is None:
            dispatcher.close()


def classify(
    code: int,
    icmp: IcmpError | None,
    address: str,
    port: int,
    attempts: int,
    timeout: float,
    latency_ms: float,
) -> Outcome:
    """Turn a connect's errno (and the ICMP behind it) into a state and a plain reason."""
    if code == 0:
        return Outcome(
            "open", f"TCP handshake completed with {_where(address, port)}", latency_ms, attempts
        )
    if code == errno.ETIMEDOUT:
        tries = f"{attempts} connection attempt{'s' if attempts > 1 else ''}"
        return Outcome(
            "filtered",
            f"no answer to {tries} in {timeout:g} s: a firewall drops the packets silently, "
            "or the host is down",
            None,
            attempts,
        )
    if icmp is not None:
        text = icmp.describe(address)
        if icmp.is_port_unreachable:
            reason = (
                f"{text}: a firewall rejects the connection (a host without a listener "
                "answers a TCP connect with a reset, not ICMP)"
            )
        elif icmp.is_prohibited:
            reason = f"{text}: a firewall refuses the flow"
        else:
            reason = text
        return Outcome("unreachable", reason, latency_ms, attempts)
    if code == errno.ECONNREFUSED:
        return Outcome(
            "closed",
            f"refused with a TCP reset (RST): nothing listens on {_where(address, port)}; "
            f"{CLOSED_NOTE}",
            latency_ms,
            attempts,
        )
    if code in LOCAL_ERRORS:
        state: State = (
            "error" if code in {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT} else "unreachable"
        )
        return Outcome(state, f"{LOCAL_ERRORS[code]} ({errno_text(code)})", latency_ms, attempts)
    if code in {errno.EAGAIN, errno.EMFILE, errno.ENFILE, errno.ENOBUFS}:
        return Outcome(
            "error",
            f"this host ran out of resources: {errno_text(code)}; lower --concurrency",
            None,
            attempts,
        )
    return Outcome("error", f"connect failed: {errno_text(code)}", latency_ms, attempts)


def _where(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


async def exchange(
    sock: socket.socket, payload: bytes, timeout: float, limit: int = 512
) -> bytes | None:
    """Send ``payload`` on a connected socket and read one answer (None: no answer in time)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_sendall(sock, payload)
            data = await loop.sock_recv(sock, limit)
    except (TimeoutError, OSError):
        return None
    return data or None
