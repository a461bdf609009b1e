"""TCP connect probes: open (handshake), closed (reset), filtered (silence), unreachable (ICMP).

This module says what a connect's answer means (``classify``) and runs one probe
(``tcp_probe``); ``tcpscan`` runs thousands at once. Unanswered probes are re-sent on a
fresh socket, spaced evenly inside the timeout: a lost SYN, or an ICMP answer the
sender's kernel rate-limited (about 6 per burst per destination), gets another chance
without making the run longer than one timeout.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import TYPE_CHECKING

from flowmatrix.i18n import N_, _, ngettext
from flowmatrix.probe.icmp import LOCAL_ERRORS, IcmpError, errno_text
from flowmatrix.probe.results import Outcome, State

if TYPE_CHECKING:
    from flowmatrix.probe.pacing import PacketGate

CLOSED_NOTE = N_(
    "a firewall that rejects with a TCP reset looks exactly the same, "
    "so closed is not proof that the firewall lets the flow through"
)


def sockaddr(address: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return family, (address, port)


async def tcp_probe(
    address: str,
    port: int,
    *,
    timeout: float,
    retries: int = 1,
    source_address: str | None = None,
    keep_open: bool = False,
    gate: PacketGate | None = None,
) -> tuple[Outcome, socket.socket | None]:
    """Connect to ``address:port``; the socket is returned only if open and ``keep_open``.

    One probe on its own; a run of many goes through ``tcpscan.TcpScan`` directly.
    """
    from flowmatrix.probe.tcpscan import TcpRequest, TcpScan

    found: list[tuple[Outcome, socket.socket | None]] = []
    scan = TcpScan(
        asyncio.get_running_loop(),
        timeout=timeout,
        retries=retries,
        concurrency=1,
        gate=gate,
        on_done=lambda _index, outcome, sock: found.append((outcome, sock)),
    )
    request = TcpRequest(address, port, source_address, keep_open)
    try:
        await scan.run([(0, request)])
    except BaseException:
        for _outcome, sock in found:
            if sock is not None:
                sock.close()
        raise
    return found[0]


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
        reason = _("TCP handshake completed with {where}").format(where=_where(address, port))
        return Outcome("open", reason, latency_ms, attempts)
    if code == errno.ETIMEDOUT:
        reason = ngettext(
            "no answer to {n} connection attempt in {timeout:g} s: a firewall drops the "
            "packets silently, or the host is down",
            "no answer to {n} connection attempts in {timeout:g} s: a firewall drops the "
            "packets silently, or the host is down",
            attempts if attempts > 1 else 1,
        ).format(n=attempts, timeout=timeout)
        return Outcome("filtered", reason, None, attempts)
    if icmp is not None:
        text = icmp.describe(address)
        if icmp.is_port_unreachable:
            reason = _(
                "{icmp}: a firewall rejects the connection (a host without a listener "
                "answers a TCP connect with a reset, not ICMP)"
            ).format(icmp=text)
        elif icmp.is_prohibited:
            reason = _("{icmp}: a firewall refuses the flow").format(icmp=text)
        else:
            reason = text
        return Outcome("unreachable", reason, latency_ms, attempts)
    if code == errno.ECONNREFUSED:
        reason = _("refused with a TCP reset (RST): nothing listens on {where}; {note}").format(
            where=_where(address, port), note=_(CLOSED_NOTE)
        )
        return Outcome("closed", reason, latency_ms, attempts)
    if code in LOCAL_ERRORS:
        state: State = (
            "error" if code in {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT} else "unreachable"
        )
        reason = f"{_(LOCAL_ERRORS[code])} ({errno_text(code)})"
        return Outcome(state, reason, latency_ms, attempts)
    if code in {errno.EAGAIN, errno.EMFILE, errno.ENFILE, errno.ENOBUFS}:
        reason = _("this host ran out of resources: {error}; lower --concurrency").format(
            error=errno_text(code)
        )
        return Outcome("error", reason, None, attempts)
    reason = _("connect failed: {error}").format(error=errno_text(code))
    return Outcome("error", reason, latency_ms, attempts)


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
