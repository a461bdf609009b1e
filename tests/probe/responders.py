"""Tiny real servers for the probe tests: DNS, NTP, RADIUS, TLS, on loopback or in a namespace.

Each runs in a thread on a socket it owns and stops when its context exits.
"""

from __future__ import annotations

import hashlib
import hmac
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

Handler = Callable[[bytes], bytes | None]


def ipv6_loopback() -> bool:
    """Whether ::1 can be bound here (some containers run without IPv6)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


NEEDS_IPV6 = "needs an IPv6 loopback (::1)"


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM, address: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, kind) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@contextmanager
def udp_server(handler: Handler, address: str = "127.0.0.1", port: int = 0) -> Iterator[int]:
    """Answer each datagram with ``handler(data)`` (None: stay silent); yields the port."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((address, port))
    stop = threading.Event()
    seen: list[bytes] = []

    def serve() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([sock], [], [], 0.05)
            if not ready:
                continue
            data, peer = sock.recvfrom(65535)
            seen.append(data)
            answer = handler(data)
            if answer is not None:
                sock.sendto(answer, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        sock.close()


def dns_handler(rcode: int = dns.rcode.REFUSED, records: dict[str, str] | None = None) -> Handler:
    """A DNS server: A/AAAA answers from ``records`` (name -> address), else ``rcode``."""

    def handle(data: bytes) -> bytes | None:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".")
        address = (records or {}).get(name)
        wanted = dns.rdatatype.AAAA if address and ":" in address else dns.rdatatype.A
        if address is not None and question.rdtype == wanted:
            reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", wanted, address))
        elif address is None:
            reply.set_rcode(rcode if records is None else dns.rcode.NXDOMAIN)
        return reply.to_wire()

    return handle


def ntp_handler(echo_origin: bool = True, stratum: int = 2) -> Handler:
    """An NTP server answering mode 3 requests with mode 4 replies."""

    def handle(data: bytes) -> bytes | None:
        if len(data) < 48 or data[0] & 7 != 3:
            return None
        now = int((time.time() + 2_208_988_800) * 2**32)
        reply = bytearray(48)
        reply[0] = (4 << 3) | 4
        reply[1] = stratum
        reply[12:16] = bytes([127, 0, 0, 1])
        origin = data[40:48] if echo_origin else struct.pack("!Q", 12345)
        reply[24:32] = origin
        struct.pack_into("!QQ", reply, 32, now, now)
        return bytes(reply)

    return handle


def radius_handler(secret: bytes, reply_secret: bytes | None = None) -> Handler:
    """A RADIUS server: Status-Server with a valid Message-Authenticator gets Access-Accept
    (its Response Authenticator computed with ``reply_secret``, default ``secret``)."""

    def handle(data: bytes) -> bytes | None:
        code, identifier, length, authenticator = struct.unpack_from("!BBH16s", data)
        attributes = data[20:length]
        position, signature = 0, None
        while position + 2 <= len(attributes):
            kind, size = attributes[position], attributes[position + 1]
            if kind == 80 and size == 18:
                signature = attributes[position + 2 : position + 18]
                zeroed = data[: 20 + position + 2] + bytes(16) + data[20 + position + 18 : length]
            position += max(size, 2)
        if code != 12 or signature is None:
            return None
        if not hmac.compare_digest(hmac.new(secret, zeroed, "md5").digest(), signature):
            return None  # RFC 5997: silently discard
        header = struct.pack("!BBH", 2, identifier, 20)
        response_auth = hashlib.md5(header + authenticator + (reply_secret or secret)).digest()
        return header + response_auth

    return handle


@contextmanager
def tls_server(context: ssl.SSLContext | None, address: str = "127.0.0.1") -> Iterator[int]:
    """A TLS server that completes handshakes and closes; yields the port. Without a
    context, a plain-text service that sends a banner instead (no TLS on that port)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, 0))
    listener.listen(16)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([listener], [], [], 0.05)
            if not ready:
                continue
            conn, _ = listener.accept()
            conn.settimeout(2.0)
            try:
                if context is None:
                    with conn:
                        conn.sendall(b"220 plain text service\r\n")
                        conn.recv(1024)
                else:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        listener.close()
