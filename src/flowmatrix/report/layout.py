"""The built-in diagram layout, used when Graphviz is not installed.

Zones are columns ordered by firewall hops from the Internet (zones at the same depth
stack in one column); each firewall sits in the gap after the shallowest zone it joins,
with dashed links to its zones. Roles are boxes inside their zone; flows are curves
from box to box, spread along the box sides so that they do not all meet in one point.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flowmatrix.report.diagram import Diagram, Edge, edge_text
from flowmatrix.report.labels import pair
from flowmatrix.report.status import STATUSES, Status
from flowmatrix.report.style import (
    FIREWALL_FILL,
    FIREWALL_STROKE,
    FONT,
    INK,
    LOOKS,
    MUTED,
    NODE_FILL,
    NODE_STROKE,
    ZONE_FILL,
    ZONE_INTERNET_FILL,
    ZONE_STROKE,
)
from flowmatrix.report.svg import SVG_NS, element, fit, text, title

MARGIN = 24.0
ZONE_W = 250.0
GAP_W = 150.0
ZONE_HEAD = 40.0
ZONE_GAP = 30.0
NODE_W = 210.0
NODE_H = 40.0
NODE_GAP = 14.0
FW_W = 104.0
FW_H = 40.0
LEGEND_H = 64.0
_FLOWS_IN_TOOLTIP = 12


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def overlaps(self, other: Box) -> bool:
        return not (
            self.x + self.w <= other.x
            or other.x + other.w <= self.x
            or self.y + self.h <= other.y
            or other.y + other.h <= self.y
        )


@dataclass(frozen=True)
class Placement:
    zones: dict[str, Box]
    nodes: dict[str, Box]
    node_column: dict[str, int]
    firewalls: dict[str, Box]
    width: float
    height: float


def place(diagram: Diagram) -> Placement:
    """Boxes for zones, nodes and firewalls."""
    levels = sorted({z.level for z in diagram.zones})
    column_of_level = {level: index for index, level in enumerate(levels)}
    zone_level = {z.id: z.level for z in diagram.zones}
    x_of_column = [MARGIN + i * (ZONE_W + GAP_W) for i in range(len(levels))]
    zones: dict[str, Box] = {}
    nodes: dict[str, Box] = {}
    node_column: dict[str, int] = {}
    bottoms = [MARGIN] * len(levels)
    for zone in diagram.zones:
        column = column_of_level[zone.level]
        height = ZONE_HEAD + max(1, len(zone.nodes)) * (NODE_H + NODE_GAP) + 2
        box = Box(x_of_column[column], bottoms[column], ZONE_W, height)
        zones[zone.id] = box
        bottoms[column] += height + ZONE_GAP
        for index, node in enumerate(zone.nodes):
            nodes[node.id] = Box(
                box.x + (ZONE_W - NODE_W) / 2,
                box.y + ZONE_HEAD + index * (NODE_H + NODE_GAP),
                NODE_W,
                NODE_H,
            )
            node_column[node.id] = column
    firewalls: dict[str, Box] = {}
    taken: dict[int, list[Box]] = defaultdict(list)
    for firewall in diagram.firewalls:
        joined = [zones[z] for z in firewall.zones if z in zones]
        if not joined:
            continue
        column = min(column_of_level[zone_level[z]] for z in firewall.zones if z in zones)
        x = x_of_column[column] + ZONE_W + (GAP_W - FW_W) / 2
        y = sum(b.cy for b in joined) / len(joined) - FW_H / 2
        box = Box(x, y, FW_W, FW_H)
        while any(box.overlaps(other) for other in taken[column]):
            box = Box(x, box.y + FW_H + 10, FW_W, FW_H)
        taken[column].append(box)
        firewalls[firewall.id] = box
    height = max([*bottoms, *(b.y + b.h + ZONE_GAP for b in firewalls.values())]) + LEGEND_H
    width = MARGIN * 2 + len(levels) * ZONE_W + max(0, len(levels) - 1) * GAP_W
    return Placement(zones, nodes, node_column, firewalls, max(width, 560.0), height)


def _markers() -> str:
    parts = []
    for status in STATUSES:
        look = LOOKS[status]
        path = element("path", d="M0,0 L10,5 L0,10 z", fill=look.colour)
        parts.append(
            element(
                "marker",
                path,
                id=f"fm-arrow-{status}",
                viewBox="0 0 10 10",
                refX=9,
                refY=5,
                markerWidth=9,
                markerHeight=9,
                markerUnits="userSpaceOnUse",
                orient="auto-start-reverse",
            )
        )
    return element("defs", "".join(parts))


def _hexagon(box: Box) -> str:
    inset = 12.0
    points = [
        (box.x + inset, box.y),
        (box.x + box.w - inset, box.y),
        (box.x + box.w, box.cy),
        (box.x + box.w - inset, box.y + box.h),
        (box.x + inset, box.y + box.h),
        (box.x, box.cy),
    ]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


@dataclass(frozen=True, slots=True)
class _Route:
    edge: Edge
    start: tuple[float, float]
    end: tuple[float, float]
    c1: tuple[float, float]
    c2: tuple[float, float]


def _routes(diagram: Diagram, placement: Placement) -> list[_Route]:
    """Curves for the edges, their ends spread along the sides of the boxes."""
    sides: dict[tuple[str, str], list[tuple[float, Edge, str]]] = defaultdict(list)
    plan: list[tuple[Edge, str, str]] = []
    for edge in diagram.edges:
        source, target = placement.nodes[edge.source], placement.nodes[edge.target]
        s_col = placement.node_column[edge.source]
        t_col = placement.node_column[edge.target]
        if s_col < t_col:
            s_side, t_side = "right", "left"
        elif s_col > t_col:
            s_side, t_side = "left", "right"
        else:
            s_side = t_side = "right"
        sides[(edge.source, s_side)].append((target.cy, edge, "out"))
        sides[(edge.target, t_side)].append((source.cy, edge, "in"))
        plan.append((edge, s_side, t_side))
    anchor: dict[tuple[str, str], tuple[float, float]] = {}
    for (node_id, side), items in sides.items():
        box = placement.nodes[node_id]
        items.sort(key=lambda item: (item[0], item[1].id))
        x = box.x + box.w if side == "right" else box.x
        for index, (_, edge, direction) in enumerate(items):
            y = box.y + box.h * (index + 1) / (len(items) + 1)
            anchor[(edge.id, direction)] = (x, y)
    routes = []
    for edge, s_side, t_side in plan:
        start, end = anchor[(edge.id, "out")], anchor[(edge.id, "in")]
        if s_side == t_side:
            bulge = 60.0 + abs(end[1] - start[1]) * 0.15
            c1, c2 = (start[0] + bulge, start[1]), (end[0] + bulge, end[1])
        else:
            reach = max(50.0, abs(end[0] - start[0]) * 0.45)
            sign = 1.0 if s_side == "right" else -1.0
            c1, c2 = (start[0] + sign * reach, start[1]), (end[0] - sign * reach, end[1])
        routes.append(_Route(edge, start, end, c1, c2))
    return routes


def _point(route: _Route, t: float) -> tuple[float, float]:
    u = 1 - t
    xs = (route.start[0], route.c1[0], route.c2[0], route.end[0])
    ys = (route.start[1], route.c1[1], route.c2[1], route.end[1])
    weights = (u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t)
    return (
        sum(w * v for w, v in zip(weights, xs, strict=True)),
        sum(w * v for w, v in zip(weights, ys, strict=True)),
    )


def _edge_tooltip(diagram: Diagram, edge: Edge, status_text: dict[Status, str]) -> str:
    source, target = diagram.node(edge.source), diagram.node(edge.target)
    flows = ", ".join(edge.flows[:_FLOWS_IN_TOOLTIP])
    if len(edge.flows) > _FLOWS_IN_TOOLTIP:
        flows += f" (+{len(edge.flows) - _FLOWS_IN_TOOLTIP})"
    status = status_text[edge.status]
    return pair(f"{source.label} → {target.label}", f"{edge.label} — {status}") + f"\n{flows}"


def to_svg(
    diagram: Diagram,
    *,
    status_text: dict[Status, str],
    retired_text: str,
    firewall_text: str,
    internet_zone: str | None = None,
) -> str:
    """The diagram as an inline SVG element (no external references, no script)."""
    placement = place(diagram)
    parts = [_markers()]
    for zone in diagram.zones:
        box = placement.zones[zone.id]
        fill = ZONE_INTERNET_FILL if zone.name == internet_zone else ZONE_FILL
        cidrs = ", ".join(zone.cidrs)
        parts.append(
            element(
                "g",
                element(
                    "rect",
                    x=box.x,
                    y=box.y,
                    width=box.w,
                    height=box.h,
                    rx=10,
                    fill=fill,
                    stroke=ZONE_STROKE,
                    stroke_dasharray="5 3",
                )
                + text(
                    box.x + 12,
                    box.y + 17,
                    fit(zone.name, box.w - 24, 12),
                    font_size=12,
                    font_weight="bold",
                    fill=INK,
                )
                + (
                    text(
                        box.x + 12,
                        box.y + 31,
                        fit(cidrs, box.w - 24, 9.5),
                        font_size=9.5,
                        fill=MUTED,
                    )
                    if cidrs
                    else ""
                )
                + title(f"{zone.name}{' — ' + cidrs if cidrs else ''}"),
                class_="zone",
            )
        )
    for firewall in diagram.firewalls:
        fw_box = placement.firewalls.get(firewall.id)
        if fw_box is None:
            continue
        links = []
        for zone_id in firewall.zones:
            zone_box = placement.zones[zone_id]
            edge_x = zone_box.x + zone_box.w if zone_box.cx < fw_box.cx else zone_box.x
            own_x = fw_box.x if zone_box.cx < fw_box.cx else fw_box.x + fw_box.w
            links.append(
                element(
                    "line",
                    x1=own_x,
                    y1=fw_box.cy,
                    x2=edge_x,
                    y2=zone_box.cy,
                    stroke=FIREWALL_STROKE,
                    stroke_width=1.2,
                    stroke_dasharray="4 3",
                )
            )
        parts.append(
            element(
                "g",
                "".join(links)
                + element(
                    "polygon",
                    points=_hexagon(fw_box),
                    fill=FIREWALL_FILL,
                    stroke=FIREWALL_STROKE,
                    stroke_width=1.5,
                )
                + text(
                    fw_box.cx,
                    fw_box.cy + 4,
                    fit(firewall.name, fw_box.w - 20, 11),
                    font_size=11,
                    font_weight="bold",
                    fill=INK,
                    text_anchor="middle",
                )
                + title(pair(firewall_text, firewall.name)),
                class_="firewall",
            )
        )
    for zone in diagram.zones:
        for node in zone.nodes:
            box = placement.nodes[node.id]
            has_hosts = bool(node.hosts)
            parts.append(
                element(
                    "g",
                    element(
                        "rect",
                        x=box.x,
                        y=box.y,
                        width=box.w,
                        height=box.h,
                        rx=6,
                        fill=NODE_FILL,
                        stroke=NODE_STROKE,
                    )
                    + text(
                        box.cx,
                        box.y + (17 if has_hosts else 24),
                        fit(node.label, box.w - 14, 11),
                        font_size=11,
                        fill=INK,
                        text_anchor="middle",
                        font_weight="600",
                    )
                    + (
                        text(
                            box.cx,
                            box.y + 31,
                            fit(node.hosts, box.w - 14, 9.5),
                            font_size=9.5,
                            fill=MUTED,
                            text_anchor="middle",
                        )
                        if has_hosts
                        else ""
                    )
                    + title(f"{node.label}{' — ' + node.hosts if has_hosts else ''}"),
                    class_="role",
                )
            )
    flows, right = _edges(diagram, placement, status_text)
    parts.append(flows)
    parts.append(_legend(placement, status_text, retired_text, firewall_text))
    width = max(placement.width, right + MARGIN)
    return element(
        "svg",
        "".join(parts),
        xmlns=SVG_NS,
        viewBox=f"0 0 {width:.0f} {placement.height:.0f}",
        width=f"{width:.0f}",
        height=f"{placement.height:.0f}",
        role="img",
        font_family=FONT,
        class_="diagram builtin",
    )


def _edges(
    diagram: Diagram, placement: Placement, status_text: dict[Status, str]
) -> tuple[str, float]:
    """The flows' curves and labels, and the rightmost x they reach."""
    routes = _routes(diagram, placement)
    curves, labels = [], []
    taken: list[Box] = [*placement.nodes.values(), *placement.firewalls.values()]
    right = 0.0
    for route in routes:
        edge = route.edge
        look = LOOKS[edge.status]
        path = (
            f"M{route.start[0]:.1f},{route.start[1]:.1f} "
            f"C{route.c1[0]:.1f},{route.c1[1]:.1f} {route.c2[0]:.1f},{route.c2[1]:.1f} "
            f"{route.end[0]:.1f},{route.end[1]:.1f}"
        )
        curves.append(
            element(
                "path",
                title(_edge_tooltip(diagram, edge, status_text)),
                d=path,
                fill="none",
                stroke=look.colour,
                stroke_width=look.width,
                stroke_dasharray=look.dash or None,
                marker_end=f"url(#fm-arrow-{edge.status})",
                class_=f"flow {edge.status}",
            )
        )
        label = edge_text(edge)
        width = len(label) * 5.6 + 6
        box = _label_box(route, width, taken)
        taken.append(box)
        right = max(right, box.x + box.w, route.c1[0], route.c2[0])
        labels.append(
            text(
                box.cx,
                box.y + 9.5,
                label,
                font_size=9.5,
                fill=look.colour,
                text_anchor="middle",
                stroke="#ffffff",
                stroke_width=3,
                paint_order="stroke",
                class_="flow-label",
            )
        )
    markup = element("g", "".join(curves), class_="flows") + element(
        "g", "".join(labels), class_="flow-labels"
    )
    return markup, right


def _label_box(route: _Route, width: float, taken: list[Box]) -> Box:
    """Where a flow's label goes: the first free spot along the curve, else its middle."""
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78):
        x, y = _point(route, t)
        candidate = Box(x - width / 2, y - 7, width, 12)
        if not any(candidate.overlaps(other) for other in taken):
            return candidate
    x, y = _point(route, 0.5)
    return Box(x - width / 2, y - 7, width, 12)


def _legend(
    placement: Placement, status_text: dict[Status, str], retired_text: str, firewall_text: str
) -> str:
    y = placement.height - LEGEND_H + 24
    x = MARGIN
    parts = []
    order: tuple[Status, ...] = ("proven", "failing", "depends", "not-tested")
    for status in order:
        look = LOOKS[status]
        parts.append(
            element(
                "line",
                x1=x,
                y1=y,
                x2=x + 34,
                y2=y,
                stroke=look.colour,
                stroke_width=look.width,
                stroke_dasharray=look.dash or None,
                marker_end=f"url(#fm-arrow-{status})",
            )
        )
        caption = f"{look.symbol} {status_text[status]}"
        parts.append(text(x + 42, y + 4, caption, font_size=11, fill=INK))
        x += 54 + len(caption) * 6.6
    parts.append(
        element(
            "polygon",
            points=_hexagon(Box(x, y - 9, 34, 18)),
            fill=FIREWALL_FILL,
            stroke=FIREWALL_STROKE,
        )
    )
    parts.append(text(x + 42, y + 4, firewall_text, font_size=11, fill=INK))
    x += 54 + len(firewall_text) * 6.6
    parts.append(text(x, y + 4, f"† {retired_text}", font_size=11, fill=INK))
    return element("g", "".join(parts), class_="legend")
