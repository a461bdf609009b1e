"""The lab's namespaces: one per zone (a bridge holding the zone's addresses), one per
firewall (an interface on each of its zones' bridges, forwarding on, routes to every
zone, the rules loaded with ``nft -f``).

Zone namespace ``Z``: bridge ``br0`` with the zone's transit address (.1) and every lab
address of the zone; routes to the other zones through the first firewall on the way.
Firewall namespace ``F``: one veth per zone, named as the site's ``interfaces`` say when
that is a valid Linux name (so the rules' iifname/oifname are exercised), with the
transit address .(10 + firewall index); routes to zones it does not touch through the
next firewall.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flowmatrix.lab.addressing import AddressPlan
from flowmatrix.netns import Namespace, NamespaceSet
from flowmatrix.site import Firewall, Site
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


def _batch(namespace: Namespace, commands: list[str]) -> None:
    """Run ``ip`` commands in one process inside ``namespace``."""
    if commands:
        namespace.run(["ip", "-batch", "-"], input_text="\n".join(commands) + "\n")


def _families(addresses: AddressPlan) -> tuple[int, ...]:
    return (4, 6) if addresses.ipv6 else (4,)


def _prefixes(site: Site, zone_name: str, family: int) -> list[str]:
    zone = next(z for z in site.zones if z.name == zone_name)
    if zone.internet:
        return ["0.0.0.0/0" if family == 4 else "::/0"]
    return [c for c in zone.cidrs if (":" in c) == (family == 6)]


def build_topology(
    site: Site,
    addresses: AddressPlan,
    namespaces: NamespaceSet,
    progress: Callable[[str], None] | None = None,
) -> LabTopology:
    """Create the namespaces, links, addresses and routes (the rules are loaded apart)."""
    lab = LabTopology()
    graph = FirewallGraph(site)
    fw_index = {f.name: i for i, f in enumerate(site.firewalls)}
    families = _families(addresses)
    for index, zone in enumerate(site.zones):
        ns = namespaces.add(f"z{index}")
        lab.zones[zone.name] = ns
        commands = [f"link add {BRIDGE} type bridge", f"link set {BRIDGE} up"]
        transit = addresses.transit[zone.name]
        for family in families:
            commands.append(
                f"addr add {transit.zone_address(family)}/{transit.prefix(family)} "
                f"dev {BRIDGE}" + (" nodad" if family == 6 else "")
            )
        for address in addresses.by_zone.get(zone.name, []):
            bits = 128 if ":" in address else 32
            commands.append(
                f"addr add {address}/{bits} dev {BRIDGE}" + (" nodad" if bits == 128 else "")
            )
        _batch(ns, commands)
    if progress:
        progress(f"lab: {len(site.zones)} zone namespaces")
    for index, firewall in enumerate(site.firewalls):
        ns = namespaces.add(f"f{index}", forwarding=True)
        lab.firewalls[firewall.name] = ns
        names = interface_names(firewall)
        lab.interfaces[firewall.name] = names
        commands = []
        for attached in firewall.zones:
            zone_ns = lab.zones[attached]
            port = f"f{index}"
            namespaces.link(ns, names[attached], zone_ns, port)
            zone_ns.ip("link", "set", port, "master", BRIDGE)
            transit = addresses.transit[attached]
            for family in families:
                commands.append(
                    f"addr add {transit.firewall_address(family, index)}/{transit.prefix(family)}"
                    f" dev {names[attached]}" + (" nodad" if family == 6 else "")
                )
        commands.extend(_firewall_routes(site, graph, firewall, names, addresses, fw_index))
        _batch(ns, commands)
    for zone in site.zones:
        _batch(lab.zones[zone.name], _zone_routes(site, graph, zone.name, addresses, fw_index))
    if progress:
        progress(f"lab: {len(site.firewalls)} firewall namespaces, routes in place")
    return lab


def _route(prefix: str, via: str, dev: str) -> str:
    return f"route replace {prefix} via {via} dev {dev}"


def _zone_routes(
    site: Site, graph: FirewallGraph, zone: str, addresses: AddressPlan, fw_index: dict[str, int]
) -> list[str]:
    commands: list[str] = []
    transit = addresses.transit[zone]
    for other in site.zones:
        if other.name == zone:
            continue
        path = graph.path(zone, other.name)
        if not path:
            continue
        for family in _families(addresses):
            via = transit.firewall_address(family, fw_index[path[0]])
            commands.extend(_route(p, via, BRIDGE) for p in _prefixes(site, other.name, family))
    return commands


def _firewall_routes(
    site: Site,
    graph: FirewallGraph,
    firewall: Firewall,
    names: dict[str, str],
    addresses: AddressPlan,
    fw_index: dict[str, int],
) -> list[str]:
    commands: list[str] = []
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
            commands.extend(
                _route(p, via, names[hop_zone]) for p in _prefixes(site, zone.name, family)
            )
    return commands


def load_rules(namespace: Namespace, text: str) -> None:
    """Load an nftables script into ``namespace`` (one transaction)."""
    namespace.run(["nft", "-f", "-"], input_text=text)
