"""Zones and firewalls as a graph: which zone an address is in, which firewalls a flow
crosses, the zones a flow walks through, and each zone's own addresses.

The site checks use it on the validated site before any plan exists; the plan's
``SiteView.topology`` (a :class:`Topology`) computes it once for everything after the
plan. Both hand it zones and firewalls with the same fields (:class:`ZoneLike`,
:class:`FirewallLike`), so it imports neither.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Protocol

from flowmatrix.networks import IPNetwork, parse_network


class ZoneLike(Protocol):
    """A zone, validated (``site.Zone``) or as the plan carries it (``site_view.Zone``)."""

    @property
    def name(self) -> str: ...
    @property
    def cidrs(self) -> tuple[str, ...]: ...
    @property
    def internet(self) -> bool: ...


class FirewallLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def zones(self) -> tuple[str, ...]: ...


class SiteLike(Protocol):
    @property
    def zones(self) -> Sequence[ZoneLike]: ...
    @property
    def firewalls(self) -> Sequence[FirewallLike]: ...


def _span(network: IPNetwork) -> tuple[int, int, int]:
    """(IP version, first address, last address) as integers."""
    first = int(network.network_address)
    return network.version, first, first + network.num_addresses - 1


@lru_cache(maxsize=16)
def zone_networks(zones: tuple[ZoneLike, ...]) -> Mapping[str, tuple[IPNetwork, ...]]:
    """Each zone's own addresses, as networks: its CIDRs less the networks of the zones
    nested in them (an address belongs to the most specific zone holding it).

    ``10.0.0.0/8`` beside a zone of ``10.31.8.0/23`` becomes the 15 networks of the /8
    around the /23. The Internet zone's "every address in no other zone" is not listed:
    only the networks it names, if any. The site check refuses what would make this
    ambiguous (one network in two zones, two zones each inside the other).
    """
    everyone = [(parse_network(cidr), zone.name) for zone in zones for cidr in zone.cidrs]
    found: dict[str, tuple[IPNetwork, ...]] = {}
    for zone in zones:
        mine = _collapsed(parse_network(cidr) for cidr in zone.cidrs)
        holes = [
            network
            for network, other in everyone
            if other != zone.name and any(_strictly_inside(network, own) for own in mine)
        ]
        found[zone.name] = tuple(_collapsed(_without(mine, _collapsed(holes))))
    return found


@lru_cache(maxsize=256)
def elsewhere(zones: tuple[ZoneLike, ...], zone: str) -> tuple[IPNetwork, ...]:
    """The own networks of every zone but ``zone`` and the Internet zone, collapsed (IPv4
    first): what "any address" of the Internet zone, every address in no other zone,
    leaves out. The rules, the audit and the lab all exclude exactly these."""
    own = zone_networks(zones)
    return tuple(
        _collapsed(
            network
            for other in zones
            if other.name != zone and not other.internet
            for network in own[other.name]
        )
    )


def _strictly_inside(inner: IPNetwork, outer: IPNetwork) -> bool:
    version, first, last = _span(inner)
    outer_version, low, high = _span(outer)
    return version == outer_version and low <= first and last <= high and inner != outer


def _collapsed(networks: Iterable[IPNetwork]) -> list[IPNetwork]:
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for network in networks:
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
    return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]


def _without(networks: list[IPNetwork], holes: list[IPNetwork]) -> list[IPNetwork]:
    """``networks`` less every one of ``holes`` (each inside one of them)."""
    pieces = list(networks)
    for hole in holes:
        kept: list[IPNetwork] = []
        for piece in pieces:
            if hole == piece:
                continue
            if _strictly_inside(hole, piece):
                kept.extend(piece.address_exclude(hole))  # type: ignore[arg-type]
            else:
                kept.append(piece)
        pieces = kept
    return pieces


@dataclass(frozen=True)
class ZoneIndex:
    """Finds the zone of an address or network: the most specific zone CIDR containing it.

    Networks are compared as integer ranges (``ipaddress``'s ``subnet_of`` and ``overlaps``
    cost more than the rest of planning on a site of 20,000 hosts).
    """

    entries: tuple[tuple[IPNetwork, str], ...]
    internet: str | None

    @classmethod
    def of(cls, zones: Sequence[ZoneLike]) -> ZoneIndex:
        entries = [(parse_network(cidr), zone.name) for zone in zones for cidr in zone.cidrs]
        entries.sort(key=lambda item: (item[0].version, -item[0].prefixlen))
        internet = next((z.name for z in zones if z.internet), None)
        return cls(tuple(entries), internet)

    @cached_property
    def _spans(self) -> tuple[tuple[int, int, int, str], ...]:
        return tuple((*_span(network), zone) for network, zone in self.entries)

    def zone_of(self, network: IPNetwork) -> str | None:
        """The zone holding ``network`` entirely; the Internet zone if no other; else None."""
        version, first, last = _span(network)
        for candidate_version, low, high, zone in self._spans:
            if candidate_version == version and low <= first and last <= high:
                return zone
        if self.internet is not None and not self._overlaps(version, first, last):
            return self.internet
        return None

    def nested_in(self, network: IPNetwork, zone: str) -> tuple[IPNetwork, str] | None:
        """A network of another zone than ``zone`` lying inside ``network``, if any: a
        host network that spans it would hold addresses of two zones."""
        version, first, last = _span(network)
        for (candidate, other), (candidate_version, low, high, _) in zip(
            self.entries, self._spans, strict=True
        ):
            if other != zone and candidate_version == version and first <= low and high <= last:
                return candidate, other
        return None

    def overlaps_any(self, network: IPNetwork) -> bool:
        return self._overlaps(*_span(network))

    def _overlaps(self, version: int, first: int, last: int) -> bool:
        return any(
            candidate_version == version and low <= last and first <= high
            for candidate_version, low, high, _ in self._spans
        )


@dataclass(frozen=True)
class FirewallGraph:
    """Zones joined by firewalls; paths are shortest, ties broken by the site's order."""

    site: SiteLike

    @cached_property
    def _adjacency(self) -> dict[str, list[tuple[str, str]]]:
        adjacency: dict[str, list[tuple[str, str]]] = {z.name: [] for z in self.site.zones}
        for firewall in self.site.firewalls:
            for zone in firewall.zones:
                for other in firewall.zones:
                    if other != zone and zone in adjacency:
                        adjacency[zone].append((other, firewall.name))
        return adjacency

    @cached_property
    def _cache(self) -> dict[tuple[str, str], tuple[str, ...] | None]:
        return {}

    def path(self, source_zone: str, destination_zone: str) -> tuple[str, ...] | None:
        """Firewalls crossed from one zone to another, in order; None when no path exists."""
        key = (source_zone, destination_zone)
        if key not in self._cache:
            self._cache[key] = self._search(source_zone, destination_zone)
        return self._cache[key]

    def _search(self, source_zone: str, destination_zone: str) -> tuple[str, ...] | None:
        if source_zone == destination_zone:
            return ()
        previous: dict[str, tuple[str, str]] = {}
        queue = deque([source_zone])
        visited = {source_zone}
        while queue:
            zone = queue.popleft()
            for neighbour, firewall in self._adjacency.get(zone, ()):
                if neighbour in visited:
                    continue
                visited.add(neighbour)
                previous[neighbour] = (zone, firewall)
                if neighbour == destination_zone:
                    return self._walk_back(previous, source_zone, destination_zone)
                queue.append(neighbour)
        return None

    @staticmethod
    def _walk_back(
        previous: dict[str, tuple[str, str]], source_zone: str, destination_zone: str
    ) -> tuple[str, ...]:
        firewalls: list[str] = []
        zone = destination_zone
        while zone != source_zone:
            zone, firewall = previous[zone]
            if not firewalls or firewalls[-1] != firewall:
                firewalls.append(firewall)
        return tuple(reversed(firewalls))


def zone_walk(
    site: SiteLike, source_zone: str, destination_zone: str, firewalls: Sequence[str]
) -> list[str] | None:
    """Zones a flow goes through: ``firewalls[i]`` joins ``zones[i]`` to ``zones[i+1]``.

    The plan gives the firewalls in order; the zones between them follow from the site
    (first match in site order when two firewalls share several zones).
    """
    by_name = {f.name: f for f in site.firewalls}

    def walk(index: int, zone: str) -> list[str] | None:
        if index == len(firewalls):
            return [zone] if zone == destination_zone else None
        firewall = by_name.get(firewalls[index])
        if firewall is None or zone not in firewall.zones:
            return None
        for nxt in firewall.zones:
            if nxt == zone:
                continue
            rest = walk(index + 1, nxt)
            if rest is not None:
                return [zone, *rest]
        return None

    return walk(0, source_zone)


@dataclass(frozen=True, eq=False)
class Topology:
    """A site's zones and firewalls, with what every package after the plan asks of
    them computed once: each zone's own networks, the zone of an address, the firewalls
    between two zones and the zones a flow walks through."""

    zones: tuple[ZoneLike, ...]
    firewalls: tuple[FirewallLike, ...]
    _walks: dict[tuple[str, str, tuple[str, ...]], list[str] | None] = field(
        default_factory=dict, repr=False
    )

    @cached_property
    def graph(self) -> FirewallGraph:
        return FirewallGraph(self)

    @cached_property
    def index(self) -> ZoneIndex:
        """Address or network -> zone (the Internet's: every address in no other zone)."""
        return ZoneIndex.of(self.zones)

    @property
    def own_networks(self) -> Mapping[str, tuple[IPNetwork, ...]]:
        """Each zone's own networks, less the zones nested in it (``zone_networks``)."""
        return zone_networks(self.zones)

    def elsewhere(self, zone: str) -> tuple[IPNetwork, ...]:
        """The networks "any address" of the Internet zone leaves out (``elsewhere``)."""
        return elsewhere(self.zones, zone)

    @cached_property
    def internet(self) -> str | None:
        return next((z.name for z in self.zones if z.internet), None)

    def path(self, source_zone: str, destination_zone: str) -> tuple[str, ...] | None:
        return self.graph.path(source_zone, destination_zone)

    def walk(
        self, source_zone: str, destination_zone: str, firewalls: Sequence[str]
    ) -> list[str] | None:
        """The zones a flow goes through (``zone_walk``), once per ends and firewalls."""
        key = (source_zone, destination_zone, tuple(firewalls))
        if key not in self._walks:
            self._walks[key] = zone_walk(self, *key)
        return self._walks[key]
