"""The lab's addresses: which address stands for each flow end, in which zone namespace.

* a host address is used as is (a /32 or /128 on the zone's bridge);
* a network host (clients: 10.10.96.0/22) is represented by its first free address;
* 'any address' in the Internet zone is represented by documentation addresses
  (203.0.113.0/24, 198.51.100.0/24, 2001:db8::/32) that are in no zone of the site;
* 'strangers' (addresses no host of the site has) are the sources of unplanned probes;
* a host known by name only (``rest.nexmo.com``) gets a lab address per family in its
  zone, which the lab's DNS server answers for that name (:mod:`flowmatrix.lab.naming`);
* the public addresses of the site's address translations are on no bridge: the zone
  they face routes them to their firewall (``routed``), as does one address per
  firewall and family that no translation names (a decoy, for unplanned probes).

All of them exist only inside the lab's namespaces, which have no link to the host.
The transit networks between zones and firewalls come from 100.64.0.0/10 (and an
fd00::/8 prefix for IPv6), chosen so they overlap nothing of the site.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from flowmatrix.i18n import _
from flowmatrix.model import FlowEnd, HostRef, Plan
from flowmatrix.site_view import SiteView
from flowmatrix.topology import ZoneIndex

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Where 'any address on the Internet' and Internet strangers come from.
INTERNET_V4 = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24")
INTERNET_V6 = ("2001:db8:ffff::/48", "2001:db8:fffe::/48", "3fff:ffff::/32")
#: Transit networks: one /24 (and one /64) per zone, from the first block free of the site.
TRANSIT_V4 = ("100.64.0.0/16", "100.65.0.0/16", "100.127.0.0/16", "198.18.0.0/16")
TRANSIT_V6 = ("fd6c:6162:0::/48", "fd6c:6162:1::/48", "fdfe:6c61:6200::/48")
#: Host part of a firewall's transit address: FIREWALL_HOST_BASE + its index in the site.
FIREWALL_HOST_BASE = 10


#: First label of the name that stands for a wildcard (``*.mzstatic.com``) in the lab.
WILDCARD_LABEL = "fmlab-wildcard"


def lab_name(name: str) -> str:
    """The name the lab resolves for a plan name: itself, or one name below a wildcard."""
    return f"{WILDCARD_LABEL}{name[1:]}" if name.startswith("*.") else name


def _network(text: str) -> IPNetwork:
    return ipaddress.ip_network(text, strict=False)


@dataclass(frozen=True)
class ZoneTransit:
    """The transit networks of one zone: the zone namespace is .1, firewalls .10 onwards."""

    v4: ipaddress.IPv4Network
    v6: ipaddress.IPv6Network | None

    def zone_address(self, family: int) -> str:
        net = self.v4 if family == 4 else self.v6
        assert net is not None
        return str(net.network_address + 1)

    def firewall_address(self, family: int, index: int) -> str:
        net = self.v4 if family == 4 else self.v6
        assert net is not None
        return str(net.network_address + FIREWALL_HOST_BASE + index)

    def prefix(self, family: int) -> int:
        net = self.v4 if family == 4 else self.v6
        assert net is not None
        return net.prefixlen


@dataclass
class AddressPlan:
    """Lab addresses per zone, and the representative of every flow end."""

    site: SiteView
    zones: ZoneIndex
    used: set[IPAddress] = field(default_factory=set)
    by_zone: dict[str, list[str]] = field(default_factory=dict)
    representative: dict[str, str] = field(default_factory=dict)
    """Site address or CIDR -> the lab address standing for it."""
    anys: dict[tuple[str, int], str] = field(default_factory=dict)
    strangers: dict[tuple[str, int, int], str] = field(default_factory=dict)
    transit: dict[str, ZoneTransit] = field(default_factory=dict)
    ipv6: bool = False
    names: dict[tuple[str, int], str] = field(default_factory=dict)
    """(DNS name, family) -> the lab address the lab's DNS server answers for it."""
    name_zones: dict[str, str] = field(default_factory=dict)
    """DNS name -> the zone its lab addresses are in."""
    routed: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Address -> (firewall, zone): an address of ``zone`` on no bridge, routed to the
    firewall whose translations face that zone."""
    decoys: dict[tuple[str, int], str] = field(default_factory=dict)
    """(firewall, family) -> its routed address that no translation names."""

    # --- placing addresses ------------------------------------------------------------

    def place(self, zone: str, address: IPAddress) -> str:
        text = str(address)
        self.used.add(address)
        found = self.by_zone.setdefault(zone, [])
        if text not in found:
            found.append(text)
        return text

    def _free(self, candidates: Iterable[IPAddress]) -> IPAddress | None:
        for candidate in candidates:
            if candidate not in self.used:
                return candidate
        return None

    def _in_zone(self, zone: str, address: IPAddress) -> bool:
        return self.zones.zone_of(ipaddress.ip_network(address)) == zone

    def _zone_networks(self, zone: str, family: int) -> list[IPNetwork]:
        for item in self.site.zones:
            if item.name == zone:
                if item.internet:
                    pools = INTERNET_V4 if family == 4 else INTERNET_V6
                    return [_network(p) for p in pools]
                own = self.site.topology.own_networks[zone]  # less the zones nested in it
                return [n for n in own if n.version == family]
        return []

    def route_to(self, firewall: str, zone: str, address: IPAddress) -> str:
        """Reserve ``address`` of ``zone`` as one routed to ``firewall``, on no bridge."""
        text = str(address)
        self.used.add(address)
        self.routed.setdefault(text, (firewall, zone))
        return text

    def decoy(self, firewall: str, zone: str, family: int) -> str | None:
        """An address of ``zone`` that no translation names, routed to ``firewall`` like
        its public addresses: what an unplanned probe sends to instead of one of them."""
        key = (firewall, family)
        if key not in self.decoys:
            for net in self._zone_networks(zone, family):
                free = self._free(a for a in _first_hosts(net) if self._in_zone(zone, a))
                if free is not None:
                    self.decoys[key] = self.route_to(firewall, zone, free)
                    break
        return self.decoys.get(key)

    # --- representatives --------------------------------------------------------------

    def host_addresses(self, ref: HostRef, zone: str) -> list[str]:
        """Lab addresses of one host of a flow end (a network host: one of its addresses)."""
        found = []
        for text in ref.addresses:
            lab = self.representative.get(text)
            if lab is None:
                net = _network(text)
                if net.num_addresses == 1:
                    lab = self.place(zone, net.network_address)
                else:
                    free = self._free(_first_hosts(net))
                    if free is None:
                        continue
                    lab = self.place(zone, free)
                self.representative[text] = lab
            found.append(lab)
        return found

    def any_address(self, zone: str, family: int) -> str | None:
        """A lab address for 'any address in ``zone``'."""
        key = (zone, family)
        if key not in self.anys:
            picked = self._pick(zone, family, _first_hosts)
            if picked is None:
                return None
            self.anys[key] = picked
        return self.anys[key]

    def _pick(
        self, zone: str, family: int, hosts: Callable[[IPNetwork], Iterator[IPAddress]]
    ) -> str | None:
        """Place the first free address of ``zone``'s networks, in the order of ``hosts``."""
        for net in self._zone_networks(zone, family):
            free = self._free(a for a in hosts(net) if self._in_zone(zone, a))
            if free is not None:
                return self.place(zone, free)
        return None

    def stranger(self, zone: str, family: int, number: int = 0) -> str | None:
        """An address of ``zone`` that no host of the site has (a source of unplanned probes)."""
        key = (zone, family, number)
        if key not in self.strangers:
            picked = self._pick(zone, family, _last_hosts)
            if picked is None:
                return None
            self.strangers[key] = picked
        return self.strangers[key]

    def name_address(self, name: str, zone: str, family: int) -> str | None:
        """The lab address of DNS name ``name`` in ``zone`` (a fresh one per name)."""
        key = (name, family)
        if key not in self.names:
            picked = self._pick(zone, family, _first_hosts)
            if picked is None:
                return None
            self.names[key] = picked
            self.name_zones[name] = zone
        return self.names[key]

    def name_addresses(self, end: FlowEnd) -> list[tuple[str, str]]:
        """(name, lab address) for every name of ``end`` known by name only, wildcards
        aside (no packet filter matches them: they go through the proxy)."""
        found = []
        for name in end.names:
            if name.startswith("*."):
                continue
            for family in (4, 6) if self.ipv6 else (4,):
                address = self.name_address(name, end.zone, family)
                if address is not None:
                    found.append((name, address))
        return found

    def end_addresses(self, end: FlowEnd) -> list[tuple[str, str]]:
        """(host label, lab address) for every host of ``end`` ('any': one representative)."""
        if end.any_address:
            found = []
            for family in (4, 6) if self.ipv6 else (4,):
                address = self.any_address(end.zone, family)
                if address is not None:
                    found.append((_("any ({zone})").format(zone=end.zone), address))
            return found
        return [(ref.name, a) for ref in end.hosts for a in self.host_addresses(ref, end.zone)]

    # --- transit ----------------------------------------------------------------------

    def plan_transit(self) -> None:
        """One transit /24 (and /64 when the lab has IPv6) per zone, clear of the site."""
        taken = [_network(c) for z in self.site.zones for c in z.cidrs]
        taken += [ipaddress.ip_network(a) for a in self.used]
        base4 = _clear_block(TRANSIT_V4, taken)
        base6 = _clear_block(TRANSIT_V6, taken) if self.ipv6 else None
        subnets4 = base4.subnets(new_prefix=24)
        subnets6 = base6.subnets(new_prefix=64) if base6 is not None else None
        for zone in self.site.zones:
            v4 = next(subnets4)
            v6 = next(subnets6) if subnets6 is not None else None
            assert isinstance(v4, ipaddress.IPv4Network)
            assert v6 is None or isinstance(v6, ipaddress.IPv6Network)
            self.transit[zone.name] = ZoneTransit(v4, v6)


def _clear_block(candidates: Iterable[str], taken: list[IPNetwork]) -> IPNetwork:
    for text in candidates:
        block = _network(text)
        if not any(t.version == block.version and t.overlaps(block) for t in taken):
            return block
    raise RuntimeError("no free transit block for the lab")  # every candidate overlaps the site


def _first_hosts(net: IPNetwork, limit: int = 4096) -> Iterator[IPAddress]:
    """The first usable addresses of ``net`` (the network itself for a /32 or /31)."""
    if net.num_addresses <= 2:
        yield from (net.network_address + i for i in range(net.num_addresses))
        return
    for offset in range(1, min(net.num_addresses - 1, limit)):
        yield net.network_address + offset


def _last_hosts(net: IPNetwork, limit: int = 4096) -> Iterator[IPAddress]:
    """The last usable addresses of ``net``, going down."""
    if net.num_addresses <= 2:
        yield from (net.network_address + i for i in range(net.num_addresses))
        return
    for offset in range(1, min(net.num_addresses - 1, limit)):
        yield net.broadcast_address - offset


def build_address_plan(plan: Plan) -> AddressPlan:
    """Lab addresses for every flow end of ``plan`` (single addresses first, so network
    representatives never take a host's address)."""
    addresses = AddressPlan(plan.site, plan.site.topology.index)
    for nat in plan.nat:  # first: no representative may take a public address
        if nat.public:
            addresses.route_to(nat.firewall, nat.outside, _network(nat.public).network_address)
    ends = [end for flow in plan.flows for end in (flow.source, flow.destination)]
    addresses.ipv6 = any(":" in a for end in ends for ref in end.hosts for a in ref.addresses)
    for end in ends:
        for ref in end.hosts:
            for text in ref.addresses:
                net = _network(text)
                if net.num_addresses == 1:
                    addresses.host_addresses(HostRef(ref.name, (text,)), end.zone)
    for end in ends:
        addresses.end_addresses(end)
    for flow in plan.flows:
        if flow.requested and not flow.destination.any_address:
            addresses.name_addresses(flow.destination)
        if flow.requested and flow.proxy is not None and addresses.zones.internet is not None:
            # the proxy resolves them: one IPv4 address each, the way the lab reaches it
            for name in flow.proxy.names:
                addresses.name_address(lab_name(name), addresses.zones.internet, 4)
    return addresses
