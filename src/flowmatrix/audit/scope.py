"""From a planned flow to the packets a firewall sees: addresses and interfaces.

A flow end is a list of addresses and CIDRs, or "anything in a zone" (``any_address``),
or only a name (an FQDN the plan cannot resolve): the last two are evaluated over every
address of the zone (the Internet zone: every address in no other zone), so the verdict
holds whatever the name resolves to, or says that it depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flowmatrix.audit import ranges
from flowmatrix.audit.ipassmt import InterfaceMap
from flowmatrix.audit.ranges import Ivs
from flowmatrix.i18n import _
from flowmatrix.model import Flow, FlowEnd
from flowmatrix.networks import IPNetwork
from flowmatrix.site_view import Firewall, SiteView, Zone
from flowmatrix.topology import elsewhere, zone_networks


@dataclass(frozen=True)
class EndScope:
    """The addresses of one flow end, per family."""

    by_family: dict[int, Ivs]
    note: str | None = None
    """Why the set is wider than the hosts' own addresses (zone-wide, name only)."""


def zone_addresses(site: SiteView, zone_name: str) -> dict[int, Ivs]:
    """Every address of a zone but those of the zones nested in it; the Internet zone
    holds all that no other zone holds. (A new dict each call, the values shared.)"""
    return dict(_zone_addresses(site.zones, zone_name))


@lru_cache(maxsize=256)
def _zone_addresses(zones: tuple[Zone, ...], zone_name: str) -> tuple[tuple[int, Ivs], ...]:
    """``zone_addresses``, once per site and zone: every flow end of the zone asks."""
    zone = next((z for z in zones if z.name == zone_name), None)
    if zone is None:
        return ()
    own = _networks(zone_networks(zones)[zone_name])
    if not zone.internet:
        return tuple(own.items())
    others = _networks(elsewhere(zones, zone_name))
    out: dict[int, Ivs] = {}
    for family in (4, 6):
        rest = ranges.complement(others.get(family, ()), ranges.ADDR_MAX[family])
        if rest:
            out[family] = rest
    for family, ivs in own.items():
        out[family] = ranges.union(out.get(family, ()), ivs)
    return tuple(out.items())


def _networks(networks: tuple[IPNetwork, ...]) -> dict[int, Ivs]:
    grouped: dict[int, list[tuple[int, int]]] = {}
    for network in networks:
        interval = (int(network.network_address), int(network.broadcast_address))
        grouped.setdefault(network.version, []).append(interval)
    return {family: ranges.normalize(ivs) for family, ivs in grouped.items()}


def _cidrs(items: tuple[str, ...] | list[str]) -> dict[int, Ivs]:
    grouped: dict[int, list[tuple[int, int]]] = {}
    for item in items:
        family, interval = ranges.parse_prefix(item)
        grouped.setdefault(family, []).append(interval)
    return {family: ranges.normalize(ivs) for family, ivs in grouped.items()}


def end_scope(site: SiteView, end: FlowEnd) -> EndScope:
    if end.any_address:
        return EndScope(
            zone_addresses(site, end.zone), _("any address of zone {zone}").format(zone=end.zone)
        )
    addresses = end.addresses
    unresolved = [h.fqdn or h.name for h in end.hosts if not h.addresses]
    if addresses and not unresolved:
        return EndScope(_cidrs(list(addresses)))
    scope = zone_addresses(site, end.zone)
    if addresses:
        for family, ivs in _cidrs(list(addresses)).items():
            scope[family] = ranges.union(scope.get(family, ()), ivs)
    names = ", ".join(unresolved) or end.role_name
    note = _("{names} given by name only: every address of zone {zone}")
    return EndScope(scope, note.format(names=names, zone=end.zone))


class EndScopes:
    """``end_scope`` of each distinct flow end of one site, made once: thousands of flow
    ports share a few hundred ends (by value: an end is its role, zone and hosts). For one
    audit (a note is in the language of its time); the scopes are shared, not to change."""

    def __init__(self, site: SiteView) -> None:
        self.site = site
        self._found: dict[FlowEnd, EndScope] = {}

    def __call__(self, end: FlowEnd) -> EndScope:
        found = self._found.get(end)
        if found is None:
            found = self._found[end] = end_scope(self.site, end)
        return found


def firewall_zones(site: SiteView, flow: Flow, firewall: Firewall) -> tuple[str | None, str | None]:
    """The zones a flow comes from and goes to, as seen by ``firewall`` on its path."""
    path = list(flow.firewalls)
    index = path.index(firewall.name)
    by_name = {f.name: f for f in site.firewalls}

    def shared(a: Firewall, b: Firewall) -> str | None:
        return next((z for z in a.zones if z in b.zones), None)

    if index == 0:
        ingress: str | None = flow.source.zone
    else:
        previous = by_name.get(path[index - 1])
        ingress = shared(firewall, previous) if previous else None
    if index == len(path) - 1:
        egress: str | None = flow.destination.zone
    else:
        following = by_name.get(path[index + 1])
        egress = shared(firewall, following) if following else None
    return ingress, egress


@dataclass(frozen=True)
class Interfaces:
    """How the interfaces of the packets are known."""

    ipassmt: InterfaceMap | None
    iif: str | None
    oif: str | None

    def split_source(self, family: int, ivs: Ivs) -> list[tuple[Ivs, str | None]]:
        if self.ipassmt is None:
            return [(ivs, self.iif)]
        return self.ipassmt.split(family, ivs)

    def split_destination(self, family: int, ivs: Ivs) -> list[tuple[Ivs, str | None]]:
        if self.ipassmt is None:
            return [(ivs, self.oif)]
        return self.ipassmt.split(family, ivs)


def interfaces_for(
    site: SiteView, flow: Flow, firewall: Firewall | None, ipassmt: InterfaceMap | None
) -> Interfaces:
    """The interface map if given, else the site's ``interfaces`` of the firewall by zone."""
    if ipassmt is not None or firewall is None:
        return Interfaces(ipassmt, None, None)
    ingress, egress = firewall_zones(site, flow, firewall)
    iif = firewall.interfaces.get(ingress) if ingress else None
    oif = firewall.interfaces.get(egress) if egress else None
    return Interfaces(None, iif, oif)
