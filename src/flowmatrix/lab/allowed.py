"""Does any flow of the plan allow a packet? The lab keeps an unplanned case only when
none does (so each one must be blocked), and drops the probes of a flow the site does
not request that another flow allows anyway."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Mapping

from flowmatrix.model import FlowEnd, Plan

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


#: The networks an end matches, and whether an address must be outside all of them.
_Match = tuple[tuple[IPNetwork, ...], bool]


class Allowed:
    """Does any flow of the plan allow this packet?

    Ends match as the rules match them: their addresses; 'any address' of a zone with
    networks, those networks; 'any address' of the Internet zone, every address in no
    other zone of the site.
    """

    def __init__(self, plan: Plan, names: Mapping[tuple[str, int], str] | None = None) -> None:
        self.names: dict[str, list[str]] = defaultdict(list)
        """DNS name -> its lab addresses: a name set matches them once resolved."""
        for (name, _), address in (names or {}).items():
            self.names[name].append(address)
        self.topology = plan.site.topology
        self.zones: dict[str, tuple[IPNetwork, ...]] = dict(self.topology.own_networks)
        self.internet = {zone.name for zone in plan.site.zones if zone.internet}
        self.index: dict[tuple[str, int], list[tuple[_Match, _Match]]] = defaultdict(list)
        for flow in plan.flows:
            if not flow.requested:
                continue
            entry = (self._match(flow.source), self._match(flow.destination))
            for port in flow.ports:
                self.index[(flow.protocol, port)].append(entry)

    def _match(self, end: FlowEnd) -> _Match:
        if not end.any_address:
            named = [a for name in end.names for a in self.names.get(name, ())]
            return tuple(
                ipaddress.ip_network(a, strict=False) for a in (*end.addresses, *named)
            ), False
        if end.zone in self.internet or not self.zones.get(end.zone):
            return self.topology.elsewhere(end.zone), True
        return self.zones[end.zone], False

    def __call__(self, source: str, destination: str, protocol: str, port: int) -> bool:
        src = ipaddress.ip_address(source)
        dst = ipaddress.ip_address(destination)
        for sources, destinations in self.index.get((protocol, port), ()):
            if _covers(sources, src) and _covers(destinations, dst):
                return True
        return False

    def internet_any(self, end: FlowEnd) -> bool:
        """``end`` is 'any address' of the Internet zone."""
        return end.any_address and end.zone in self.internet


def _covers(match: _Match, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    networks, outside = match
    inside = any(n.version == address.version and address in n for n in networks)
    return inside != outside
