"""The plan: the one data type that flows from ``plan`` to rules, checks, audits and reports.

Plain frozen dataclasses: cheap to build by the ten thousand, hashable, and free of any
YAML or validation concern (that lives in ``site.py`` and ``catalog.py``; the plan
carries the site and the catalog as ``site_view`` and ``catalog_view`` records).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal

from flowmatrix.documents import SiteRef
from flowmatrix.i18n import _
from flowmatrix.portset import PortSet

if TYPE_CHECKING:
    from flowmatrix.catalog_view import CatalogView
    from flowmatrix.i18n import Lang
    from flowmatrix.site_view import SiteView

Protocol = Literal["tcp", "udp"]
NO_PORTS = PortSet()
"""No port: a flow none of whose ports speaks TLS."""
NOT_REQUIRED = frozenset({"obsolete", "legacy"})
"""Catalog statuses (``Flow.status``) of flows a check reports but does not require."""


class PickledByFields:
    """Pickled as its constructor's arguments: a big plan is read back from the plan cache
    several times faster than with the state functions ``dataclass(slots=True)`` adds."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type[Any], tuple[Any, ...]]:
        names: tuple[str, ...] = type(self).__slots__  # the fields, in order (slots=True)
        return type(self), tuple(getattr(self, name) for name in names)


@dataclass(frozen=True, slots=True)
class HostRef(PickledByFields):
    """One host (or network) of a flow's end, with the addresses this flow uses."""

    name: str
    addresses: tuple[str, ...]
    """IPv4/IPv6 addresses or CIDRs, as written in the site; for a NetScaler, the NSIP,
    VIP, SNIP or AAA address that this particular flow uses."""
    fqdn: str | None = None


@dataclass(frozen=True, slots=True)
class FlowEnd(PickledByFields):
    """The source or the destination of a flow: one role in one zone."""

    role: str
    role_name: str
    zone: str
    hosts: tuple[HostRef, ...]
    any_address: bool = False
    """True when the end is 'anything in the zone' (e.g. devices on the Internet)."""
    any_reason: str | None = None
    """Why an end that has names (or should have) is 'any address' instead: the site's or
    the catalog's explicit choice (``internet: any``), or the web proxy's allow-list that
    restricts it by name. None for an end that is 'any' by nature (the Internet's users)."""

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(chain.from_iterable(h.addresses for h in self.hosts)))

    @property
    def fqdns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.fqdn for h in self.hosts if h.fqdn))

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the hosts known by name only (no address): what name sets,
        FQDN objects or a proxy must match."""
        return tuple(dict.fromkeys(h.fqdn for h in self.hosts if h.fqdn and not h.addresses))

    @property
    def unresolved(self) -> bool:
        """Neither addresses, nor names, nor 'any': no rule can be written for this end."""
        return not self.any_address and not self.hosts


NatKind = Literal["destination", "source"]


@dataclass(frozen=True, slots=True)
class Nat(PickledByFields):
    """One address translation of a firewall, resolved from the site (``nat:``)."""

    firewall: str
    kind: NatKind
    """destination: a published address (static DNAT); source: SNAT toward the outside."""
    outside: str
    """The zone the public addresses face."""
    public: str
    """destination: the public address; source: the address traffic leaves as ("" for
    masquerade: the firewall's own address on the outside)."""
    private: tuple[str, ...]
    """destination: the host's address, as the site writes it; source: the addresses
    translated (the zone's own networks, or the host's addresses)."""
    subject: str
    """The host published (destination), or the zone or host translated (source)."""
    ports: PortSet | None = None
    """destination: the published ports (None: every port)."""
    site_path: tuple[str | int, ...] = ()
    """Where the translation is written in the site file."""

    @property
    def masquerade(self) -> bool:
        return self.kind == "source" and not self.public

    def describe(self) -> str:
        """``edge DNAT 203.0.113.40 port 443 -> 172.30.10.10 (adc1)``, ``edge SNAT servers
        -> 203.0.113.41`` or ``-> masquerade``: the same words in French and English."""
        if self.kind == "destination":
            ports = f" port {self.ports.text(',')}" if self.ports is not None else ""
            return (
                f"{self.firewall} DNAT {self.public}{ports} -> {', '.join(self.private)} "
                f"({self.subject})"
            )
        return f"{self.firewall} SNAT {self.subject} -> {self.public or 'masquerade'}"


ProxyLegKind = Literal["client", "upstream"]


@dataclass(frozen=True, slots=True)
class ProxyLeg(PickledByFields):
    """A flow that goes through the site's outbound web proxy, and what it serves."""

    leg: ProxyLegKind
    """client: the source to the proxy's port; upstream: the proxy to the names."""
    proxy: str
    """The proxy as ``name`` (a site host) or its address."""
    port: int
    """The proxy's port (what clients connect to)."""
    names: tuple[str, ...]
    """The names the proxy lets this flow reach (its allow-list: ``dstdomain``)."""
    ports: PortSet
    """The ports the proxy reaches them on."""


@dataclass(frozen=True, slots=True)
class Flow(PickledByFields):
    """A concrete flow of the matrix: who talks to whom, on what, across which firewalls."""

    id: str
    """Stable id: ``<requirement>.<n>``, n counted in plan order within the requirement."""
    requirement: str
    """Catalog requirement id, or ``SITE-<name>`` for a site-specific flow."""
    source: FlowEnd
    destination: FlowEnd
    protocol: Protocol
    ports: PortSet
    """Kept as ranges: ``1-65535`` is one range, not 65,535 numbers."""
    firewalls: tuple[str, ...]
    """Firewalls crossed, in order from source to destination (empty: same zone)."""
    description: str
    """In the plan's language."""
    service: str | None = None
    """Application protocol (dns, ntp, radius, syslog, https...): picks the live probe."""
    tls: bool = False
    """Every port of the flow speaks TLS."""
    status: str = "current"
    """Catalog status of the requirement: current, obsolete, legacy, odd."""
    notes: tuple[str, ...] = ()
    tls_ports: PortSet = NO_PORTS
    """The ports of the flow that speak TLS (all of them when ``tls``)."""
    requested: bool = True
    """Whether the flow is to be opened. False for an obsolete or legacy flow the site does
    not keep (``keep_obsolete``): it stays in the matrix, marked, and no rule opens it."""
    proxy: ProxyLeg | None = None
    """Set when the flow is one leg of a flow through the site's web proxy."""
    nat: tuple[Nat, ...] = ()
    """The translations on the flow's way, in path order: its ends are the addresses the
    hosts really have; ``seen_by``, ``sent`` and ``received`` give the translated views."""

    def is_tls(self, port: int) -> bool:
        """Whether the service on ``port`` of this flow speaks TLS."""
        return self.tls or port in self.tls_ports

    @property
    def translations(self) -> str:
        """The translations on the way, as tables and reports show them (``; ``-separated)."""
        return "; ".join(n.describe() for n in self.nat)

    def seen_by(self, firewall: str) -> tuple[FlowEnd, FlowEnd]:
        """(source, destination) as the rules of ``firewall`` see them: after the
        destination NAT of this firewall and those before it, before its source NAT."""
        if not self.nat:
            return self.source, self.destination
        here = self.firewalls.index(firewall)
        return self._view(lambda there: there < here, lambda there: there > here)

    def sent(self) -> FlowEnd:
        """The destination as the source addresses it (every public address on the way)."""
        if not self.nat:
            return self.destination
        return self._view(lambda there: False, lambda there: True)[1]

    def received(self) -> FlowEnd:
        """The source as the destination sees it (after every source NAT on the way)."""
        if not self.nat:
            return self.source
        return self._view(lambda there: True, lambda there: False)[0]

    def _view(
        self, source_done: Callable[[int], bool], destination_pending: Callable[[int], bool]
    ) -> tuple[FlowEnd, FlowEnd]:
        source, destination = self.source, self.destination
        for nat in self.nat:
            there = self.firewalls.index(nat.firewall)
            if nat.kind == "source" and source_done(there):
                source = _translated_source(source, nat)
            elif nat.kind == "destination" and destination_pending(there):
                destination = _published_destination(destination, nat)
        return source, destination


def _published_destination(end: FlowEnd, nat: Nat) -> FlowEnd:
    """``end`` addressed through ``nat``'s public address instead of the host's own."""
    private = set(nat.private)
    hosts = tuple(
        HostRef(h.name, tuple(nat.public if a in private else a for a in h.addresses), h.fqdn)
        if private.intersection(h.addresses)
        else h
        for h in end.hosts
    )
    return FlowEnd(end.role, end.role_name, end.zone, hosts, end.any_address, end.any_reason)


def _translated_source(end: FlowEnd, nat: Nat) -> FlowEnd:
    """``end`` as it leaves through ``nat``: from its public address, or from any address
    of the outside zone for a masquerade (the firewall's own address there)."""
    if nat.masquerade:
        reason = _("masqueraded by {firewall} (source NAT to its own address)").format(
            firewall=nat.firewall
        )
        return FlowEnd(end.role, end.role_name, nat.outside, (), True, reason)
    if any(h.name == nat.subject for h in end.hosts):  # one host of the end: only its own
        hosts = tuple(
            HostRef(h.name, (nat.public,), h.fqdn) if h.name == nat.subject else h
            for h in end.hosts
        )
        return FlowEnd(end.role, end.role_name, end.zone, hosts)
    ref = HostRef(f"{nat.subject}-as-{nat.public}", (nat.public,))
    return FlowEnd(end.role, end.role_name, nat.outside, (ref,))


@dataclass(frozen=True, slots=True)
class Skipped(PickledByFields):
    """A requirement the plan left out, and why."""

    requirement: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """Catalog x site, resolved: the whole contract downstream. The site and the catalog
    come as plain records (``site_view``, ``catalog_view``): nothing after the plan reads
    the validated models."""

    site: SiteView
    catalog: CatalogView
    flows: tuple[Flow, ...]
    skipped: tuple[Skipped, ...] = ()
    lang: Lang = "en"
    site_file: str | None = None
    """Path of the site file, or None for the embedded default example."""
    warnings: tuple[str, ...] = field(default=())
    nat: tuple[Nat, ...] = ()
    """Every address translation of the site's firewalls, resolved."""
    site_digest: str | None = None
    """``sha256:<hex>`` of the site file's bytes (``documents.site_digest``)."""

    def site_ref(self) -> SiteRef:
        """The site as the head of a document names it (``documents.header``)."""
        return SiteRef(self.site.name, self.site_digest)

    def nat_of(self, firewall: str) -> tuple[Nat, ...]:
        return tuple(n for n in self.nat if n.firewall == firewall)

    def flow(self, flow_id: str) -> Flow:
        for candidate in self.flows:
            if candidate.id == flow_id:
                return candidate
        raise KeyError(flow_id)

    def flows_through(self, firewall: str) -> tuple[Flow, ...]:
        return tuple(f for f in self.flows if firewall in f.firewalls)

    @cached_property
    def _site_hosts(self) -> frozenset[str]:
        return frozenset(h.name for h in self.site.hosts)

    def probe_sources(self, flow: Flow) -> tuple[str, ...]:
        """The source hosts of ``flow`` a probe can run on: the site's own hosts (a
        catalog endpoint or an end that is any address of its zone is no machine anyone
        runs a probe on). A live check's evidence is per source host: a flow is proven
        from each of these (``evidence.port_status``)."""
        hosts = self._site_hosts
        return tuple(dict.fromkeys(h.name for h in flow.source.hosts if h.name in hosts))
