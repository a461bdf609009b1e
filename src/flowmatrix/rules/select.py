"""From a plan to the rule specs of one firewall (forward path) or one host (input/output)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from flowmatrix.errors import UserError
from flowmatrix.i18n import _, pgettext
from flowmatrix.model import Flow, FlowEnd, HostRef, Plan
from flowmatrix.rules.firewall_view import (
    FAMILIES,
    Chain,
    Family,
    Finding,
    NatSpec,
    RuleSpec,
    Scope,
    Selection,
    Side,
    in_both,
)
from flowmatrix.rules.natrules import in_rule_order
from flowmatrix.rules.text import identifier
from flowmatrix.site_view import Firewall, Host

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Interface names as firewalls write them (eth0, ethernet1/1, port2, Gi0/1.100).
_INTERFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,63}")


@dataclass
class _Selector:
    plan: Plan
    interfaces: Mapping[str, str] | None
    findings: list[Finding] = field(default_factory=list)
    _networks: dict[str, IPNet] = field(default_factory=dict)
    _sides: dict[tuple[int, str | None], tuple[FlowEnd, Side]] = field(default_factory=dict)
    """By the end's identity (the plan shares its ends between flows); the end is kept
    with the side so that its id cannot be reused while the cache lives."""
    _excluded: dict[
        str, tuple[tuple[ipaddress.IPv4Network, ...], tuple[ipaddress.IPv6Network, ...]]
    ] = field(default_factory=dict)
    hosts: dict[str, Host] = field(init=False)

    def __post_init__(self) -> None:
        self.hosts = {h.name: h for h in self.plan.site.hosts}

    def network(self, text: str) -> IPNet:
        found = self._networks.get(text)
        if found is None:
            found = ipaddress.ip_network(text, strict=False)
            self._networks[text] = found
        return found

    def zone_cidrs(self, zone_name: str) -> tuple[str, ...]:
        """The networks of 'any address' of a zone: its own, less the zones nested in it
        (none for the Internet zone, whose 'any' excludes the other zones instead)."""
        for zone in self.plan.site.zones:
            if zone.name == zone_name:
                if zone.internet:
                    return ()
                return tuple(str(n) for n in self.plan.site.topology.own_networks[zone_name])
        return ()

    def excluded(
        self, zone_name: str
    ) -> tuple[tuple[ipaddress.IPv4Network, ...], tuple[ipaddress.IPv6Network, ...]]:
        """What 'any address' of ``zone_name`` must not match: the networks of every other
        zone when it is the Internet zone (whose addresses are those in no other zone)."""
        found = self._excluded.get(zone_name)
        if found is None:
            site = self.plan.site
            v4: list[ipaddress.IPv4Network] = []
            v6: list[ipaddress.IPv6Network] = []
            if zone_name == site.internet:
                for net in site.topology.elsewhere(zone_name):
                    if isinstance(net, ipaddress.IPv4Network):
                        v4.append(net)
                    else:
                        v6.append(net)
            found = (tuple(v4), tuple(v6))
            self._excluded[zone_name] = found
        return found

    def side(self, end: FlowEnd, only_host: str | None = None) -> Side:
        cache_key = (id(end), only_host)
        cached = self._sides.get(cache_key)
        if cached is not None:
            return cached[1]
        hosts: tuple[HostRef, ...] = end.hosts
        key = f"{end.role}_{end.zone}"
        if only_host is not None:
            hosts = tuple(h for h in end.hosts if h.name == only_host)
            key = f"{only_host}_{end.zone}"
        kind = self.netscaler_kind(hosts)
        if kind:
            key += f"_{kind}"
        addresses: list[str] = []
        for host in hosts:
            addresses.extend(host.addresses)
        is_any = end.any_address and only_host is None
        names: tuple[str, ...] = ()
        if not is_any:
            names = tuple(dict.fromkeys(h.fqdn for h in hosts if h.fqdn and not h.addresses))
        not_v4: tuple[ipaddress.IPv4Network, ...] = ()
        not_v6: tuple[ipaddress.IPv6Network, ...] = ()
        if is_any:
            cidrs = self.zone_cidrs(end.zone)
            is_any = not cidrs
            addresses = list(cidrs)
            if is_any:
                not_v4, not_v6 = self.excluded(end.zone)
        v4: list[ipaddress.IPv4Network] = []
        v6: list[ipaddress.IPv6Network] = []
        for text in addresses:
            net = self.network(text)
            if isinstance(net, ipaddress.IPv4Network):
                v4.append(net)
            else:
                v6.append(net)
        made = Side(
            role=end.role,
            zone=end.zone,
            key=identifier(key, 48),
            any=is_any,
            v4=tuple(ipaddress.collapse_addresses(v4)) if len(v4) > 1 else tuple(v4),
            v6=tuple(ipaddress.collapse_addresses(v6)) if len(v6) > 1 else tuple(v6),
            names=names,
            any_reason=end.any_reason if is_any else None,
            not_v4=not_v4,
            not_v6=not_v6,
            not_key=identifier(f"zone_not_{end.zone}", 48) if not_v4 or not_v6 else "",
        )
        self._sides[cache_key] = (end, made)
        return made

    def netscaler_kind(self, hosts: tuple[HostRef, ...]) -> str | None:
        """nsip, vip, snip or aaa when every host is a NetScaler used through that address."""
        kinds = set()
        for ref in hosts:
            host = self.hosts.get(ref.name)
            ns = host.netscaler if host is not None else None
            if ns is None or not ref.addresses:
                return None
            named: dict[str, set[str]] = {
                "vip": set(ns.vip),
                "snip": set(ns.snip),
                "nsip": {a for a in (ns.nsip,) if a},
                "aaa": {a for a in (ns.aaa,) if a},
            }
            kind = next((k for k, values in named.items() if set(ref.addresses) <= values), None)
            if kind is None:
                return None
            kinds.add(kind)
        return kinds.pop() if len(kinds) == 1 else None

    def walk(self, flow: Flow) -> list[str] | None:
        return self.plan.site.topology.walk(flow.source.zone, flow.destination.zone, flow.firewalls)

    def spec(
        self,
        flow: Flow,
        chain: Chain,
        source: Side,
        destination: Side,
        hop: tuple[str | None, str | None] = (None, None),
        interfaces: Mapping[str, str] | None = None,
    ) -> RuleSpec:
        in_zone, out_zone = hop
        mapping = interfaces or {}
        problem, said = _problem(source, destination)
        families: tuple[Family, ...] = ()
        if problem is None and source.any and destination.any:
            # 'any' to 'any' needs no family match, unless an end excludes networks
            if source.has_exclusions or destination.has_exclusions:
                families = FAMILIES
        elif problem is None:
            families = tuple(
                f for f in FAMILIES if source.matches_family(f) and destination.matches_family(f)
            )
            if not families:
                problem, said = in_both(
                    lambda: _(
                        "no common address family: source {source}, destination {destination}"
                    ).format(source=_families_text(source), destination=_families_text(destination))
                )
        left_out = None
        if not flow.requested:
            left_out = (
                f"{flow.status}: not requested (keep_obsolete: [{flow.requirement}] opens it)"
            )
        elif problem is not None:
            message = _("missing: {problem}").format(problem=said)
            self.findings.append(Finding("error", message, flow.id))
        else:
            for side, sentence in (
                (
                    source,
                    _(
                        "explicit any: source {role} opened to any Internet address "
                        "on {protocol}/{ports}: {reason}"
                    ),
                ),
                (
                    destination,
                    _(
                        "explicit any: destination {role} opened to any Internet address "
                        "on {protocol}/{ports}: {reason}"
                    ),
                ),
            ):
                if side.any and side.any_reason:
                    text = sentence.format(
                        role=side.role,
                        protocol=flow.protocol,
                        ports=flow.ports.text(","),
                        reason=side.any_reason,
                    )
                    self.findings.append(Finding("info", text, flow.id))
        return RuleSpec(
            flow=flow,
            chain=chain,
            source=source,
            destination=destination,
            in_zone=in_zone,
            out_zone=out_zone,
            in_interface=_interface(mapping.get(in_zone)) if in_zone else None,
            out_interface=_interface(mapping.get(out_zone)) if out_zone else None,
            families=families,
            problem=problem if left_out is None else None,
            left_out=left_out,
        )

    def firewall_specs(self, firewall: Firewall) -> list[RuleSpec]:
        interfaces = self.interfaces if self.interfaces is not None else firewall.interfaces
        specs = []
        for flow in self.plan.flows:
            if firewall.name not in flow.firewalls:
                continue
            zones = self.walk(flow)
            hop: tuple[str | None, str | None] = (None, None)
            if zones is not None:
                index = flow.firewalls.index(firewall.name)
                hop = (zones[index], zones[index + 1])
            source, destination = flow.seen_by(firewall.name)  # NAT: what this one sees
            specs.append(
                self.spec(
                    flow, "forward", self.side(source), self.side(destination), hop, interfaces
                )
            )
        return specs

    def host_specs(self, host: str) -> list[RuleSpec]:
        specs = []
        for flow in self.plan.flows:
            if any(h.name == host for h in flow.destination.hosts):
                specs.append(  # from the source as it arrives (source NAT on the way)
                    self.spec(
                        flow, "input", self.side(flow.received()), self.side(flow.destination, host)
                    )
                )
            if any(h.name == host for h in flow.source.hosts):
                specs.append(  # to the destination as sent (its public address)
                    self.spec(flow, "output", self.side(flow.source, host), self.side(flow.sent()))
                )
        return specs


@lru_cache(maxsize=1024)
def _interface(name: str | None) -> str | None:
    if name is not None and not _INTERFACE.fullmatch(name):
        raise UserError(
            _("interface name {name!r} cannot be used in a firewall rule").format(name=name),
            hint=_("use letters, digits and . _ : / @ + - (at most 64 characters)"),
        )
    return name


def _problem(source: Side, destination: Side) -> tuple[str | None, str | None]:
    """Why no rule can be written for these ends: in English (the rules' comment) and in
    the current language (the finding); None, None when a rule can be."""
    for side, is_source in ((source, True), (destination, False)):
        if not side.any and not side.has_addresses and not side.names:
            return in_both(_no_address, side, is_source)
    return None, None


def _no_address(side: Side, is_source: bool) -> str:
    if is_source:
        text = _(
            "source {role} in {zone} has no address, name or choice (hint: give the site a "
            "host of role {role} with its addresses or fqdn, or choose 'internet: any' with "
            "a reason under external: {role})"
        )
    else:
        text = _(
            "destination {role} in {zone} has no address, name or choice (hint: give the site "
            "a host of role {role} with its addresses or fqdn, or choose 'internet: any' with "
            "a reason under external: {role})"
        )
    return text.format(role=side.role, zone=side.zone)


def _families_text(side: Side) -> str:
    return _("IPv4 only") if side.v4 else _("IPv6 only")


def _nat_specs(
    plan: Plan,
    firewall: Firewall,
    interfaces: Mapping[str, str] | None,
    findings: list[Finding],
) -> tuple[NatSpec, ...]:
    """The firewall's translations in rule order, each with its interface on the outside."""
    mapping = interfaces if interfaces is not None else firewall.interfaces
    ordered = in_rule_order(plan.site, plan.nat_of(firewall.name))
    found = tuple(NatSpec(n, _interface(mapping.get(n.outside))) for n in ordered)
    for zone in dict.fromkeys(s.nat.outside for s in found if s.interface is None):
        message = _(
            "no interface of {firewall} on its outside zone {zone}: the nftables and "
            "iptables address translations match addresses only, on every interface "
            "(hint: give interfaces: {{{zone}: NAME}})"
        ).format(firewall=firewall.name, zone=zone)
        findings.append(Finding("warning", message))
    return found


def select(plan: Plan, scope: Scope, interfaces: Mapping[str, str] | None = None) -> Selection:
    """The rule specs of ``scope`` in ``plan``.

    ``interfaces`` (zone -> interface name) replaces the firewall's own mapping; the lab
    uses it for the interfaces it creates.
    """
    selector = _Selector(plan, interfaces)
    site = plan.site
    nat: tuple[NatSpec, ...] = ()
    if scope.kind == "firewall":
        firewall = site.firewall(scope.name)
        if firewall is None:
            names = ", ".join(f.name for f in site.firewalls) or pgettext("rules", "none")
            raise UserError(
                _("unknown firewall {name!r}").format(name=scope.name),
                hint=_("the site's firewalls: {names}").format(names=names),
            )
        specs = selector.firewall_specs(firewall)
        nat = _nat_specs(plan, firewall, interfaces, selector.findings)
    else:
        if scope.name not in {h.name for h in site.hosts}:
            names = ", ".join(h.name for h in site.hosts) or pgettext("rules", "none")
            raise UserError(
                _("unknown host {name!r}").format(name=scope.name),
                hint=_("the site's hosts: {names}").format(names=names),
            )
        specs = selector.host_specs(scope.name)
    if not specs:
        selector.findings.append(
            Finding(
                "warning",
                _("no flow of the plan concerns {scope}").format(scope=scope.said()),
            )
        )
    return Selection(scope, site.name, tuple(specs), tuple(selector.findings), nat)
