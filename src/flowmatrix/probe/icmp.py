"""What a failed socket says: the errno, and the ICMP message behind it when there is one.

With ``IP_RECVERR`` / ``IPV6_RECVERR`` set, Linux queues the ICMP error that ended a
connect (or that answered a UDP datagram) on the socket's error queue, with its type,
code and the address that sent it. That tells "administratively prohibited by a
firewall" from "host unreachable", which the errno alone (EHOSTUNREACH for both) cannot.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from dataclasses import dataclass

from flowmatrix.i18n import N_, _

SOL_IP = 0
SOL_IPV6 = 41
IP_RECVERR = 11
IPV6_RECVERR = 25
SO_EE_ORIGIN_LOCAL = 1
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3
_EXTENDED_ERR = struct.Struct("=IBBBBII")
_ERRQUEUE_FLAGS = int(socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)

#: ICMPv4 "destination unreachable" (type 3) codes.
ICMP4_UNREACH = {
    0: N_("network unreachable"),
    1: N_("host unreachable"),
    2: N_("protocol unreachable"),
    3: N_("port unreachable"),
    4: N_("fragmentation needed"),
    5: N_("source route failed"),
    6: N_("destination network unknown"),
    7: N_("destination host unknown"),
    8: N_("source host isolated"),
    9: N_("network administratively prohibited"),
    10: N_("host administratively prohibited"),
    11: N_("network unreachable for type of service"),
    12: N_("host unreachable for type of service"),
    13: N_("communication administratively prohibited"),
    14: N_("host precedence violation"),
    15: N_("precedence cutoff in effect"),
}
#: ICMPv6 "destination unreachable" (type 1) codes.
ICMP6_UNREACH = {
    0: N_("no route to destination"),
    1: N_("communication administratively prohibited"),
    2: N_("beyond scope of source address"),
    3: N_("address unreachable"),
    4: N_("port unreachable"),
    5: N_("source address failed ingress/egress policy"),
    6: N_("reject route to destination"),
}
_PROHIBITED = {(4, 9), (4, 10), (4, 13), (6, 1), (6, 5), (6, 6)}


@dataclass(frozen=True, slots=True)
class IcmpError:
    """An ICMP error read from a socket's error queue."""

    version: int
    """4 or 6."""
    type: int
    code: int
    offender: str | None
    """The address that sent the ICMP message (the destination itself, or a device on the path)."""

    @property
    def is_port_unreachable(self) -> bool:
        return (self.version, self.type, self.code) in {(4, 3, 3), (6, 1, 4)}

    @property
    def is_prohibited(self) -> bool:
        """The sender says a policy (a firewall) refuses the packet."""
        return self._unreachable and (self.version, self.code) in _PROHIBITED

    @property
    def _unreachable(self) -> bool:
        return (self.version == 4 and self.type == 3) or (self.version == 6 and self.type == 1)

    @property
    def meaning(self) -> str:
        """E.g. 'ICMP destination unreachable: communication administratively prohibited (3/13)'."""
        if self._unreachable:
            table = ICMP4_UNREACH if self.version == 4 else ICMP6_UNREACH
            known = table.get(self.code)
            text = _(known) if known else _("code {code}").format(code=self.code)
            label = "ICMP" if self.version == 4 else "ICMPv6"
            return _("{label} destination unreachable: {text} ({type}/{code})").format(
                label=label, text=text, type=self.type, code=self.code
            )
        if (self.version, self.type) in {(4, 11), (6, 3)}:
            return _(
                "ICMP time exceeded ({type}/{code}): a routing loop or a TTL too small"
            ).format(type=self.type, code=self.code)
        return _("ICMP type {type} code {code}").format(type=self.type, code=self.code)

    def describe(self, destination: str) -> str:
        """The meaning and who sent it."""
        if self.offender is None:
            return self.meaning
        if self.offender == destination:
            return _("{meaning} from the destination itself").format(meaning=self.meaning)
        return _("{meaning} from {offender} (a device on the path)").format(
            meaning=self.meaning, offender=self.offender
        )


def enable_error_queue(sock: socket.socket, family: int | None = None) -> None:
    """Ask the kernel to queue ICMP errors on ``sock`` (IP_RECVERR / IPV6_RECVERR)."""
    if (sock.family if family is None else family) == socket.AF_INET6:
        sock.setsockopt(SOL_IPV6, IPV6_RECVERR, 1)
    else:
        sock.setsockopt(SOL_IP, IP_RECVERR, 1)


def read_icmp_error(sock: socket.socket) -> IcmpError | None:
    """The last ICMP error queued on ``sock``, or None (a TCP reset or a local error queue nothing)."""
    found: IcmpError | None = None
    for _attempt in range(8):
        try:
            _data, ancdata, _flags, _address = sock.recvmsg(512, 1024, _ERRQUEUE_FLAGS)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            break
        for level, kind, data in ancdata:
            parsed = _parse_extended_error(level, kind, data)
            if parsed is not None:
                found = parsed
    return found


def _parse_extended_error(level: int, kind: int, data: bytes) -> IcmpError | None:
    if (level, kind) not in {(SOL_IP, IP_RECVERR), (SOL_IPV6, IPV6_RECVERR)}:
        return None
    if len(data) < _EXTENDED_ERR.size:
        return None
    _errno, origin, icmp_type, icmp_code, _pad, _info, _data = _EXTENDED_ERR.unpack_from(data)
    if origin not in {SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6}:
        return None
    version = 4 if origin == SO_EE_ORIGIN_ICMP else 6
    return IcmpError(version, icmp_type, icmp_code, _offender(data[_EXTENDED_ERR.size :]))


def _offender(raw: bytes) -> str | None:
    if len(raw) < 2:
        return None
    family = struct.unpack_from("=H", raw)[0]
    if family == socket.AF_INET and len(raw) >= 8:
        return socket.inet_ntop(socket.AF_INET, raw[4:8])
    if family == socket.AF_INET6 and len(raw) >= 24:
        return socket.inet_ntop(socket.AF_INET6, raw[8:24])
    return None


#: Errors a probe gets from this host itself, with what they mean for the flow
#: (``_()`` them where they are shown).
LOCAL_ERRORS = {
    errno.EPERM: N_("refused by this host's own firewall (the OUTPUT chain) or a security policy"),
    errno.EACCES: N_("refused by this host's own firewall (the OUTPUT chain) or a security policy"),
    errno.ENETUNREACH: N_("no route to that network from this host"),
    errno.EHOSTUNREACH: N_("no route to the host, or it did not answer ARP / neighbour discovery"),
    errno.EHOSTDOWN: N_("the host is down (no answer to ARP / neighbour discovery)"),
    errno.EADDRNOTAVAIL: N_("the source address is not configured on this host"),
    errno.EAFNOSUPPORT: N_("this address family is not available on this host"),
    errno.ENONET: N_("the host is not on the network"),
}


def errno_text(code: int) -> str:
    """``ECONNREFUSED (Connection refused)`` style text."""
    name = errno.errorcode.get(code, str(code))
    return f"{name} ({os.strerror(code)})"
