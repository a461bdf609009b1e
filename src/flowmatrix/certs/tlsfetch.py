"""Read the certificate chain a TLS server presents, without trusting or verifying it.

Python's ``ssl`` module hands out only the leaf of an unverified connection before
Python 3.13 (``SSLObject.get_unverified_chain()``). On older versions the chain is read
from the handshake itself: OpenSSL still does the whole TLS handshake (through memory
BIOs), capped at TLS 1.2, while a copy of the server's bytes is kept. Up to TLS 1.2 the
server's ``Certificate`` message travels in clear before ``ChangeCipherSpec``, so the
chain is parsed from those records and checked against the leaf OpenSSL reports.
A server that refuses TLS 1.2 gets a second, uncapped handshake: then only the leaf is
known, and the result says so (``chain_complete`` is False).

The TCP connection is made by the probe engine of ``flowmatrix verify`` (so a failure
reads the same: closed, filtered, unreachable). Only a handshake is made: no
application data is sent or read.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from typing import Literal

from flowmatrix.i18n import _
from flowmatrix.probe.tcp import tcp_probe

TlsStatus = Literal["ok", "closed", "filtered", "unreachable", "unresolved", "error", "tls-error"]

#: What each status means (the JSON contract; see docs/certs.md). The TCP states are
#: those of the probe engine (``flowmatrix verify``).
STATUS_TEXT: dict[TlsStatus, str] = {
    "ok": "TLS handshake completed",
    "closed": "refused with a TCP reset (a rejecting firewall looks the same)",
    "filtered": "no answer in time (a firewall drops the packets, or the host is down)",
    "unreachable": "unreachable (no route, or ICMP administratively prohibited)",
    "unresolved": "the name could not be resolved",
    "error": "the probe could not be run from this host",
    "tls-error": "TCP connected, but the TLS handshake failed",
}

_RECORD_CHANGE_CIPHER_SPEC = 20
_RECORD_HANDSHAKE = 22
_HANDSHAKE_CERTIFICATE = 11
_READ_SIZE = 65536
NATIVE_CHAIN = sys.version_info >= (3, 13)
"""True when this Python reads unverified chains itself (3.13+)."""


@dataclass(frozen=True, slots=True)
class TlsFetch:
    """The outcome of one TLS handshake to ``host:port``: a failure is data, not an exception."""

    host: str
    """What was connected to: an address or a DNS name."""
    port: int
    server_name: str | None
    """SNI sent (None for a bare address)."""
    status: TlsStatus
    peer: str | None = None
    """Address actually connected to."""
    error: str | None = None
    """Why it failed, for anything but ``ok``."""
    tls_version: str | None = None
    cipher: str | None = None
    chain: tuple[bytes, ...] = ()
    """DER certificates as presented, leaf first."""
    chain_complete: bool = False
    """True when the whole presented chain was read; False when only the leaf is known."""
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _Failed(Exception):
    def __init__(self, status: TlsStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _context(cap_tls12: bool) -> ssl.SSLContext:
    """A client context that accepts any certificate and old servers: it only looks."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers("ALL:@SECLEVEL=0")
    if cap_tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def certificates_from_records(data: bytes) -> list[bytes] | None:
    """The certificate list of a clear-text (TLS <= 1.2) server flight, or None.

    ``data`` is the byte stream the server sent. Records are read up to the first
    ``ChangeCipherSpec`` (after which everything is encrypted); handshake messages may
    span records and records may hold several messages.
    """
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(data):
        content_type = data[pos]
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        body = data[pos + 5 : pos + 5 + length]
        if len(body) < length:
            break
        pos += 5 + length
        if content_type == _RECORD_CHANGE_CIPHER_SPEC:
            break
        if content_type == _RECORD_HANDSHAKE:
            handshake += body
    pos = 0
    while pos + 4 <= len(handshake):
        msg_type = handshake[pos]
        length = int.from_bytes(handshake[pos + 1 : pos + 4], "big")
        message = bytes(handshake[pos + 4 : pos + 4 + length])
        if len(message) < length:
            return None
        if msg_type == _HANDSHAKE_CERTIFICATE:
            return _certificate_list(message)
        pos += 4 + length
    return None


def _certificate_list(message: bytes) -> list[bytes] | None:
    if len(message) < 3:
        return None
    total = int.from_bytes(message[:3], "big")
    if total != len(message) - 3:
        return None
    certs: list[bytes] = []
    pos = 3
    while pos < len(message):
        if pos + 3 > len(message):
            return None
        length = int.from_bytes(message[pos : pos + 3], "big")
        cert = message[pos + 3 : pos + 3 + length]
        if len(cert) != length or length == 0:
            return None
        certs.append(cert)
        pos += 3 + length
    return certs


async def _handshake(
    sock: socket.socket, context: ssl.SSLContext, server_name: str | None
) -> tuple[ssl.SSLObject, bytes]:
    """Run the handshake over memory BIOs on a connected socket.

    Returns the TLS object and every byte the server sent during the handshake.
    """
    loop = asyncio.get_running_loop()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_name)
    received = bytearray()
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if pending:
                await loop.sock_sendall(sock, pending)
            data = await loop.sock_recv(sock, _READ_SIZE)
            if not data:
                raise _Failed(
                    "tls-error",
                    _(
                        "the server closed the connection during the TLS handshake "
                        "(not a TLS service on this port?)"
                    ),
                ) from None
            received += data
            incoming.write(data)
        except ssl.SSLError as exc:
            raise _Failed("tls-error", _ssl_reason(exc)) from None
    pending = outgoing.read()
    if pending:
        with contextlib.suppress(OSError):
            await loop.sock_sendall(sock, pending)
    return tls, bytes(received)


def _ssl_reason(exc: ssl.SSLError) -> str:
    reason = getattr(exc, "reason", None)
    text = str(reason).replace("_", " ").lower() if reason else str(exc)
    return _("TLS handshake failed: {reason}").format(reason=text)


async def resolve(host: str) -> list[str]:
    """Addresses of ``host`` (itself for an address), through the system resolver."""
    literal = _address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        why = _("cannot resolve {host}: {error}").format(host=host, error=exc.strerror or exc)
        raise _Failed("unresolved", why) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


async def _attempt(
    address: str, port: int, server_name: str | None, cap_tls12: bool, timeout: float
) -> tuple[ssl.SSLObject, bytes]:
    """TCP connect through the probe engine, then one handshake on that socket."""
    outcome, sock = await tcp_probe(address, port, timeout=timeout, keep_open=True)
    if sock is None:
        raise _Failed(outcome.state if outcome.state in STATUS_TEXT else "error", outcome.reason)
    try:
        async with asyncio.timeout(timeout):
            return await _handshake(sock, _context(cap_tls12), server_name)
    except TimeoutError:
        why = _("no TLS handshake within {timeout:g} s").format(timeout=timeout)
        raise _Failed("tls-error", why) from None
    except OSError as exc:
        why = _("connection lost during the TLS handshake: {error}").format(
            error=exc.strerror or exc
        )
        raise _Failed("tls-error", why) from None
    finally:
        sock.close()


def _sni(server_name: str | None) -> str | None:
    """SNI carries DNS names only: not addresses, not wildcards."""
    if not server_name or "*" in server_name or _address(server_name) is not None:
        return None
    return server_name.rstrip(".")


async def fetch_chain(
    host: str,
    port: int,
    *,
    server_name: str | None = None,
    timeout: float = 5.0,
) -> TlsFetch:
    """Connect to ``host:port``, handshake with SNI ``server_name``, return what was presented.

    ``timeout`` bounds each step: the TCP connect, then each handshake.
    """
    sni = _sni(server_name)
    started = time.monotonic()
    peer: str | None = None

    def elapsed() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    try:
        peer = (await resolve(host))[0]
        if NATIVE_CHAIN:
            tls, _received = await _attempt(peer, port, sni, False, timeout)
            chain, complete = _native_chain(tls), True
        else:
            tls, chain, complete = await _attempt_with_records(peer, port, sni, timeout)
    except _Failed as exc:
        return TlsFetch(
            host, port, sni, exc.status, peer=peer, error=exc.message, elapsed_ms=elapsed()
        )
    if not chain:
        return TlsFetch(
            host,
            port,
            sni,
            "tls-error",
            peer=peer,
            error=_("the server presented no certificate"),
            elapsed_ms=elapsed(),
        )
    cipher = tls.cipher()
    return TlsFetch(
        host,
        port,
        sni,
        "ok",
        peer=peer,
        tls_version=tls.version(),
        cipher=cipher[0] if cipher else None,
        chain=tuple(chain),
        chain_complete=complete,
        elapsed_ms=elapsed(),
    )


def _native_chain(tls: ssl.SSLObject) -> list[bytes]:
    if sys.version_info >= (3, 13):
        return list(tls.get_unverified_chain())
    leaf = tls.getpeercert(binary_form=True)
    return [leaf] if leaf else []


async def _attempt_with_records(
    address: str, port: int, sni: str | None, timeout: float
) -> tuple[ssl.SSLObject, list[bytes], bool]:
    """Python < 3.13: a TLS 1.2 handshake whose clear-text records give the whole chain."""
    try:
        tls, received = await _attempt(address, port, sni, True, timeout)
    except _Failed as exc:
        if exc.status != "tls-error":
            raise
        # The server may speak TLS 1.3 only: handshake again, uncapped; the leaf is all
        # this Python can show then.
        tls, _received = await _attempt(address, port, sni, False, timeout)
        leaf = tls.getpeercert(binary_form=True)
        return tls, ([leaf] if leaf else []), False
    leaf = tls.getpeercert(binary_form=True)
    chain = certificates_from_records(received)
    if chain and chain[0] == leaf:
        return tls, chain, True
    return tls, ([leaf] if leaf else []), False


def run_fetches(
    targets: list[tuple[str, int, str | None]],
    *,
    timeout: float = 5.0,
    concurrency: int = 16,
) -> list[TlsFetch]:
    """Fetch many chains concurrently; results in the order of ``targets``."""

    async def main() -> list[TlsFetch]:
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(host: str, port: int, name: str | None) -> TlsFetch:
            async with gate:
                return await fetch_chain(host, port, server_name=name, timeout=timeout)

        return list(await asyncio.gather(*(one(h, p, n) for h, p, n in targets)))

    return asyncio.run(main())
