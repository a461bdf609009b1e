"""Inventory -> ``Deployment``: what an ns.conf means for the flow matrix.

Independent of the site-file format: the roles of the back-end servers (XenMobile behind
load balancing, StoreFront, STA controllers, LDAP, RADIUS, DNS, NTP, syslog), the
NetScaler's own addresses, how XenMobile is published, the features and port choices
the configuration implies, and the networks around the appliance. A writer turns this
into a site file of one format version.

Reading rules (docs/import.md says them for users):

- XenMobile: the servers behind an lb vserver named ``_XM_...`` (the XenMobile wizard's
  names), or behind an lb vserver on 8443 or whose services listen on 8443, and behind
  any 443 lb vserver that balances the same servers; XenMobile is then published
  through NetScaler load balancing.
- StoreFront: the host of ``-storefronturl`` / ``-wihome``; when that name or address is
  the VIP of an lb/cs vserver (directly or through ``add dns addRec``), the servers behind it.
- STA: each ``-staServer`` URL is a XenApp/XenDesktop controller, its port the STA port.
- LDAP: 389 plain (or StartTLS), 636 or ``-secType SSL`` LDAPS, 3268 Global Catalog,
  3269 Global Catalog over SSL.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass, field

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.importers.netscaler.items import Endpoint, Inventory, Route, Server, VServer
from flowmatrix.site import NAME_PATTERN

_NAME = re.compile(NAME_PATTERN)
_XM_PREFIX = "_xm_"
XENMOBILE_PORTS = (8443, 443)
_STA_CHOICES = (80, 8080, 443)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an item comes from: a line of ns.conf and the command there (no values)."""

    line: int
    what: str

    def text(self) -> str:
        return f"ns.conf:{self.line} {self.what}"


@dataclass
class BackEnd:
    """A server the NetScaler talks to, in one catalog role."""

    role: str
    name: str
    endpoint: Endpoint
    origins: list[Origin] = field(default_factory=list)
    ports: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Publication:
    """XenMobile published through a NetScaler lb vserver."""

    vserver: str
    address: str
    port: int
    protocol: str
    backend_ports: tuple[int, ...]
    origin: Origin


@dataclass(frozen=True, slots=True)
class NetAddress:
    address: str
    origin: Origin


@dataclass(frozen=True, slots=True)
class Network:
    """A network around the appliance: its own subnets, or one a route leads to."""

    cidrs: tuple[str, ...]
    kind: str
    """own (a subnet of the NetScaler's addresses), routed, or default (the Internet)."""
    gateway: str | None
    origin: Origin


@dataclass
class Deployment:
    """What the importer infers; ``notes`` are facts a site of format 1 cannot say."""

    file: str
    hostname: str | None
    nsip: NetAddress
    vips: list[NetAddress]
    snips: list[NetAddress]
    aaa: NetAddress | None
    gateways: list[Publication]
    """The Gateway vservers (vpn), as the Internet reaches them."""
    publications: list[Publication]
    hosts: list[BackEnd]
    features: dict[str, tuple[bool, Origin | None]]
    choices: dict[str, tuple[int, Origin]]
    networks: list[Network]
    notes: list[tuple[str, Origin | None]]

    @property
    def xenmobile_publishing(self) -> str:
        """``netscaler-lb`` when XenMobile is load balanced by this NetScaler, else ``direct``."""
        return "netscaler-lb" if self.publications else "direct"


def _is_xenmobile_lb(vserver: VServer, ports: set[int]) -> bool:
    return vserver.kind == "lb" and (
        vserver.name.lower().startswith(_XM_PREFIX) or vserver.port == 8443 or 8443 in ports
    )


class _Builder:
    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.hosts: dict[tuple[str, str], BackEnd] = {}
        self.notes: list[tuple[str, Origin | None]] = []
        self.features: dict[str, tuple[bool, Origin | None]] = {}
        self.choices: dict[str, tuple[int, Origin]] = {}
        self._servers_at: dict[Endpoint, Server] | None = None

    def host(self, role: str, endpoint: Endpoint, name: str, origin: Origin, port: int) -> None:
        key = (role, endpoint.text)
        entry = self.hosts.get(key)
        if entry is None:
            entry = self.hosts[key] = BackEnd(role, name, endpoint)
        if origin not in entry.origins:
            entry.origins.append(origin)
        entry.ports.add(port)

    def server_name(self, server: Server | None, endpoint: Endpoint, prefix: str) -> str:
        if server is not None:
            return server.name
        return endpoint.fqdn.split(".")[0] if endpoint.fqdn else f"{prefix}-{endpoint.text}"

    # --- XenMobile behind load balancing -------------------------------------------------

    def xenmobile(self) -> list[Publication]:
        inv = self.inv
        publications: list[Publication] = []
        xm_servers: set[str] = set()
        lbs = [(v, inv.backends(v)) for v in inv.vservers.values() if v.kind == "lb"]
        for vserver, backends in lbs:
            ports = {port for _, port, _ in backends}
            if _is_xenmobile_lb(vserver, ports):
                xm_servers.update(s.name for s, _, _ in backends)
        for vserver, backends in lbs:
            names = {s.name for s, _, _ in backends}
            ports = {port for _, port, _ in backends}
            if not names or not names <= xm_servers:
                continue
            if not (_is_xenmobile_lb(vserver, ports) or vserver.port == 443):
                continue
            origin = Origin(vserver.line, f"add lb vserver {vserver.name}")
            if vserver.address is not None and vserver.port is not None:
                publications.append(
                    Publication(
                        vserver.name,
                        vserver.address,
                        vserver.port,
                        vserver.protocol,
                        tuple(sorted(ports)),
                        origin,
                    )
                )
            for server, port, _ignored in backends:
                self.host("xenmobile", server.endpoint, server.name, origin, port)
        return publications

    # --- StoreFront ----------------------------------------------------------------------

    def vserver_at(self, address: str) -> VServer | None:
        for vserver in self.inv.vservers.values():
            if vserver.address == address and vserver.kind in ("lb", "cs"):
                return vserver
        return None

    def storefront(self) -> None:
        inv = self.inv
        for ref in inv.storefront:
            origin = Origin(ref.line, ref.origin)
            addresses = (
                [ref.endpoint.address]
                if ref.endpoint.address
                else inv.dns_records.get(ref.endpoint.fqdn or "", [])
            )
            balanced = [v for v in (self.vserver_at(a) for a in addresses) if v is not None]
            if balanced:
                for vserver in balanced:
                    for server, port, _ignored in inv.backends(vserver):
                        self.host("storefront", server.endpoint, server.name, origin, port)
                continue
            name = self.server_name(None, ref.endpoint, "storefront")
            self.host("storefront", ref.endpoint, name, origin, ref.port)
        if any(h.role == "storefront" for h in self.hosts.values()):
            first = next(h for h in self.hosts.values() if h.role == "storefront")
            self.features["storefront"] = (True, first.origins[0])

    # --- STA, authentication, infrastructure ---------------------------------------------

    def sta(self) -> None:
        ports: dict[int, Origin] = {}
        for ref in self.inv.sta:
            origin = Origin(ref.line, ref.origin)
            name = self.server_name(self._server_for(ref.endpoint), ref.endpoint, "sta")
            self.host("xenapp-xendesktop", ref.endpoint, name, origin, ref.port)
            ports.setdefault(ref.port, origin)
        if not ports:
            return
        self.features["xenapp"] = (True, next(iter(ports.values())))
        chosen = next(iter(ports))
        if chosen in _STA_CHOICES:
            self.choices["XM-APP-04"] = (chosen, ports[chosen])
        else:
            self.notes.append(
                (
                    _("STA on port {port}: not one the catalog offers").format(port=chosen),
                    ports[chosen],
                )
            )
        if len(ports) > 1:
            self.notes.append((_("STA servers on several ports: the first one is used"), None))

    def _server_for(self, endpoint: Endpoint) -> Server | None:
        """The first server (in ns.conf order) at ``endpoint``."""
        if self._servers_at is None:
            self._servers_at = {}
            for server in self.inv.servers.values():
                self._servers_at.setdefault(server.endpoint, server)
        return self._servers_at.get(endpoint)

    def authentication(self) -> None:
        ldap_kinds: dict[str, Origin] = {}
        for auth in self.inv.auth:
            origin = Origin(auth.line, f"add authentication {auth.kind}Action {auth.name}")
            role = "ldap-server" if auth.kind == "ldap" else "radius-server"
            name = self.server_name(self._server_for(auth.endpoint), auth.endpoint, auth.kind)
            self.host(role, auth.endpoint, name, origin, auth.port)
            if auth.kind == "radius":
                self.features["radius"] = (True, origin)
                if auth.port != 1812:
                    self.notes.append(
                        (_("RADIUS on port {port}, not 1812").format(port=auth.port), origin)
                    )
                continue
            if auth.port == 3268:
                ldap_kinds.setdefault("global-catalog", origin)
            elif auth.port == 3269:
                ldap_kinds.setdefault("global-catalog-ssl", origin)
            elif auth.port == 636 or auth.security == "SSL":
                ldap_kinds.setdefault("ldaps", origin)
                if auth.port != 636:
                    self.notes.append(
                        (_("LDAPS on port {port}, not 636").format(port=auth.port), origin)
                    )
            else:
                ldap_kinds.setdefault("ldap", origin)
                if auth.port != 389:
                    self.notes.append(
                        (_("LDAP on port {port}, not 389").format(port=auth.port), origin)
                    )
        if ldap_kinds:
            for feature in ("ldap", "ldaps", "global-catalog", "global-catalog-ssl"):
                self.features[feature] = (feature in ldap_kinds, ldap_kinds.get(feature))

    def infrastructure(self) -> None:
        roles = {"dns": "dns-server", "ntp": "ntp-server", "syslog": "syslog-server"}
        for item in self.inv.infra:
            what = {
                "dns": "add dns nameServer",
                "ntp": "add ntp server",
                "syslog": f"add audit syslogAction {item.name}",
            }[item.kind]
            origin = Origin(item.line, what)
            name = self.server_name(self._server_for(item.endpoint), item.endpoint, item.kind)
            self.host(roles[item.kind], item.endpoint, name, origin, item.port)
            if item.kind == "syslog":
                self.notes.append(
                    (
                        _(
                            "the NetScaler sends syslog to {server} ({transport} {port}) "
                            "from its NSIP"
                        ).format(
                            server=item.endpoint.text,
                            transport=item.transport.upper(),
                            port=item.port,
                        ),
                        origin,
                    )
                )
            if item.kind == "dns" and item.transport == "tcp":
                self.notes.append((_("DNS name server queried over TCP only"), origin))

    # --- networks ------------------------------------------------------------------------

    def networks(self) -> list[Network]:
        """Own subnets, then one network per route gateway (its routes collapsed)."""
        inv = self.inv
        found: list[Network] = []
        own: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for address in inv.addresses:
            net = address.network
            if net is None or address.kind not in ("NSIP", "SNIP", "MIP", "VIP"):
                continue
            if any(net.version == o.version and net.overlaps(o) for o in own):
                continue
            own.append(net)
            found.append(
                Network(
                    (net.with_prefixlen,),
                    "own",
                    None,
                    _origin_of(inv, address.address, address.kind),
                )
            )
        by_gateway: dict[str, list[Route]] = defaultdict(list)
        own_spans = [_span(o) for o in own]
        for route in inv.routes:
            if route.network.prefixlen == 0:
                found.append(
                    Network(
                        (route.network.with_prefixlen,),
                        "default",
                        route.gateway,
                        Origin(route.line, "add route"),
                    )
                )
            elif not _overlaps(_span(route.network), own_spans):
                by_gateway[route.gateway].append(route)
        taken = list(own_spans)
        for gateway, routes in by_gateway.items():
            kept = [
                net
                for net in collapse_networks([r.network for r in routes])
                if not _overlaps(_span(net), taken)
            ]
            if kept:
                taken.extend(_span(n) for n in kept)
                first = routes[0].line
                found.append(
                    Network(
                        tuple(n.with_prefixlen for n in kept),
                        "routed",
                        gateway,
                        Origin(first, f"add route ({len(routes)} via {gateway})"),
                    )
                )
        return found


#: A network as integers: (IP version, first address, last address).
Span = tuple[int, int, int]


def _span(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Span:
    first = int(net.network_address)
    return (net.version, first, first | ((1 << (net.max_prefixlen - net.prefixlen)) - 1))


def _overlaps(span: Span, others: list[Span]) -> bool:
    version, lo, hi = span
    return any(v == version and a <= hi and lo <= b for v, a, b in others)


def collapse_networks(
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """What ``ipaddress.collapse_addresses`` gives (v4 first), merged as integer ranges:
    thousands of routes cost one sort, not thousands of network objects."""
    merged: list[list[int]] = []
    for version, lo, hi in sorted(_span(n) for n in nets):
        if merged and merged[-1][0] == version and lo <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], hi)
        else:
            merged.append([version, lo, hi])
    found: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for version, lo, hi in merged:
        make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        found.extend(ipaddress.summarize_address_range(make(lo), make(hi)))
    return found


def _origin_of(inv: Inventory, address: str, kind: str) -> Origin:
    for own in inv.addresses:
        if own.address == address and own.kind == kind:
            what = "set ns config -IPAddress" if kind == "NSIP" else f"add ns ip ({kind})"
            return Origin(own.line, what)
    return Origin(0, kind)


def build_deployment(inv: Inventory) -> Deployment:
    """Read meaning into an inventory; an ns.conf without an NSIP is refused (exit 2)."""
    nsip = inv.nsip
    if nsip is None:
        raise UserError(
            _(
                "no NetScaler address found: neither 'set ns config -IPAddress' nor "
                "'add ns ip ... -type NSIP'"
            ),
            file=inv.file,
            hint=_(
                "give the appliance's saved configuration (ns.conf), which starts with "
                "'set ns config -IPAddress NSIP -netmask MASK'"
            ),
        )
    builder = _Builder(inv)
    publications = builder.xenmobile()
    builder.storefront()
    builder.sta()
    builder.authentication()
    builder.infrastructure()
    gateways = [
        Publication(
            v.name,
            v.address,
            v.port,
            v.protocol,
            (),
            Origin(v.line, f"add vpn vserver {v.name}"),
        )
        for v in inv.vservers.values()
        if v.kind == "vpn" and v.address is not None and v.port is not None
    ]
    vips: dict[str, NetAddress] = {}
    for gateway in gateways:
        vips.setdefault(gateway.address, NetAddress(gateway.address, gateway.origin))
    for own in inv.own("VIP"):
        vips.setdefault(own.address, NetAddress(own.address, Origin(own.line, "add ns ip (VIP)")))
    for publication in publications:  # XenMobile's load-balanced VIPs; other vservers' VIPs
        vips.setdefault(publication.address, NetAddress(publication.address, publication.origin))
    snips = [
        NetAddress(a.address, Origin(a.line, f"add ns ip ({a.kind})"))
        for a in inv.addresses
        if a.kind in ("SNIP", "MIP")
    ]
    aaa = (
        NetAddress(inv.aaa[0], Origin(inv.aaa[1], "set aaa parameter -aaadnatIp"))
        if inv.aaa
        else None
    )
    hosts = _unique_names(list(builder.hosts.values()))
    xm = [h for h in hosts if h.role == "xenmobile"]
    if len(xm) > 1:
        builder.features["clustering"] = (True, xm[0].origins[0])
    return Deployment(
        file=inv.file,
        hostname=inv.hostname,
        nsip=NetAddress(nsip.address, _origin_of(inv, nsip.address, "NSIP")),
        vips=list(vips.values()),
        snips=snips,
        aaa=aaa,
        gateways=gateways,
        publications=publications,
        hosts=hosts,
        features=builder.features,
        choices=builder.choices,
        networks=builder.networks(),
        notes=builder.notes,
    )


def site_name(text: str, fallback: str) -> str:
    """A valid site name from an ns.conf entity name (``_XM_MDM-1`` -> ``XM_MDM-1``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-_.")[:63]
    return cleaned if cleaned and _NAME.match(cleaned) else fallback


def _unique_names(hosts: list[BackEnd]) -> list[BackEnd]:
    used: dict[str, int] = defaultdict(int)
    for host in hosts:
        base = site_name(host.name, f"{host.role}-host")
        used[base] += 1
        host.name = base if used[base] == 1 else f"{base[:58]}-{used[base]}"
    return hosts
