"""The marked datagram of two-ended tests: verify sends it, listen recognises and answers it.

The probe is a valid RFC 5424 syslog line, so a real syslog server that receives it
just logs a readable line. It carries the flow id and a random nonce; the
acknowledgement repeats both, so verify never takes another datagram for the answer.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flowmatrix.i18n import _
from flowmatrix.probe.udp import Answer, UdpRequest

PROBE_RE = re.compile(rb"flowmatrix-probe flow=([A-Za-z0-9_.:-]{1,100}) nonce=([0-9a-f]{16})")
ACK_RE = re.compile(rb"^flowmatrix-ack flow=([A-Za-z0-9_.:-]{1,100}) nonce=([0-9a-f]{16})")


@dataclass(frozen=True, slots=True)
class Marker:
    flow: str
    nonce: str

    @classmethod
    def new(cls, flow: str) -> Marker:
        return cls(flow, secrets.token_hex(8))

    def probe(self) -> bytes:
        """The datagram (or the line on a TCP connection) that verify sends."""
        return (
            f"<14>1 - - flowmatrix - - - flowmatrix-probe flow={self.flow} nonce={self.nonce}\n"
        ).encode("ascii")

    def ack(self) -> bytes:
        """What listen sends back."""
        return f"flowmatrix-ack flow={self.flow} nonce={self.nonce}\n".encode("ascii")

    def is_ack(self, data: bytes) -> bool:
        found = ACK_RE.match(data)
        return found is not None and found.groups() == (
            self.flow.encode("ascii"),
            self.nonce.encode("ascii"),
        )


def find_probe(data: bytes) -> Marker | None:
    """The marker in a received datagram or line, if it carries one."""
    found = PROBE_RE.search(data[:1024])
    if found is None:
        return None
    return Marker(found.group(1).decode("ascii"), found.group(2).decode("ascii"))


def marker_request(flow: str, timeout: float, listen_hint: str) -> UdpRequest:
    """The two-ended UDP probe: only a ``flowmatrix listen`` at the far end answers it."""
    marker = Marker.new(flow)
    answered = _(
        "two-ended: 'flowmatrix listen' at the destination received the marked "
        "datagram and answered"
    )

    def recognise(data: bytes) -> Answer | None:
        if not marker.is_ack(data):
            return None
        return Answer(answered, {"marker": marker.nonce}, two_ended=True)

    return UdpRequest(
        marker.probe(),
        recognise,
        "open|filtered",
        _(
            "no answer in {timeout:g} s; this service never replies, so it needs a two-ended "
            "test: run '{command}' on the destination and verify again"
        ).format(timeout=timeout, command=listen_hint),
    )
