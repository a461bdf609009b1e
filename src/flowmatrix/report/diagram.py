"""The diagram as data: zones holding roles, firewalls joining zones, flows between roles.

One node per role and zone; the flows between two nodes become one edge, labelled with
protocols and ports and drawn as the worst check status among them. DOT, Mermaid and
the built-in SVG layout all draw this same model, with their own escaping; the ids
here are generated (``z1``, ``n1``, ``f1``, ``e1``) and never come from user text.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from flowmatrix.model import Flow, Plan
from flowmatrix.portset import PortRange, PortSet
from flowmatrix.report.status import STATUSES, Checks, Status
from flowmatrix.report.style import LOOKS

_HOSTS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    role: str
    label: str
    """The role's name."""
    hosts: str
    """Host names (the first few), or a count; empty for a whole zone."""
    zone: str


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    level: int
    """Firewall hops from the Internet zone (or from the first zone)."""
    cidrs: tuple[str, ...]
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Firewall:
    id: str
    name: str
    zones: tuple[str, ...]
    """Ids of the zones it joins."""


@dataclass(frozen=True, slots=True)
class Edge:
    id: str
    source: str
    target: str
    label: str
    """Protocols and ports, e.g. ``tcp 80, 443 · udp 53``."""
    status: Status
    retired: bool
    """Every flow of the edge comes from an obsolete or legacy requirement."""
    flows: tuple[str, ...]


@dataclass(frozen=True)
class Diagram:
    title: str
    zones: tuple[Zone, ...]
    firewalls: tuple[Firewall, ...]
    edges: tuple[Edge, ...]

    def node(self, node_id: str) -> Node:
        for zone in self.zones:
            for node in zone.nodes:
                if node.id == node_id:
                    return node
        raise KeyError(node_id)


#: Marks an edge whose flows all come from obsolete or legacy requirements.
RETIRED_MARK = "†"


def edge_text(edge: Edge) -> str:
    """An edge's label with its status symbol (and the retired mark), as drawn."""
    text = f"{edge.label} {LOOKS[edge.status].symbol}"
    return f"{text} {RETIRED_MARK}" if edge.retired else text


def zone_levels(plan: Plan) -> dict[str, int]:
    """Breadth-first firewall hops from the Internet zone; unreachable zones come last."""
    zones = [z.name for z in plan.site.zones]
    start = plan.site.internet or (zones[0] if zones else None)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for firewall in plan.site.firewalls:
        for zone in firewall.zones:
            neighbours[zone].update(z for z in firewall.zones if z != zone)
    levels: dict[str, int] = {}
    if start is not None:
        levels[start] = 0
        queue = deque([start])
        while queue:
            zone = queue.popleft()
            for other in sorted(neighbours[zone], key=zones.index):
                if other not in levels:
                    levels[other] = levels[zone] + 1
                    queue.append(other)
    deepest = max(levels.values(), default=-1)
    for zone in zones:
        levels.setdefault(zone, deepest + 1)
    return levels


def _hosts_text(names: list[str], any_address: bool) -> str:
    if any_address or not names:
        return ""
    if len(names) <= _HOSTS_SHOWN:
        return ", ".join(names)
    return f"{', '.join(names[:_HOSTS_SHOWN])} +{len(names) - _HOSTS_SHOWN}"


def build_diagram(plan: Plan, checks: Checks) -> Diagram:
    """The diagram of ``plan``, edges coloured by ``checks``."""
    levels = zone_levels(plan)
    zone_ids = {z.name: f"z{i + 1}" for i, z in enumerate(plan.site.zones)}
    node_keys: dict[tuple[str, str], str] = {}
    node_info: dict[str, tuple[str, str, dict[str, None], bool]] = {}

    def node_for(role: str, role_name: str, zone: str, hosts: list[str], whole: bool) -> str:
        key = (role, zone)
        if key not in node_keys:
            node_keys[key] = f"n{len(node_keys) + 1}"
            node_info[node_keys[key]] = (role, role_name, {}, whole)
        info = node_info[node_keys[key]]
        info[2].update(dict.fromkeys(hosts))
        return node_keys[key]

    grouped: dict[tuple[str, str], list[Flow]] = defaultdict(list)
    for flow in plan.flows:
        src, dst = flow.source, flow.destination
        source = node_for(
            src.role, src.role_name, src.zone, [h.name for h in src.hosts], src.any_address
        )
        target = node_for(
            dst.role, dst.role_name, dst.zone, [h.name for h in dst.hosts], dst.any_address
        )
        grouped[(source, target)].append(flow)

    nodes_by_zone: dict[str, list[Node]] = defaultdict(list)
    for (role, zone), node_id in node_keys.items():
        _, role_name, hosts, whole = node_info[node_id]
        nodes_by_zone[zone].append(
            Node(node_id, role, role_name, _hosts_text(list(hosts), whole), zone)
        )
    zones = tuple(
        Zone(zone_ids[z.name], z.name, levels[z.name], z.cidrs, tuple(nodes_by_zone[z.name]))
        for z in plan.site.zones
    )
    firewalls = tuple(
        Firewall(f"f{i + 1}", fw.name, tuple(zone_ids[z] for z in fw.zones if z in zone_ids))
        for i, fw in enumerate(plan.site.firewalls)
    )
    edges = tuple(
        _edge(f"e{i + 1}", source, target, flows, checks)
        for i, ((source, target), flows) in enumerate(grouped.items())
    )
    return Diagram(plan.site.name, zones, firewalls, edges)


def _edge(edge_id: str, source: str, target: str, flows: list[Flow], checks: Checks) -> Edge:
    ports: dict[str, list[PortRange]] = defaultdict(list)
    for flow in flows:
        ports[flow.protocol].extend(flow.ports.ranges)
    label = " · ".join(f"{proto} {PortSet(ports[proto]).text()}" for proto in sorted(ports))
    statuses = {checks.of(f).status for f in flows}
    worst = next(s for s in STATUSES if s in statuses)
    retired = all(f.status in ("obsolete", "legacy") for f in flows)
    return Edge(edge_id, source, target, label, worst, retired, tuple(f.id for f in flows))
