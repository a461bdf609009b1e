"""The DNS probe: a query with a random id; any reply with that id proves the path.

The query asks for the root NS records with recursion desired: harmless for any
server, and a REFUSED or SERVFAIL answer proves the path as well as NOERROR does.
"""

from __future__ import annotations

import secrets
import struct

from flowmatrix.i18n import _
from flowmatrix.probe.results import ReplyValue
from flowmatrix.probe.udp import Answer, UdpRequest

RCODES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
}
_HEADER = struct.Struct("!HHHHHH")
_FLAG_QR = 0x8000
_FLAG_RD = 0x0100
_FLAG_RA = 0x0080
_TYPE_NS = 2
_CLASS_IN = 1


def dns_query(query_id: int) -> bytes:
    """``. IN NS`` with recursion desired, as wire bytes."""
    header = _HEADER.pack(query_id, _FLAG_RD, 1, 0, 0, 0)
    return header + b"\x00" + struct.pack("!HH", _TYPE_NS, _CLASS_IN)


def parse_reply(data: bytes, query_id: int) -> dict[str, ReplyValue] | None:
    """Header facts of the reply to ``query_id``; None if ``data`` is not that reply."""
    if len(data) < _HEADER.size:
        return None
    reply_id, flags, _qd, answers, _ns, _ar = _HEADER.unpack_from(data)
    if reply_id != query_id or not flags & _FLAG_QR:
        return None
    rcode = flags & 0x000F
    return {
        "rcode": RCODES.get(rcode, str(rcode)),
        "recursion_available": bool(flags & _FLAG_RA),
        "answers": answers,
    }


def dns_request(timeout: float) -> UdpRequest:
    query_id = secrets.randbelow(0x10000)

    def recognise(data: bytes) -> Answer | None:
        reply = parse_reply(data, query_id)
        if reply is None:
            return None
        return Answer(answered.format(rcode=reply["rcode"]), reply)

    answered = _("the DNS server answered ({rcode}): the path is open")
    return UdpRequest(
        dns_query(query_id),
        recognise,
        "filtered",
        _(
            "no reply to a DNS query in {timeout:g} s (a DNS server answers every query, even "
            "with REFUSED): a firewall drops it, or the server ignores this source"
        ).format(timeout=timeout),
    )
