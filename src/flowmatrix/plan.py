"""Catalog x site -> the concrete flow matrix (a ``Plan``).

One planner walks every requirement and site flow, and each pair of ends takes one of
four ways: direct, through the web proxy (two legs), through the NetScaler load-balancing
virtual server that publishes XenMobile (two legs), or left out. The ways share the
planner's ends, flow numbering and flow-port budget, which is why they live together.

Size: the four ways (above) share the planner's state; about 650 lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from flowmatrix.catalog import Catalog, NetScalerAddress, Requirement, Role
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, Lang, _, language, pgettext
from flowmatrix.model import NO_PORTS, Flow, FlowEnd, HostRef, Plan, Protocol, ProxyLeg, Skipped
from flowmatrix.nat import NatPath
from flowmatrix.nat import resolve as resolve_nat
from flowmatrix.plan_views import catalog_view, site_view
from flowmatrix.portset import PortSet
from flowmatrix.site import Host, Site, SiteFlow, parse_network
from flowmatrix.site_view import SiteView
from flowmatrix.topology import FirewallGraph, ZoneIndex

#: The role whose hosts publish servers through load balancing (``publish:``).
NETSCALER_ROLE = "netscaler-gateway"
#: Requirement statuses a plan does not open unless the site keeps them (``keep_obsolete``).
NOT_REQUESTED = frozenset({"obsolete", "legacy"})
#: Services a web proxy carries (HTTP, and HTTPS through CONNECT).
WEB_SERVICES = frozenset({"http", "https"})
#: The most flow ports (one port of one flow) a plan holds: every output and check is
#: proportional to them, so a site that asks for more is refused rather than planned.
MAX_FLOW_PORTS = 1_000_000


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
    view: SiteView = field(init=False)
    hosts_by_role: dict[str, list[Host]] = field(init=False)
    host_by_name: dict[str, Host] = field(init=False)
    features: dict[str, bool] = field(init=False)
    flows: list[Flow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _zone_cache: dict[str, str | None] = field(default_factory=dict)
    _numbers: dict[str, int] = field(default_factory=dict)
    _ends: dict[tuple[str, str | None, str | None, bool, str | None], list[FlowEnd]] = field(
        default_factory=dict
    )
    _upstream: set[tuple[str, int, int, Protocol, PortSet]] = field(default_factory=set)
    """Proxy upstream flows made: one per requirement, proxy end, names end and ports."""
    _made: set[tuple[str, FlowEnd, FlowEnd, Protocol, PortSet]] = field(default_factory=set)
    """Flows made, by requirement, ends, protocol and ports: a second way to the same flow
    (the NetScaler's own flow to XenMobile, and the leg behind its load balancer) is one."""
    proxy_ends: list[FlowEnd] = field(init=False)
    proxy_label: str = field(init=False, default="")
    flow_ports: int = 0
    nat: NatPath = field(init=False)

    def __post_init__(self) -> None:
        self.view = site_view(self.site)  # what the plan carries, its topology computed once
        self.zones = self.view.topology.index
        self.graph = self.view.topology.graph
        self.hosts_by_role = defaultdict(list)
        for host in self.site.hosts:
            for role_id in host.role_ids:  # a host in several roles is an end of each
                self.hosts_by_role[role_id].append(host)
        self.host_by_name = {h.name: h for h in self.site.hosts}
        self.features = self.catalog.feature_defaults() | self.site.features
        self.proxy_ends = self._proxy_ends()
        self.nat = NatPath(self.view.topology, resolve_nat(self.site))

    def _proxy_ends(self) -> list[FlowEnd]:
        proxy = self.site.proxy
        if proxy is None:
            return []
        if proxy.host is not None:
            self.proxy_label = proxy.host
            host = self.host_by_name[proxy.host]
            role_id = "web-proxy" if "web-proxy" in host.role_ids else host.role_ids[0]
            return self.ends(role_id, None, only_host=host.name)
        assert proxy.address is not None
        self.proxy_label = proxy.address
        zone = self._zone_of(proxy.address)
        role = self.catalog.role("web-proxy")
        ref = HostRef("proxy", (proxy.address,))
        return [FlowEnd(role.id, role.name.get(self.lang), zone, (ref,))] if zone else []

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
            zone = host.zone or next(
                filter(None, (self._default_zone(self.catalog.role(r)) for r in host.role_ids)),
                None,
            )
            return [_Member(zone, HostRef(host.name, (), host.fqdn))] if zone else []
        by_zone: dict[str, list[str]] = defaultdict(list)
        for address in addresses:
            zone = self._zone_of(address) or host.zone
            if zone is not None:
                by_zone[zone].append(address)
        return [_Member(z, HostRef(host.name, tuple(a), host.fqdn)) for z, a in by_zone.items()]

    def _implicit_members(self, role: Role, with_obsolete: bool) -> list[_Member]:
        zone = self._default_zone(role)
        if zone is None:
            return []
        return [
            _Member(zone, HostRef(ep.fqdn or f"{role.id}-{i + 1}", ep.addresses, ep.fqdn))
            for i, ep in enumerate(role.endpoints)
            if with_obsolete or ep.status != "obsolete"
        ]

    def ends(
        self,
        role_id: str,
        kind: NetScalerAddress | None,
        only_host: str | None = None,
        with_obsolete: bool = False,
        part: str | None = None,
    ) -> list[FlowEnd]:
        """The ends of ``role_id`` grouped by zone (an empty list: the site lacks the role).

        A role's obsolete endpoints (Windows Phone's store names) are left out unless
        ``with_obsolete`` (an obsolete flow, or ``keep_obsolete: true``); ``part`` keeps the
        hosts that are that part of the role (a Delivery Controller, a VDA).
        """
        key = (role_id, kind, only_host, with_obsolete, part)
        if key not in self._ends:
            self._ends[key] = self._make_ends(role_id, kind, only_host, with_obsolete, part)
        return self._ends[key]

    def _make_ends(
        self,
        role_id: str,
        kind: NetScalerAddress | None,
        only_host: str | None,
        with_obsolete: bool,
        part: str | None,
    ) -> list[FlowEnd]:
        role = self.catalog.role(role_id)
        hosts = [self.host_by_name[only_host]] if only_host else self.hosts_by_role.get(role_id, [])
        if part is not None and hosts:
            hosts = [h for h in hosts if h.serves(part)]
            if not hosts:
                return []
        members: list[_Member] = []
        for host in hosts:
            members.extend(self._host_members(host, kind))
        if not hosts:
            members = self._implicit_members(role, with_obsolete)
            if not members and role.default_zone and not role.endpoints:
                zone = self._default_zone(role)
                if zone is not None:
                    return [self._unaddressed_end(role, zone)]
        grouped: dict[str, list[HostRef]] = defaultdict(list)
        for member in members:
            grouped[member.zone].append(member.host)
        return [
            FlowEnd(role.id, role.name.get(self.lang), zone, tuple(refs))
            for zone, refs in grouped.items()
        ]

    def _unaddressed_end(self, role: Role, zone: str) -> FlowEnd:
        """A role in its default zone with neither host nor endpoint.

        The Internet's users are any address by nature. An Internet service (the SMS
        relay) is any address only when the site chooses so (``external``); otherwise its
        end stays empty, and its flows are reported as missing, never widened.
        """
        name = role.name.get(self.lang)
        if role.kind != "external":
            return FlowEnd(role.id, name, zone, (), any_address=True)
        choice = self.site.external.get(role.id)
        if choice is not None and choice.internet == "any":
            return FlowEnd(role.id, name, zone, (), any_address=True, any_reason=choice.reason)
        return FlowEnd(role.id, name, zone, ())

    # --- names, explicit 'any' and the proxy ----------------------------------------

    def _catalog_any(self, end: FlowEnd) -> str | None:
        """The catalog's reason for opening ``end`` to any address (FCM), if it gives one."""
        try:
            role = self.catalog.role(end.role)
        except KeyError:
            return None
        names = set(end.names)
        for endpoint in role.endpoints:
            if endpoint.fqdn in names and endpoint.internet_any is not None:
                choice = endpoint.internet_any
                return f"{choice.reason.get(self.lang)} ({choice.source})"
        return None

    def _proxied(self, end: FlowEnd, protocol: Protocol, service: str | None) -> bool:
        """Whether a flow to ``end`` goes through the site's web proxy: a web flow to names
        that no packet filter can match (a wildcard) or that have no stable address."""
        if not self.proxy_ends or end.zone != self.zones.internet or end.any_address:
            return False
        if protocol != "tcp" or service not in WEB_SERVICES or not end.names:
            return False
        if self._bypass(end.role) is not None:
            return False
        choice = self.site.external.get(end.role)
        if choice is not None and choice.internet == "names":
            return any(name.startswith("*.") for name in end.names)
        return any(n.startswith("*.") for n in end.names) or self._catalog_any(end) is not None

    def _bypass(self, role_id: str) -> str | None:
        try:
            reason = self.catalog.role(role_id).proxy_bypass
        except KeyError:
            return None
        return reason.get(self.lang) if reason is not None else None

    def _direct(self, end: FlowEnd) -> FlowEnd:
        """``end`` as the rules open it without the proxy: 'any' where the site or the
        catalog chooses so (with the reason), else as it is (addresses, names)."""
        if end.any_address or not end.names:
            return end
        choice = self.site.external.get(end.role)
        if choice is not None:
            if choice.internet == "any":
                return replace(end, any_address=True, any_reason=choice.reason)
            return end
        reason = self._catalog_any(end)
        return replace(end, any_address=True, any_reason=reason) if reason else end

    # --- flows ------------------------------------------------------------------------

    def add_requirement(self, req: Requirement) -> None:
        excluded = self.site.exclude.get(req.id)
        if excluded is not None:
            self.skipped.append(
                Skipped(req.id, _("excluded by the site: {reason}").format(reason=excluded.strip()))
            )
            return
        if req.condition is not None and not self.features.get(req.condition, False):
            self.skipped.append(
                Skipped(req.id, _("feature '{feature}' is off").format(feature=req.condition))
            )
            return
        ports = PortSet.of(req.chosen_ports(self.site.choices.get(req.id)))
        notes = tuple(n.get(self.lang) for n in req.notes)
        if req.replacement is not None:
            notes += (req.replacement.description.get(self.lang),)
        requested = req.status not in NOT_REQUESTED or self.site.keeps(req.id)
        if not requested:
            notes += (
                _(
                    "{status}: not requested (the site can keep it: keep_obsolete: [{requirement}])"
                ).format(status=status_word(req.status), requirement=req.id),
            )
        with_obsolete = req.status == "obsolete" or self.site.keep_obsolete is True
        made = 0
        missing: list[str] = []
        for protocol in req.protocols:
            for source_role in req.sources:
                sources = self.ends(source_role, req.source_address)
                if not sources:
                    missing.append(_("no host has source role '{role}'").format(role=source_role))
                    continue
                for destination_role in req.destinations:
                    destinations = self.ends(
                        destination_role,
                        req.destination_address,
                        with_obsolete=with_obsolete,
                        part=req.destination_part,
                    )
                    if not destinations:
                        missing.append(
                            (
                                _("no host has destination role '{role}' ({part})")
                                if req.destination_part
                                else _("no host has destination role '{role}'")
                            ).format(role=destination_role, part=req.destination_part)
                        )
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
                        tls_ports=PortSet.of(p for p in ports if req.tls_on(p)),
                        requested=requested,
                    )
        for reason in dict.fromkeys(missing):
            self.skipped.append(Skipped(req.id, reason))
        if made == 0 and not missing:
            self.skipped.append(
                Skipped(req.id, _("source and destination are the same single host"))
            )

    def add_site_flow(self, flow: SiteFlow) -> None:
        req_id = f"SITE-{flow.name}"
        made = 0
        (source_role, source_host), (destination_role, destination_host) = (
            self._site_flow_end(flow.source),
            self._site_flow_end(flow.destination),
        )
        source_kind, destination_kind = self._site_flow_addresses(
            flow, source_role, destination_role
        )
        sources = self.ends(source_role, source_kind, only_host=source_host)
        destinations = self.ends(destination_role, destination_kind, only_host=destination_host)
        if not sources or not destinations:
            self.skipped.append(Skipped(req_id, _("no host for its source or destination")))
            return
        ports = flow.port_set
        for protocol in flow.protocols:
            made += self._pairs(
                req_id,
                sources,
                destinations,
                protocol,
                ports,
                flow.description or f"{flow.source} -> {flow.destination}",
                service=flow.service,
                status="current",
                notes=(),
                tls_ports=ports if flow.tls else NO_PORTS,
            )
        if made == 0:
            self.skipped.append(
                Skipped(req_id, _("source and destination are the same single host"))
            )

    def _site_flow_end(self, name: str) -> tuple[str, str | None]:
        """(role, the one host) of a site flow's end: a role id, or a host, which stands
        in its NetScaler role when it is a NetScaler, else in its first role."""
        host = self.host_by_name.get(name)
        if host is None:
            return name, None
        if host.netscaler is not None:
            for role_id in host.role_ids:
                if self.catalog.role(role_id).netscaler:
                    return role_id, name
        return host.role_ids[0], name

    def _site_flow_addresses(
        self, flow: SiteFlow, source_role: str, destination_role: str
    ) -> tuple[NetScalerAddress | None, NetScalerAddress | None]:
        """Which NetScaler address each end uses (version 2; version 1: the VIP): ``via``,
        else the SNIP from a NetScaler, the NSIP from the administrators to it, the VIP
        from anyone else (the docs' advice: management on the NSIP, back ends from a SNIP)."""
        if self.site.version < 2:
            return None, None
        source: NetScalerAddress | None = None
        destination: NetScalerAddress | None = None
        if self.catalog.role(source_role).netscaler:
            source = flow.via or "snip"
        if self.catalog.role(destination_role).netscaler:
            destination = flow.via or ("nsip" if source_role == "admin-browser" else "vip")
        return source, destination

    def _pairs(
        self,
        req_id: str,
        sources: Sequence[FlowEnd],
        destinations: Sequence[FlowEnd],
        protocol: Protocol,
        ports: PortSet,
        description: str,
        *,
        service: str | None,
        status: str,
        notes: tuple[str, ...],
        tls_ports: PortSet,
        requested: bool = True,
    ) -> int:
        made = 0
        shared = _FlowTraits(description, service, status, notes, tls_ports, requested)
        for source in sources:
            for destination in destinations:
                if _same_single_host(source, destination):
                    continue
                if self._load_balanced(source, destination):
                    made += self._through_load_balancer(
                        req_id, source, destination, protocol, ports, shared
                    )
                    continue
                if self._proxied(destination, protocol, service):
                    made += self._through_proxy(
                        req_id, source, destination, protocol, ports, shared
                    )
                    continue
                traits = shared
                bypass = self._bypass(destination.role) if self.proxy_ends else None
                if bypass is not None:
                    traits = replace(
                        shared,
                        notes=(
                            *shared.notes,
                            _("not through the proxy: {reason}").format(reason=bypass),
                        ),
                    )
                made += self._add_flow(
                    req_id, source, self._direct(destination), protocol, ports, traits
                )
        return made

    def _through_proxy(
        self,
        req_id: str,
        source: FlowEnd,
        destination: FlowEnd,
        protocol: Protocol,
        ports: PortSet,
        traits: _FlowTraits,
    ) -> int:
        """source -> proxy:port and proxy -> the names, each leg serving ``req_id``."""
        proxy = self.site.proxy
        assert proxy is not None
        names = destination.names
        shown = ", ".join(names)
        made = 0
        for proxy_end in self.proxy_ends:
            client = ProxyLeg("client", self.proxy_label, proxy.port, names, ports)
            if not _same_single_host(source, proxy_end):
                note = _("through the web proxy {proxy}:{port} to {names}").format(
                    proxy=self.proxy_label, port=proxy.port, names=shown
                )
                made += self._add_flow(
                    req_id,
                    source,
                    proxy_end,
                    "tcp",
                    PortSet.of((proxy.port,)),
                    replace(traits, service=None, tls_ports=NO_PORTS, notes=(*traits.notes, note)),
                    client,
                )
            key = (req_id, id(proxy_end), id(destination), protocol, ports)
            if key in self._upstream:
                continue
            self._upstream.add(key)
            reason = _(
                "the web proxy {proxy} lets it reach only {names} "
                "(its allow-list: flowmatrix rules --target squid)"
            ).format(proxy=self.proxy_label, names=shown)
            made += self._add_flow(
                req_id,
                proxy_end,
                replace(destination, any_address=True, any_reason=reason),
                protocol,
                ports,
                replace(
                    traits,
                    notes=(*traits.notes, _("the proxy's own flow to {names}").format(names=shown)),
                ),
                replace(client, leg="upstream"),
            )
        return made

    def _load_balanced(self, source: FlowEnd, destination: FlowEnd) -> bool:
        """Whether this Internet -> role flow goes through the NetScaler load-balancing
        virtual server that publishes the role (``publish: {xenmobile: netscaler-lb}``)."""
        return (
            self.site.publish.get(destination.role) == "netscaler-lb"
            and source.zone == self.zones.internet
            and destination.zone != self.zones.internet
        )

    def _through_load_balancer(
        self,
        req_id: str,
        source: FlowEnd,
        destination: FlowEnd,
        protocol: Protocol,
        ports: PortSet,
        traits: _FlowTraits,
    ) -> int:
        """source -> the NetScaler's VIP, and the NetScaler's SNIP -> the servers, each
        leg serving ``req_id``."""
        shown = destination.role_name
        made = 0
        for vip in self.ends(NETSCALER_ROLE, "vip"):
            note = _(
                "through the NetScaler load-balancing virtual server that publishes {role}"
            ).format(role=shown)
            made += self._add_flow(
                req_id, source, vip, protocol, ports, replace(traits, notes=(*traits.notes, note))
            )
        for snip in self.ends(NETSCALER_ROLE, "snip"):  # made once per requirement (_made)
            note = _(
                "the NetScaler's own flow to {role}, behind its load-balancing virtual server"
            ).format(role=shown)
            made += self._add_flow(
                req_id,
                snip,
                destination,
                protocol,
                ports,
                replace(traits, notes=(*traits.notes, note)),
            )
        return made

    def _add_flow(
        self,
        req_id: str,
        source: FlowEnd,
        destination: FlowEnd,
        protocol: Protocol,
        ports: PortSet,
        traits: _FlowTraits,
        proxy: ProxyLeg | None = None,
    ) -> int:
        if source.zone == destination.zone == self.zones.internet:
            self.skipped.append(
                Skipped(
                    req_id, _("both ends are on the Internet: no firewall of the site is involved")
                )
            )
            return 0
        if self.site.publish:  # only publishing makes a second way to a flow
            made = (req_id, source, destination, protocol, ports)
            if made in self._made:
                return 0
            self._made.add(made)
        firewalls = self.graph.path(source.zone, destination.zone)
        flow_notes = traits.notes
        if firewalls is None:
            message = _("no firewall path from zone {source} to {destination}").format(
                source=source.zone, destination=destination.zone
            )
            self.warnings.append(f"{req_id}: {message}")
            flow_notes += (message,)
            firewalls = ()
        number = self._numbers.get(req_id, 0) + 1
        self._numbers[req_id] = number
        self.flow_ports += len(ports)
        if self.flow_ports > MAX_FLOW_PORTS:
            raise TooManyFlowPorts(
                _(
                    "the plan would hold more than {limit:,} flow ports (one port of one "
                    "flow): {total:,} by flow {flow}, which has {ports:,} ports"
                ).format(
                    limit=MAX_FLOW_PORTS,
                    total=self.flow_ports,
                    flow=f"{req_id}.{number}",
                    ports=len(ports),
                ),
                hint=_("list only the ports the application uses, in fewer flows"),
            )
        tls_ports = traits.tls_ports
        flow_id = f"{req_id}.{number}"
        self.flows.append(
            Flow(
                id=flow_id,
                requirement=req_id,
                source=source,
                destination=destination,
                protocol=protocol,
                ports=ports,
                firewalls=firewalls,
                description=traits.description,
                service=traits.service,
                tls=bool(tls_ports) and tls_ports == ports,
                status=traits.status,
                notes=flow_notes,
                tls_ports=tls_ports,
                requested=traits.requested,
                proxy=proxy,
                nat=self.nat.of(flow_id, source, destination, ports, firewalls),
            )
        )
        return 1


@dataclass(frozen=True)
class _FlowTraits:
    """What the flows of one requirement share, whatever their ends."""

    description: str
    service: str | None
    status: str
    notes: tuple[str, ...]
    tls_ports: PortSet
    requested: bool


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


class TooManyFlowPorts(UserError):
    """The plan would pass ``MAX_FLOW_PORTS``; ``site_path`` is where in the site file
    (the site flow that crossed it, else the hosts that multiply the catalog's flows)."""

    site_path: tuple[str | int, ...] = ("hosts",)


def build_plan(
    site: Site, catalog: Catalog, *, lang: Lang = "en", site_file: str | None = None
) -> Plan:
    """Resolve every requirement of ``catalog`` (and the site's own flows) for ``site``;
    its texts (reasons, notes, warnings) are in ``lang``."""
    with language(lang):
        return _build_plan(site, catalog, lang, site_file)


def _build_plan(site: Site, catalog: Catalog, lang: Lang, site_file: str | None) -> Plan:
    planner = _Planner(site, catalog, lang)
    for req in catalog.requirements:
        planner.add_requirement(req)
    for index, site_flow in enumerate(site.flows):
        try:
            planner.add_site_flow(site_flow)
        except TooManyFlowPorts as exc:
            exc.site_path = ("flows", index, "ports")
            raise
    return Plan(
        site=planner.view,
        catalog=catalog_view(catalog),
        flows=tuple(planner.flows),
        skipped=tuple(dict.fromkeys(planner.skipped)),
        lang=lang,
        site_file=site_file,
        warnings=tuple(dict.fromkeys([*planner.warnings, *planner.nat.warnings])),
        nat=planner.nat.translations,
    )


def missing_reason(flow: Flow) -> str | None:
    """Why no packet filter rule can open ``flow`` as planned, or None.

    An end without address, name or choice (the SMS relay of a site that names none), or
    a wildcard name with neither proxy nor 'any' choice: the flow is missing from every
    packet filter's rules, never widened to any address.
    """
    for end, unresolved in (
        (
            flow.source,
            N_(
                "source {role} has no address, name or choice (hint: give the site a "
                "host of role {role} with its addresses or fqdn, or choose "
                "'internet: any' with a reason under external: {role})"
            ),
        ),
        (
            flow.destination,
            N_(
                "destination {role} has no address, name or choice (hint: give the site a "
                "host of role {role} with its addresses or fqdn, or choose "
                "'internet: any' with a reason under external: {role})"
            ),
        ),
    ):
        if end.unresolved:
            return _(unresolved).format(role=end.role)
    for end, wildcard in (
        (
            flow.source,
            N_(
                "source {names}: no packet filter can match a wildcard name "
                "(hint: declare proxy: or choose internet: any for {role} under external:)"
            ),
        ),
        (
            flow.destination,
            N_(
                "destination {names}: no packet filter can match a wildcard name "
                "(hint: declare proxy: or choose internet: any for {role} under external:)"
            ),
        ),
    ):
        wildcards = [n for n in end.names if n.startswith("*.")] if not end.any_address else []
        if wildcards:
            return _(wildcard).format(names=", ".join(wildcards), role=end.role)
    return None


#: The catalog statuses, as the plan's texts name them (the values stay the catalog's).
_STATUS_WORDS = {
    "current": lambda: pgettext("catalog status", "current"),
    "obsolete": lambda: pgettext("catalog status", "obsolete"),
    "legacy": lambda: pgettext("catalog status", "legacy"),
    "odd": lambda: pgettext("catalog status", "odd"),
}


def status_word(status: str) -> str:
    """A catalog status (``obsolete``) in the current language."""
    word = _STATUS_WORDS.get(status)
    return word() if word is not None else status
