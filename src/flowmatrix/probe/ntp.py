"""The NTP probe: a 48-byte client request (mode 3); a mode 4 reply proves the path.

The reply must echo our transmit timestamp as its origin timestamp, so a stray datagram
is never taken for an answer. A kiss-o'-death (stratum 0, e.g. RATE or DENY) still
proves that the packets pass.
"""

from __future__ import annotations

import secrets
import struct
import time

from flowmatrix.i18n import _
from flowmatrix.probe.results import ReplyValue
from flowmatrix.probe.udp import Answer, UdpRequest

NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
_MODE_CLIENT = 3
_MODE_SERVER = 4
_VERSION = 4


def to_ntp(timestamp: float) -> int:
    """A Unix time as a 64-bit NTP timestamp."""
    return int((timestamp + NTP_EPOCH_OFFSET) * 2**32) & 0xFFFF_FFFF_FFFF_FFFF


def from_ntp(value: int) -> float:
    return value / 2**32 - NTP_EPOCH_OFFSET


def ntp_request_packet(transmit: int) -> bytes:
    packet = bytearray(48)
    packet[0] = (_VERSION << 3) | _MODE_CLIENT
    struct.pack_into("!Q", packet, 40, transmit)
    return bytes(packet)


def parse_reply(data: bytes, transmit: int, received: float) -> dict[str, ReplyValue] | None:
    """Facts of the server's reply to the request sent at ``transmit``; None if it is not one."""
    if len(data) < 48 or data[0] & 0x07 != _MODE_SERVER:
        return None
    origin, server_received, server_sent = struct.unpack_from("!QQQ", data, 24)
    if origin != transmit:
        return None
    stratum = data[1]
    reference = data[12:16]
    reply: dict[str, ReplyValue] = {
        "version": (data[0] >> 3) & 0x07,
        "stratum": stratum,
        "leap": data[0] >> 6,
    }
    if stratum == 0:
        reply["kiss_code"] = reference.decode("ascii", "replace").strip("\x00")
    elif stratum == 1:
        reply["reference"] = reference.decode("ascii", "replace").strip("\x00")
    else:
        reply["reference"] = ".".join(str(b) for b in reference)
    if stratum != 0 and server_sent:
        sent = from_ntp(origin)
        offset = ((from_ntp(server_received) - sent) + (from_ntp(server_sent) - received)) / 2
        reply["offset_ms"] = round(offset * 1000.0, 3)
    return reply


def ntp_request(timeout: float) -> UdpRequest:
    # the low bits of the fraction are random: they identify our request
    transmit = (to_ntp(time.time()) & ~0xFFFF) | secrets.randbelow(0x10000)

    def recognise(data: bytes) -> Answer | None:
        reply = parse_reply(data, transmit, time.time())
        if reply is None:
            return None
        if "kiss_code" in reply:
            reason = _("the NTP server answered with kiss code {code}: the path is open").format(
                code=reply["kiss_code"]
            )
        else:
            reason = _("the NTP server answered (stratum {stratum}): the path is open").format(
                stratum=reply["stratum"]
            )
        findings: tuple[str, ...] = ()
        if reply.get("leap") == 3 and "kiss_code" not in reply:
            findings = (_("the NTP server is not synchronised (leap indicator 3)"),)
        return Answer(reason, reply, findings)

    return UdpRequest(
        ntp_request_packet(transmit),
        recognise,
        "filtered",
        _(
            "no reply to an NTP client request in {timeout:g} s: a firewall drops it, "
            "or the server does not serve this source"
        ).format(timeout=timeout),
    )
