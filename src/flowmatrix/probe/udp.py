"""UDP probes: send a protocol request, wait for the answer that proves the path.

UDP has no handshake: only a reply proves that the datagram arrived, and only an ICMP
error disproves it. Each probe uses one connected socket (so the kernel hands its ICMP
errors back) and re-sends the request, spaced evenly inside the timeout.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from flowmatrix.i18n import _
from flowmatrix.probe.icmp import LOCAL_ERRORS, enable_error_queue, errno_text, read_icmp_error
from flowmatrix.probe.results import Outcome, ReplyValue, State
from flowmatrix.probe.tcp import sockaddr

if TYPE_CHECKING:
    from flowmatrix.probe.pacing import PacketGate


@dataclass(frozen=True, slots=True)
class Answer:
    """A datagram recognised as the reply to our request."""

    reason: str
    reply: dict[str, ReplyValue]
    findings: tuple[str, ...] = ()
    two_ended: bool = False


@dataclass(frozen=True, slots=True)
class UdpRequest:
    """What to send, how to recognise the reply, and what silence means."""

    payload: bytes
    recognise: Callable[[bytes], Answer | None]
    """The answer to our request, or None for a datagram that is not one (ignored)."""
    silence_state: State
    silence_reason: str


@dataclass
class _Exchange:
    loop: asyncio.AbstractEventLoop
    sock: socket.socket
    request: UdpRequest
    done: asyncio.Future[tuple[Answer | None, int, float]] = field(init=False)
    sent: int = 0
    last_sent: float = 0.0

    def __post_init__(self) -> None:
        self.done = self.loop.create_future()

    def send(self) -> bool:
        """Send the request (again); False when the exchange is over."""
        if self.done.done():
            return False
        self.sent += 1
        self.last_sent = self.loop.time()
        try:
            self.sock.send(self.request.payload)
        except OSError as exc:
            self._finish(None, exc.errno or errno.EIO)
        return True

    def readable(self) -> None:
        while not self.done.done():
            try:
                data = self.sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._finish(None, exc.errno or errno.EIO)
                return
            answer = self.request.recognise(data)
            if answer is not None:
                self._finish(answer, 0)

    def expire(self) -> None:
        self._finish(None, errno.ETIMEDOUT)

    def _finish(self, answer: Answer | None, code: int) -> None:
        if not self.done.done():
            latency = (self.loop.time() - self.last_sent) * 1000.0
            self.done.set_result((answer, code, latency))


async def udp_probe(
    address: str,
    port: int,
    request: UdpRequest,
    *,
    timeout: float,
    retries: int = 1,
    source_address: str | None = None,
    gate: PacketGate | None = None,
) -> Outcome:
    """Send ``request`` to ``address:port`` and classify the answer, the ICMP error or the silence.

    With a ``gate`` (``--rate``), every datagram, re-sends included, waits for a token.
    """
    loop = asyncio.get_running_loop()
    if gate is not None:
        await gate.wait()
    family, target = sockaddr(address, port)
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:
        return _local_error(exc.errno or errno.EIO, 0)
    with sock:
        sock.setblocking(False)
        try:
            enable_error_queue(sock, family)
            if source_address is not None:
                sock.bind((source_address, 0))
            sock.connect(target)
        except OSError as exc:
            return _local_error(exc.errno or errno.EIO, 0)
        exchange = _Exchange(loop, sock, request)
        loop.add_reader(sock.fileno(), exchange.readable)
        start = loop.time()
        spacing = timeout / (retries + 1)
        handles = [loop.call_at(start + timeout, exchange.expire)]
        resend = exchange.send if gate is None else partial(gate.ask, exchange.send, retry=True)
        handles += [loop.call_at(start + i * spacing, resend) for i in range(1, retries + 1)]
        exchange.send()
        try:
            answer, code, latency = await exchange.done
            icmp = read_icmp_error(sock) if code not in {0, errno.ETIMEDOUT} else None
        finally:
            loop.remove_reader(sock.fileno())
            for handle in handles:
                handle.cancel()
    attempts = exchange.sent
    if answer is not None:
        return Outcome(
            "open",
            answer.reason,
            latency,
            attempts,
            answer.reply,
            answer.findings,
            answer.two_ended,
        )
    if code == errno.ETIMEDOUT:
        return Outcome(request.silence_state, request.silence_reason, None, attempts)
    if icmp is not None:
        text = icmp.describe(address)
        if icmp.is_port_unreachable and icmp.offender in {None, address}:
            reason = _("nothing listens on UDP port {port} ({icmp})").format(port=port, icmp=text)
            return Outcome("closed", reason, latency, attempts)
        if icmp.is_prohibited or icmp.is_port_unreachable:
            text = _("{icmp}: a firewall refuses the flow").format(icmp=text)
        return Outcome("unreachable", text, latency, attempts)
    if code == errno.ECONNREFUSED:
        reason = _("nothing listens on UDP port {port} (ICMP port unreachable)").format(port=port)
        return Outcome("closed", reason, latency, attempts)
    return _local_error(code, attempts)


def _local_error(code: int, attempts: int) -> Outcome:
    if code in LOCAL_ERRORS:
        state: State = (
            "error" if code in {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT} else "unreachable"
        )
        return Outcome(state, f"{_(LOCAL_ERRORS[code])} ({errno_text(code)})", None, attempts)
    reason = _("UDP exchange failed: {error}").format(error=errno_text(code))
    return Outcome("error", reason, None, attempts)
