"""What an ns.conf says, as data: every item keeps the line it came from.

The records made once per line of a large ns.conf (servers, members, routes) are plain
slotted dataclasses, not frozen ones (a frozen one costs twice as much to build); none
is changed once read.

This is the appliance's own vocabulary (NSIP, SNIP, VIP, vservers, services, actions),
not the site's: ``deployment`` reads meaning into it, and a writer turns that into a
site file. Nothing secret is ever stored here (the lexer redacted it already).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flowmatrix.site import IPNetwork


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A server as ns.conf names it: an address, or a domain name."""

    address: str | None = None
    fqdn: str | None = None

    @property
    def text(self) -> str:
        return self.address or self.fqdn or "?"


@dataclass(frozen=True, slots=True)
class OwnAddress:
    """An address of the appliance: ``kind`` is NSIP, SNIP, VIP, MIP, CLIP, GSLBsiteIP..."""

    address: str
    kind: str
    network: IPNetwork | None
    """The subnet it sits in (address and netmask), when the netmask is given."""
    line: int


@dataclass(slots=True)
class Server:
    name: str
    endpoint: Endpoint
    line: int


@dataclass(slots=True)
class Member:
    """A server of a service or service group, on a port."""

    server: str
    port: int
    line: int


@dataclass(slots=True)
class Service:
    """``add service`` (one member) or ``add serviceGroup`` (members bound later)."""

    name: str
    protocol: str
    line: int
    members: list[Member] = field(default_factory=list)
    group: bool = False


@dataclass(slots=True)
class VServer:
    """A virtual server: ``kind`` is lb, cs or vpn (the Gateway)."""

    kind: str
    name: str
    protocol: str
    address: str | None
    port: int | None
    line: int
    bound: list[tuple[str, int]] = field(default_factory=list)
    """Names of bound services, service groups (lb) or lb vservers (cs), with the line."""


@dataclass(frozen=True, slots=True)
class UrlRef:
    """A URL the configuration points at (STA server, StoreFront), split up."""

    url: str
    scheme: str
    endpoint: Endpoint
    port: int
    line: int
    origin: str
    """The command that holds it, e.g. ``bind vpn vserver GW -staServer``."""


@dataclass(frozen=True, slots=True)
class AuthServer:
    """An LDAP or RADIUS action's server."""

    kind: str
    """ldap or radius"""
    name: str
    endpoint: Endpoint
    port: int
    security: str
    """LDAP: PLAINTEXT, TLS or SSL; RADIUS: ''."""
    line: int


@dataclass(frozen=True, slots=True)
class Infra:
    """A DNS name server, an NTP server or a syslog action's server."""

    kind: str
    """dns, ntp or syslog"""
    endpoint: Endpoint
    port: int
    transport: str
    """udp, tcp or udp+tcp"""
    line: int
    name: str = ""


@dataclass(slots=True)
class Route:
    network: IPNetwork
    gateway: str
    line: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A line that could not be taken, and why (never its text: it may hold a secret)."""

    line: int
    col: int
    message: str


@dataclass
class Inventory:
    """Everything the importer took from one ns.conf."""

    file: str
    hostname: str | None = None
    addresses: list[OwnAddress] = field(default_factory=list)
    aaa: tuple[str, int] | None = None
    servers: dict[str, Server] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    vservers: dict[str, VServer] = field(default_factory=dict)
    sta: list[UrlRef] = field(default_factory=list)
    storefront: list[UrlRef] = field(default_factory=list)
    auth: list[AuthServer] = field(default_factory=list)
    infra: list[Infra] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    dns_records: dict[str, list[str]] = field(default_factory=dict)
    lines: int = 0
    commands: int = 0
    taken: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    """Commands flowmatrix does not need, by their command words."""
    problems: list[Problem] = field(default_factory=list)

    def own(self, kind: str) -> list[OwnAddress]:
        return [a for a in self.addresses if a.kind == kind]

    @property
    def nsip(self) -> OwnAddress | None:
        found = self.own("NSIP")
        return found[0] if found else None

    def server_endpoint(self, name: str) -> Endpoint | None:
        server = self.servers.get(name)
        return server.endpoint if server is not None else None

    def backends(self, vserver: VServer) -> list[tuple[Server, int, int]]:
        """(server, port, line) behind an lb vserver (through a cs vserver's lb ones too)."""
        found: list[tuple[Server, int, int]] = []
        seen: set[str] = set()

        def walk(target: VServer) -> None:
            if target.name in seen:
                return
            seen.add(target.name)
            for name, _ignored in target.bound:
                if name in self.vservers:
                    walk(self.vservers[name])
                    continue
                service = self.services.get(name)
                if service is None:
                    continue
                for member in service.members:
                    server = self.servers.get(member.server)
                    if server is not None:
                        found.append((server, member.port, member.line))

        walk(vserver)
        return found
