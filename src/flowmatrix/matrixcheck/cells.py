"""Cells as sets: addresses, networks, ranges, hosts and roles of the site; protocols; ports.

An address cell may hold several values (comma, semicolon, new line, or blanks between
addresses): ``10.0.0.1``, ``10.0.0.0/24``, ``10.0.0.1-10.0.0.9``, a host of the site, a
role (id, name or any alias of the catalog), an FQDN of the plan, ``any`` / ``toutes``,
or flowmatrix's own ``Role (host1, host2)`` and ``any (names: ...)``. A port cell: ``443``, ``80/443``,
``8080-8090``, ``8080 à 8090``, ``tcp/53``, ``UDP 123``, ``53 (TCP/UDP)``, ``any``.
Anything else is bad input, reported at its cell.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from flowmatrix.i18n import N_, _
from flowmatrix.model import Plan

#: (IP version, first, last) as integers: containment is two comparisons.
Interval = tuple[int, int, int]
ALL_PORTS = ((1, 65535),)
_ANY_WORDS = frozenset({"any", "toutes", "tous", "tout", "all", "*", "n importe", "quelconque"})
_ANY_NETS = frozenset({"0.0.0.0/0", "::/0"})
_SPLIT = re.compile(r"[,;\n\r]+")
#: ``any (names: fcm.googleapis.com, ...)``: flowmatrix's plan CSV for an end that is any
#: address by choice (the names say what it is for; the addresses are any).
_ANY_WITH_REMARK = re.compile(r"(?P<word>[^()]+?)\s*\(.*\)", re.DOTALL)
_PORT_TOKEN = re.compile(
    r"(?P<lo>\d+)\s*(?:-|–|à|a|to)\s*(?P<hi>\d+)|(?P<one>\d+)|(?P<word>[^\W\d_]+)|(?P<other>[^\s/+()&])",
    re.UNICODE,
)
_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "ip": "any", "any": "any"}
_IGNORED_WORDS = frozenset({"port", "ports", "et", "and", "ou", "or", "protocole", "protocol"})


class CellError(ValueError):
    """A cell that is not what its column needs; the caller adds where it is."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def interval(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Interval:
    return (network.version, int(network.network_address), int(network.broadcast_address))


@dataclass(frozen=True, slots=True)
class AddressSet:
    """What an address cell covers."""

    any: bool = False
    intervals: tuple[Interval, ...] = ()
    hosts: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    fqdns: frozenset[str] = frozenset()

    def holds(self, item: Interval) -> bool:
        version, lo, hi = item
        return any(v == version and a <= lo and hi <= b for v, a, b in self.intervals)


class Names:
    """The site's and catalog's names a cell may use, from one plan."""

    def __init__(self, plan: Plan) -> None:
        self.hosts: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self.fqdns: dict[str, str] = {}
        for host in plan.site.hosts:
            self.hosts[host.name.lower()] = host.name
            if host.fqdn:
                self.hosts.setdefault(host.fqdn.lower(), host.name)
        for role in plan.catalog.roles:
            for spelling in (role.id, role.name.en, role.name.fr, *role.aliases):
                self.roles.setdefault(spelling.lower(), role.id)
        for flow in plan.flows:
            for end in (flow.source, flow.destination):
                self.roles.setdefault(end.role_name.lower(), end.role)
                for ref in end.hosts:
                    if ref.fqdn:
                        self.fqdns.setdefault(ref.fqdn.lower(), ref.fqdn)


def _split_outside_parentheses(text: str) -> list[str]:
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and ch in ",;\n\r":
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _range(text: str) -> list[Interval] | None:
    if "-" not in text:
        return None
    first, _sep, last = (p.strip() for p in text.partition("-"))
    try:
        lo, hi = ipaddress.ip_address(first), ipaddress.ip_address(last)
    except ValueError:
        return None
    if lo.version != hi.version or int(lo) > int(hi):
        raise CellError(
            _("address range {text!r} runs backwards").format(text=text),
            _("write the lower address first"),
        )
    return [(lo.version, int(lo), int(hi))]


def parse_addresses(text: str, names: Names) -> AddressSet:
    """An address cell as a set; raises CellError for a value that is none of the kinds."""
    any_address = False
    intervals: list[Interval] = []
    hosts: set[str] = set()
    roles: set[str] = set()
    fqdns: set[str] = set()
    for item in _split_outside_parentheses(text):
        words = item.split()
        if len(words) > 1 and all(_network(w) is not None or _range(w) for w in words):
            pieces = words
        else:
            pieces = [item]
        for piece in pieces:
            lowered = piece.lower()
            if _is_any(lowered):
                any_address = True
                continue
            network = _network(piece)
            if network is not None:
                intervals.append(interval(network))
                continue
            spans = _range(piece)
            if spans is not None:
                intervals.extend(spans)
                continue
            named = _named(piece, names)
            if named is None:
                raise CellError(
                    _(
                        "{value!r} is not an address, a network, a range, nor a host or role "
                        "of the site"
                    ).format(value=piece),
                    _(
                        "write an IP address, a CIDR (10.0.0.0/24), a range "
                        "(10.0.0.1-10.0.0.9), 'any', or a host name of the site"
                    ),
                )
            kind, value = named
            {"host": hosts, "role": roles, "fqdn": fqdns}[kind].add(value)
    return AddressSet(
        any_address, tuple(intervals), frozenset(hosts), frozenset(roles), frozenset(fqdns)
    )


def _is_any(lowered: str) -> bool:
    if lowered in _ANY_WORDS or lowered in _ANY_NETS:
        return True
    remark = _ANY_WITH_REMARK.fullmatch(lowered)
    return remark is not None and remark.group("word") in _ANY_WORDS


def _named(piece: str, names: Names) -> tuple[str, str] | None:
    lowered = piece.lower().rstrip(".")
    if lowered in names.hosts:
        return "host", names.hosts[lowered]
    if lowered in names.fqdns:
        return "fqdn", names.fqdns[lowered]
    if lowered in names.roles:
        return "role", names.roles[lowered]
    match = re.fullmatch(r"(.+?)\s*\((.+)\)", piece)
    if match:  # "Role name (host1, host2)", as flowmatrix's own change request writes
        inner = [p.strip().lower() for p in match.group(2).split(",")]
        if inner and all(p in names.hosts for p in inner):
            return "host", ",".join(names.hosts[p] for p in inner)
        return _named(match.group(1), names)
    return None


def expand_hosts(found: AddressSet) -> AddressSet:
    """``host`` entries joined by commas (from ``Role (h1, h2)``) as separate hosts."""
    if not any("," in h for h in found.hosts):
        return found
    hosts = frozenset(part for h in found.hosts for part in h.split(","))
    return AddressSet(found.any, found.intervals, hosts, found.roles, found.fqdns)


def parse_protocols(text: str) -> frozenset[str]:
    found: set[str] = set()
    for word in re.split(r"[\s/+,;&]+|\bet\b|\band\b", text.lower()):
        if not word:
            continue
        protocol = _PROTOCOLS.get(word)
        if protocol is None:
            raise CellError(
                _("{value!r} is not a protocol").format(value=word),
                _("write TCP, UDP, TCP/UDP or ICMP"),
            )
        found.update(("tcp", "udp") if protocol == "any" else (protocol,))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One part of a port cell: these ports, with these protocols (empty: not said)."""

    ranges: tuple[tuple[int, int], ...]
    protocols: frozenset[str]


def parse_ports(text: str) -> list[PortSpec]:
    """A port cell as parts; raises CellError for anything that is not a port."""
    specs: list[PortSpec] = []
    pending: set[str] = set()
    for segment in filter(None, (s.strip() for s in _SPLIT.split(text))):
        ranges: list[tuple[int, int]] = []
        protocols: set[str] = set()
        for match in _PORT_TOKEN.finditer(segment):
            if match.group("lo"):
                lo, hi = int(match.group("lo")), int(match.group("hi"))
                ranges.append(_checked(lo, hi, match.group(0)))
            elif match.group("one"):
                port = int(match.group("one"))
                ranges.append(_checked(port, port, match.group(0)))
            elif match.group("word"):
                word = match.group("word").lower()
                if word in _PROTOCOLS:
                    protocol = _PROTOCOLS[word]
                    protocols.update(
                        ("tcp", "udp") if protocol == "any" and ranges else (protocol,)
                    )
                elif word in _ANY_WORDS:
                    ranges.append(ALL_PORTS[0])
                elif word not in _IGNORED_WORDS:
                    raise _not_a_port(match.group(0))
            else:
                if match.group(0) == "*":
                    ranges.append(ALL_PORTS[0])
                    continue
                raise _not_a_port(match.group(0))
        if protocols and "any" in protocols:
            protocols.discard("any")
            protocols.update(("tcp", "udp"))
        if not ranges:
            pending |= protocols
            continue
        specs.append(PortSpec(tuple(ranges), frozenset(protocols | pending)))
        pending = set()
    if pending and specs:  # "443 80 / TCP" on two lines: the protocol closes the cell
        specs = [PortSpec(s.ranges, s.protocols or frozenset(pending)) for s in specs]
    if not specs:
        raise CellError(_("{value!r} holds no port").format(value=text), _(_PORT_HINT))
    return specs


_PORT_HINT = N_(
    "write a port (443), a list (80/443, 80, 443), a range (8080-8090), or tcp/53, UDP 123"
)


def _not_a_port(value: str) -> CellError:
    return CellError(_("{value!r} is not a port").format(value=value), _(_PORT_HINT))


def _checked(lo: int, hi: int, text: str) -> tuple[int, int]:
    if not (1 <= lo <= 65535 and 1 <= hi <= 65535):
        raise CellError(
            _("port {text!r} is outside 1-65535").format(text=text),
            _("ports are numbered 1 to 65535"),
        )
    if lo > hi:
        raise CellError(
            _("port range {text!r} runs backwards").format(text=text),
            _("write the lower port first"),
        )
    return lo, hi
