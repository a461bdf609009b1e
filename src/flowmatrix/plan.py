"""Catalog x site -> the concrete flow matrix (a ``Plan``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flowmatrix.catalog import Catalog, Lang, NetScalerAddress, Requirement, Role
from flowmatrix.model import Flow, FlowEnd, HostRef, Plan, Protocol, Skipped
from flowmatrix.site import Host, Site, SiteFlow, parse_network
from flowmatrix.topology import FirewallGraph, ZoneIndex


@dataclass(frozen=True)
class _Member:
    """One host of a role, with the address set a given flow uses, in one zone."""

    zone: str
    host: HostRef


@dataclass
class _Planner:
    site: Site
    catalog: Catalog
    lang: Lang
    zones: ZoneIndex = field(init=False)
    graph: FirewallGraph = field(init=False)
    hosts_by_role: dict[str, list[Host]] = field(init=False)
    host_by_name: dict[str, Host] = field(init=False)
    features: dict[str, bool] = field(init=False)
    flows: list[Flow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _zone_cache: dict[str, str | None] = field(default_factory=dict)
    _numbers: dict[str, int] = field(default_factory=dict)
    _ends: dict[tuple[str, str | None, str | None], list[FlowEnd]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.zones = ZoneIndex.from_site(self.site)
        self.graph = FirewallGraph(self.site)
        self.hosts_by_role = defaultdict(list)
        for host in self.site.hosts:
            self.hosts_by_role[host.role].append(host)
        self.host_by_name = {h.name: h for h in self.site.hosts}
        self.features = self.catalog.feature_defaults() | self.site.features

    # --- ends -------------------------------------------------------------------------

    def _zone_of(self, address: str) -> str | None:
        if address not in self._zone_cache:
            self._zone_cache[address] = self.zones.zone_of(parse_network(address))
        return self._zone_cache[address]

    def _default_zone(self, role: Role) -> str | None:
        if role.default_zone is None:
            return None
        names = {z.name for z in self.site.zones}
        if role.default_zone in names:
            return role.default_zone
        if role.default_zone == "internet":
            return self.zones.internet
        return None

    def _host_members(self, host: Host, kind: NetScalerAddress | None) -> list[_Member]:
        addresses = _addresses_for(host, kind)
        if not addresses:
            zone = host.zone or self._default_zone(self.catalog.role(host.role))
            return [_Member(zone, HostRef(host.name, (), host.fqdn))] if zone else []
        by_zone: dict[str, list[str]] = defaultdict(list)
        for address in addresses:
            zone = self._zone_of(address) or host.zone
            if zone is not None:
                by_zone[zone].append(address)
        return [_Member(z, HostRef(host.name, tuple(a), host.fqdn)) for z, a in by_zone.items()]

    def _implicit_members(self, role: Role) -> list[_Member]:
        zone = self._default_zone(role)
        if zone is None:
            return []
        return [
            _Member(zone, HostRef(ep.fqdn or f"{role.id}-{i + 1}", ep.addresses, ep.fqdn))
            for i, ep in enumerate(role.endpoints)
        ]

    def ends(
        self, role_id: str, kind: NetScalerAddress | None, only_host: str | None = None
    ) -> list[FlowEnd]:
        """The ends of ``role_id`` grouped by zone (an empty list: the site lacks the role)."""
        key = (role_id, kind, only_host)
        if key not in self._ends:
            self._ends[key] = self._make_ends(role_id, kind, only_host)
        return self._ends[key]

    def _make_ends(
        self, role_id: str, kind: NetScalerAddress | None, only_host: str | None
    ) -> list[FlowEnd]:
        role = self.catalog.role(role_id)
        hosts = [self.host_by_name[only_host]] if only_host else self.hosts_by_role.get(role_id, [])
        members: list[_Member] = []
        for host in hosts:
            members.extend(self._host_members(host, kind))
        if not hosts:
            members = self._implicit_members(role)
            if not members and role.default_zone and not role.endpoints:
                zone = self._default_zone(role)
                if zone is not None:
                    return [FlowEnd(role.id, role.name.get(self.lang), zone, (), any_address=True)]
        grouped: dict[str, list[HostRef]] = defaultdict(list)
        for member in members:
            grouped[member.zone].append(member.host)
        return [
            FlowEnd(role.id, role.name.get(self.lang), zone, tuple(refs))
            for zone, refs in grouped.items()
        ]

    # --- flows ------------------------------------------------------------------------

    def add_requirement(self, req: Requirement) -> None:
        if req.condition is not None and not self.features.get(req.condition, False):
            self.skipped.append(Skipped(req.id, f"feature '{req.condition}' is off"))
            return
        ports = req.chosen_ports(self.site.choices.get(req.id))
        notes = tuple(n.get(self.lang) for n in req.notes)
        if req.replacement is not None:
            notes += (req.replacement.description.get(self.lang),)
        made = 0
        missing: list[str] = []
        for protocol in req.protocols:
            for source_role in req.sources:
                sources = self.ends(source_role, req.source_address)
                if not sources:
                    missing.append(f"no host has source role '{source_role}'")
                    continue
                for destination_role in req.destinations:
                    destinations = self.ends(destination_role, req.destination_address)
                    if not destinations:
                        missing.append(f"no host has destination role '{destination_role}'")
                        continue
                    made += self._pairs(
                        req.id,
                        sources,
                        destinations,
                        protocol,
                        ports,
                        req.description.get(self.lang),
                        service=req.service,
                        status=req.status,
                        notes=notes,
                        tls_ports=tuple(p for p in ports if req.tls_on(p)),
                    )
        for reason in dict.fromkeys(missing):
            self.skipped.append(Skipped(req.id, reason))
        if made == 0 and not missing:
            self.skipped.append(Skipped(req.id, "source and destination are the same single host"))

    def add_site_flow(self, flow: SiteFlow) -> None:
        req_id = f"SITE-{flow.name}"
        made = 0
        sources = self._site_flow_ends(flow.source)
        destinations = self._site_flow_ends(flow.destination)
        if not sources or not destinations:
            self.skipped.append(Skipped(req_id, "no host for its source or destination"))
            return
        for protocol in flow.protocols:
            made += self._pairs(
                req_id,
                sources,
                destinations,
                protocol,
                flow.ports,
                flow.description or f"{flow.source} -> {flow.destination}",
                service=flow.service,
                status="current",
                notes=(),
                tls_ports=flow.ports if flow.tls else (),
            )
        if made == 0:
            self.skipped.append(Skipped(req_id, "source and destination are the same single host"))

    def _site_flow_ends(self, name: str) -> list[FlowEnd]:
        if name in self.host_by_name:
            return self.ends(self.host_by_name[name].role, None, only_host=name)
        return self.ends(name, None)

    def _pairs(
        self,
        req_id: str,
        sources: Sequence[FlowEnd],
        destinations: Sequence[FlowEnd],
        protocol: Protocol,
        ports: tuple[int, ...],
        description: str,
        *,
        service: str | None,
        status: str,
        notes: tuple[str, ...],
        tls_ports: tuple[int, ...],
    ) -> int:
        made = 0
        for source in sources:
            for destination in destinations:
                if _same_single_host(source, destination):
                    continue
                if source.zone == destination.zone == self.zones.internet:
                    self.skipped.append(
                        Skipped(
                            req_id,
                            "both ends are on the Internet: no firewall of the site is involved",
                        )
                    )
                    continue
                firewalls = self.graph.path(source.zone, destination.zone)
                flow_notes = notes
                if firewalls is None:
                    message = f"no firewall path from zone {source.zone} to {destination.zone}"
                    self.warnings.append(f"{req_id}: {message}")
                    flow_notes += (message,)
                    firewalls = ()
                number = self._numbers.get(req_id, 0) + 1
                self._numbers[req_id] = number
                self.flows.append(
                    Flow(
                        id=f"{req_id}.{number}",
                        requirement=req_id,
                        source=source,
                        destination=destination,
                        protocol=protocol,
                        ports=ports,
                        firewalls=firewalls,
                        description=description,
                        service=service,
                        tls=bool(tls_ports) and set(tls_ports) == set(ports),
                        status=status,
                        notes=flow_notes,
                        tls_ports=tls_ports,
                    )
                )
                made += 1
        return made


def _addresses_for(host: Host, kind: NetScalerAddress | None) -> tuple[str, ...]:
    """The addresses a flow uses on ``host``: for a NetScaler, the NSIP, VIP, SNIP or AAA one."""
    ns = host.netscaler
    if ns is None or kind is None:
        return host.addresses or (ns.vip if ns is not None else ())
    chosen: Iterable[str | None]
    if kind == "vip":
        chosen = ns.vip
    elif kind == "snip":
        chosen = ns.snip
    elif kind == "aaa":
        chosen = (ns.aaa or ns.nsip,)
    else:
        chosen = (ns.nsip,)
    picked = tuple(a for a in chosen if a is not None)
    return picked or host.addresses


def _same_single_host(source: FlowEnd, destination: FlowEnd) -> bool:
    return (
        len(source.hosts) == 1
        and len(destination.hosts) == 1
        and source.hosts[0].name == destination.hosts[0].name
    )


def build_plan(
    site: Site, catalog: Catalog, *, lang: Lang = "en", site_file: str | None = None
) -> Plan:
    """Resolve every requirement of ``catalog`` (and the site's own flows) for ``site``."""
    planner = _Planner(site, catalog, lang)
    for req in catalog.requirements:
        planner.add_requirement(req)
    for site_flow in site.flows:
        planner.add_site_flow(site_flow)
    return Plan(
        site=site,
        catalog=catalog,
        flows=tuple(planner.flows),
        skipped=tuple(dict.fromkeys(planner.skipped)),
        lang=lang,
        site_file=site_file,
        warnings=tuple(dict.fromkeys(planner.warnings)),
    )
