"""The lab's namespaces: one per zone (a bridge holding the zone's addresses), one per
firewall (an interface on each of its zones' bridges, forwarding on, routes to every
zone, the rules loaded with ``nft -f``).

Zone namespace ``Z``: bridge ``br0`` with the zone's transit address (.1) and every lab
address of the zone; routes to the other zones through the first firewall on the way.
Firewall namespace ``F``: one veth per zone, named as the site's ``interfaces`` say when
that is a valid Linux name (so the rules' iifname/oifname are exercised), with the
transit address .(10 + firewall index); routes to zones it does not touch through the
next firewall. The public addresses of a firewall's address translations (and its
decoy) are routed to it by the zone they face and by the other firewalls on that zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flowmatrix.i18n import ngettext
from flowmatrix.lab.addressing import AddressPlan
from flowmatrix.netns import Namespace, NamespaceSet, batch_each, veth_command
from flowmatrix.site_view import Firewall, SiteView
from flowmatrix.topology import FirewallGraph

_LINUX_IFNAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")
BRIDGE = "br0"


@dataclass
class LabTopology:
    """What was built: namespaces by zone and firewall, and the firewall interface names."""

    zones: dict[str, Namespace] = field(default_factory=dict)
    firewalls: dict[str, Namespace] = field(default_factory=dict)
    interfaces: dict[str, dict[str, str]] = field(default_factory=dict)
    """firewall -> zone -> interface name inside the firewall namespace."""


def interface_names(firewall: Firewall) -> dict[str, str]:
    """zone -> interface name: the site's when Linux accepts it, else ``fmN``."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for zone in firewall.zones:
        wanted = firewall.interfaces.get(zone)
        if wanted and _LINUX_IFNAME.fullmatch(wanted) and wanted not in taken and wanted != "lo":
            names[zone] = wanted
            taken.add(wanted)
    number = 0
    for zone in firewall.zones:
        if zone in names:
            continue
        while f"fm{number}" in taken:
            number += 1
        names[zone] = f"fm{number}"
        taken.add(names[zone])
    return names


def _families(addresses: AddressPlan) -> tuple[int, ...]:
    return (4, 6) if addresses.ipv6 else (4,)


def _prefixes(site: SiteView, zone_name: str, family: int) -> list[str]:
    zone = next(z for z in site.zones if z.name == zone_name)
    if zone.internet:
        return ["0.0.0.0/0" if family == 4 else "::/0"]
    own = site.topology.own_networks[zone_name]  # the zones nested in it have their own routes
    return [str(n) for n in own if n.version == family]


def build_topology(
    site: SiteView,
    addresses: AddressPlan,
    namespaces: NamespaceSet,
    progress: Callable[[str], None] | None = None,
) -> LabTopology:
    """Create the namespaces, links, addresses and routes (the rules are loaded apart).

    Three steps, each as few processes as the kernel allows: every namespace in one
    ``ip -batch`` (registered beforehand, see :mod:`flowmatrix.netns`); then one ``ip
    -batch`` per zone, all zones at once, making its bridge, its addresses, its routes
    and a veth to each of its firewalls with the firewall's end created directly in the
    firewall's namespace; then one per firewall: interfaces up, addresses and routes.
    """
    lab = LabTopology()
    graph = site.topology.graph
    fw_index = {f.name: i for i, f in enumerate(site.firewalls)}
    zones = namespaces.add_many([f"z{i}" for i in range(len(site.zones))], loopback=False)
    walls = namespaces.add_many(
        [f"f{i}" for i in range(len(site.firewalls))], loopback=False, forwarding=True
    )
    lab.zones = {zone.name: ns for zone, ns in zip(site.zones, zones, strict=True)}
    lab.firewalls = {fw.name: ns for fw, ns in zip(site.firewalls, walls, strict=True)}
    lab.interfaces = {fw.name: interface_names(fw) for fw in site.firewalls}
    batch_each(
        {
            lab.zones[zone.name]: _zone_commands(site, graph, zone.name, lab, addresses, fw_index)
            for zone in site.zones
        }
    )
    if progress:
        zone_count = len(site.zones)
        progress(
            ngettext("lab: {n} zone namespaces", "lab: {n} zone namespaces", zone_count).format(
                n=zone_count
            )
        )
    batch_each(
        {
            lab.firewalls[fw.name]: _firewall_commands(site, graph, fw, lab, addresses, fw_index)
            for fw in site.firewalls
        }
    )
    if progress:
        count = len(site.firewalls)
        progress(
            ngettext(
                "lab: {n} firewall namespaces, routes in place",
                "lab: {n} firewall namespaces, routes in place",
                count,
            ).format(n=count)
        )
    return lab


def _address(address: str, prefix: int, dev: str) -> str:
    return f"addr add {address}/{prefix} dev {dev}" + (" nodad" if ":" in address else "")


def _zone_commands(
    site: SiteView,
    graph: FirewallGraph,
    zone: str,
    lab: LabTopology,
    addresses: AddressPlan,
    fw_index: dict[str, int],
) -> list[str]:
    """Bridge, addresses, a veth to each firewall of the zone, routes to the others."""
    commands = ["link set lo up", f"link add {BRIDGE} type bridge", f"link set {BRIDGE} up"]
    transit = addresses.transit[zone]
    for family in _families(addresses):
        commands.append(_address(transit.zone_address(family), transit.prefix(family), BRIDGE))
    for address in addresses.by_zone.get(zone, []):
        commands.append(_address(address, 128 if ":" in address else 32, BRIDGE))
    for firewall in site.firewalls:
        if zone not in firewall.zones:
            continue
        port = f"f{fw_index[firewall.name]}"
        inside = lab.interfaces[firewall.name][zone]
        commands += [
            veth_command(port, lab.firewalls[firewall.name], inside),
            f"link set {port} master {BRIDGE}",
            f"link set {port} up",
        ]
    routes = _zone_routes(site, graph, zone, addresses, fw_index)
    return commands + routes + _public_routes(zone, BRIDGE, addresses, fw_index, None)


def _firewall_commands(
    site: SiteView,
    graph: FirewallGraph,
    firewall: Firewall,
    lab: LabTopology,
    addresses: AddressPlan,
    fw_index: dict[str, int],
) -> list[str]:
    """Its interfaces (made by the zones) up with their transit addresses, and routes."""
    index = fw_index[firewall.name]
    names = lab.interfaces[firewall.name]
    commands = ["link set lo up"]
    for attached in firewall.zones:
        transit = addresses.transit[attached]
        commands.append(f"link set {names[attached]} up")
        for family in _families(addresses):
            commands.append(
                _address(
                    transit.firewall_address(family, index),
                    transit.prefix(family),
                    names[attached],
                )
            )
    commands += _firewall_routes(site, graph, firewall, names, addresses, fw_index)
    for attached in firewall.zones:
        commands += _public_routes(attached, names[attached], addresses, fw_index, firewall.name)
    return commands


Route = tuple[str, str, str]
"""(prefix, next hop, device)."""
_DEFAULTS = {4: "0.0.0.0/0", 6: "::/0"}


def _compact(routes: list[Route]) -> list[str]:
    """``ip route`` commands for ``routes``, the default route standing for every prefix
    sent the same way (the Internet's next hop, else the most used one).

    Equivalent for every address of the lab: each one is in a zone's networks or in the
    Internet's documentation ranges, zones do not overlap, and the transit networks are
    connected; a namespace of a 40-zone site gets a handful of routes instead of 80.
    """
    commands: list[str] = []
    for family, default in _DEFAULTS.items():
        mine = [r for r in routes if (":" in r[0]) == (family == 6)]
        if not mine:
            continue
        hops = [(via, dev) for prefix, via, dev in mine if prefix == default]
        if not hops:
            counts: dict[tuple[str, str], int] = {}
            for _, via, dev in mine:
                counts[(via, dev)] = counts.get((via, dev), 0) + 1
            hops = [max(counts, key=lambda hop: counts[hop])]
        via, dev = hops[0]
        commands.append(f"route replace {default} via {via} dev {dev}")
        commands.extend(
            f"route replace {prefix} via {hop} dev {out}"
            for prefix, hop, out in mine
            if prefix != default and (hop, out) != (via, dev)
        )
    return commands


def _zone_routes(
    site: SiteView,
    graph: FirewallGraph,
    zone: str,
    addresses: AddressPlan,
    fw_index: dict[str, int],
) -> list[str]:
    routes: list[Route] = []
    transit = addresses.transit[zone]
    for other in site.zones:
        if other.name == zone:
            continue
        path = graph.path(zone, other.name)
        if not path:
            continue
        for family in _families(addresses):
            via = transit.firewall_address(family, fw_index[path[0]])
            routes.extend((p, via, BRIDGE) for p in _prefixes(site, other.name, family))
    return _compact(routes)


def _firewall_routes(
    site: SiteView,
    graph: FirewallGraph,
    firewall: Firewall,
    names: dict[str, str],
    addresses: AddressPlan,
    fw_index: dict[str, int],
) -> list[str]:
    routes: list[Route] = []
    for zone in site.zones:
        if zone.name in firewall.zones:
            hop_zone, via_index = zone.name, None
        else:
            best: tuple[int, str, str] | None = None
            for attached in firewall.zones:
                path = graph.path(attached, zone.name)
                if path and path[0] != firewall.name and (best is None or len(path) < best[0]):
                    best = (len(path), attached, path[0])
            if best is None:
                continue
            hop_zone, via_index = best[1], fw_index[best[2]]
        transit = addresses.transit[hop_zone]
        for family in _families(addresses):
            via = (
                transit.zone_address(family)
                if via_index is None
                else transit.firewall_address(family, via_index)
            )
            routes.extend((p, via, names[hop_zone]) for p in _prefixes(site, zone.name, family))
    return _compact(routes)


def _public_routes(
    zone: str, dev: str, addresses: AddressPlan, fw_index: dict[str, int], here: str | None
) -> list[str]:
    """Routes to the addresses ``zone`` routes to a translating firewall (not the
    firewall ``here`` itself): through that firewall's transit address on the zone."""
    transit = addresses.transit[zone]
    commands = []
    for address, (firewall, faced) in addresses.routed.items():
        family = 6 if ":" in address else 4
        if faced != zone or firewall == here or (family == 6 and transit.v6 is None):
            continue
        via = transit.firewall_address(family, fw_index[firewall])
        prefix = 128 if family == 6 else 32
        commands.append(f"route replace {address}/{prefix} via {via} dev {dev}")
    return commands


def load_rules(namespace: Namespace, text: str) -> None:
    """Load an nftables script into ``namespace`` (one transaction)."""
    namespace.run(["nft", "-f", "-"], input_text=text)
