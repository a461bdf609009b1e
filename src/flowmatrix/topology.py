"""Zones and firewalls as a graph: which zone an address is in, which firewalls a flow crosses."""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from flowmatrix.site import IPNetwork, Site, Zone, parse_network


def _span(network: IPNetwork) -> tuple[int, int, int]:
    """(IP version, first address, last address) as integers."""
    first = int(network.network_address)
    return network.version, first, first + network.num_addresses - 1


@lru_cache(maxsize=16)
def zone_networks(zones: tuple[Zone, ...]) -> Mapping[str, tuple[IPNetwork, ...]]:
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
    def from_site(cls, site: Site) -> ZoneIndex:
        entries = [(parse_network(cidr), zone.name) for zone in site.zones for cidr in zone.cidrs]
        entries.sort(key=lambda item: (item[0].version, -item[0].prefixlen))
        internet = next((z.name for z in site.zones if z.internet), None)
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

    site: Site

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
    site: Site, source_zone: str, destination_zone: str, firewalls: Sequence[str]
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
