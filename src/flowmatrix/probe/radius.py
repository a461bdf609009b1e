"""The RADIUS probe: Status-Server (RFC 5997), signed with the shared secret.

A RADIUS server silently drops what it cannot authenticate, so the probe needs the
secret: the request carries a Message-Authenticator (HMAC-MD5 over the packet, RFC 3579).
The reply is checked against the secret too: a wrong secret is a finding of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

from flowmatrix.i18n import _
from flowmatrix.probe.results import ReplyValue
from flowmatrix.probe.udp import Answer, UdpRequest

STATUS_SERVER = 12
CODES = {2: "Access-Accept", 3: "Access-Reject", 5: "Accounting-Response", 11: "Access-Challenge"}
MESSAGE_AUTHENTICATOR = 80
_HEADER = struct.Struct("!BBH16s")


def status_server(identifier: int, authenticator: bytes, secret: bytes) -> bytes:
    """A Status-Server packet with its Message-Authenticator."""
    attribute = bytes([MESSAGE_AUTHENTICATOR, 18]) + bytes(16)
    length = _HEADER.size + len(attribute)
    unsigned = _HEADER.pack(STATUS_SERVER, identifier, length, authenticator) + attribute
    signature = hmac.new(secret, unsigned, "md5").digest()
    return unsigned[:-16] + signature


def response_authenticator_ok(data: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    """RFC 2865: MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret)."""
    _code, _identifier, length, received = _HEADER.unpack_from(data)
    expected = hashlib.md5(
        data[:4] + request_authenticator + data[_HEADER.size : length] + secret,
        usedforsecurity=False,
    ).digest()
    return hmac.compare_digest(expected, received)


def parse_reply(
    data: bytes, identifier: int, request_authenticator: bytes, secret: bytes
) -> dict[str, ReplyValue] | None:
    """Facts of the reply to our request; None if ``data`` is not one."""
    if len(data) < _HEADER.size:
        return None
    code, reply_id, length, _authenticator = _HEADER.unpack_from(data)
    if reply_id != identifier or code not in CODES or not _HEADER.size <= length <= len(data):
        return None
    return {
        "code": CODES[code],
        "authenticator_ok": response_authenticator_ok(data, request_authenticator, secret),
    }


def radius_request(timeout: float, secret: bytes) -> UdpRequest:
    identifier = secrets.randbelow(256)
    authenticator = secrets.token_bytes(16)

    def recognise(data: bytes) -> Answer | None:
        reply = parse_reply(data, identifier, authenticator, secret)
        if reply is None:
            return None
        findings: tuple[str, ...] = ()
        if not reply["authenticator_ok"]:
            findings = (
                _(
                    "the RADIUS reply does not verify with the given secret: "
                    "the shared secret differs from the server's"
                ),
            )
        reason = _("the RADIUS server answered ({code}): the path is open").format(
            code=reply["code"]
        )
        return Answer(reason, reply, findings)

    return UdpRequest(
        status_server(identifier, authenticator, secret),
        recognise,
        "filtered",
        _(
            "no reply to a RADIUS Status-Server in {timeout:g} s: a firewall drops it, or the "
            "server ignores it (this source is not one of its RADIUS clients, the shared secret "
            "differs, or Status-Server is off: FreeRADIUS 'status_server = yes')"
        ).format(timeout=timeout),
    )
