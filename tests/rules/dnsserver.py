"""A small authoritative DNS responder on loopback for the ``--resolve`` tests.

It answers A and AAAA questions from a table (name -> addresses), NXDOMAIN for other
names, or nothing at all (``silent``) to play a resolver that does not answer.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

TTL = 300


@contextmanager
def dns_server(
    records: Mapping[str, Sequence[str]], *, silent: bool = False, address: str = "127.0.0.1"
) -> Iterator[str]:
    """Serve ``records`` on a free UDP port; yields ``ADDR:PORT`` for ``--resolver``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 0))
    stop = threading.Event()

    def answer(data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        if name not in records:
            reply.set_rcode(dns.rcode.NXDOMAIN)
            return reply.to_wire()
        family = ":" if question.rdtype == dns.rdatatype.AAAA else "."
        wanted = [a for a in records[name] if family in a]
        if wanted and question.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            reply.answer.append(
                dns.rrset.from_text_list(question.name, TTL, "IN", question.rdtype, wanted)
            )
        return reply.to_wire()

    def serve() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([sock], [], [], 0.05)
            if ready:
                data, peer = sock.recvfrom(65535)
                if not silent:
                    sock.sendto(answer(data), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"{address}:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        sock.close()
