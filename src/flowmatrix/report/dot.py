"""The diagram as Graphviz DOT text (for docs, wikis, and ``dot -Tsvg`` in the HTML).

Every user text goes into a double-quoted DOT string through ``quote``: backslashes
and quotes are escaped, ``&`` written as ``&amp;`` (Graphviz decodes entities in labels)
and line breaks flattened, so a name cannot end its string and start a statement of its
own, nor use Graphviz escapes such as ``\\N`` or ``\\G``; a line longer than
``DIAGRAM_LABEL_LIMIT`` is cut, so that Graphviz accepts the file whatever the names.
"""

from __future__ import annotations

from flowmatrix.evidence import STATUS_LABELS
from flowmatrix.i18n import _
from flowmatrix.report.diagram import Diagram, Edge, Node, Zone, edge_text
from flowmatrix.report.labels import pair
from flowmatrix.report.style import (
    FIREWALL_FILL,
    FIREWALL_STROKE,
    INK,
    LOOKS,
    MUTED,
    NODE_FILL,
    NODE_STROKE,
    ZONE_FILL,
    ZONE_INTERNET_FILL,
    ZONE_STROKE,
)
from flowmatrix.textsafe import DIAGRAM_LABEL_LIMIT, one_line, shorten

_FONT = "Helvetica"


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string, with nothing Graphviz would interpret."""
    # Graphviz decodes HTML entities: '&' is written as one.
    flat = shorten(one_line(text), DIAGRAM_LABEL_LIMIT).replace("&", "&amp;")
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(*lines: str, left: bool = False) -> str:
    """Several lines as one DOT string: each escaped, ended by DOT's ``\\n`` (``\\l``: left)."""
    parts = [quote(line)[1:-1] for line in lines if line]
    if left:
        return '"' + "".join(part + "\\l" for part in parts) + '"'
    return '"' + "\\n".join(parts) + '"'


def _attrs(**values: str) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in values.items()) + "]"


def to_dot(diagram: Diagram, internet_zone: str | None = None) -> str:
    """DOT text for ``diagram``; ``internet_zone`` is drawn with a lighter fill."""
    graph = _attrs(
        label=quote(diagram.title), labelloc="t", fontname=quote(_FONT), fontsize="14",
        rankdir="LR", compound="true", newrank="true", nodesep="0.25", ranksep="0.9",
        pad="0.2", fontcolor=quote(INK),
    )  # fmt: skip
    node = _attrs(
        shape="box", style=quote("rounded,filled"), fillcolor=quote(NODE_FILL),
        color=quote(NODE_STROKE), fontname=quote(_FONT), fontsize="10", fontcolor=quote(INK),
        margin=quote("0.12,0.06"),
    )  # fmt: skip
    edges = _attrs(fontname=quote(_FONT), fontsize="8", fontcolor=quote(MUTED), arrowsize="0.7")
    out = ["digraph flowmatrix {", f"  graph {graph};", f"  node {node};", f"  edge {edges};"]
    levels = {zone.id: zone.level for zone in diagram.zones}
    for zone in diagram.zones:
        out.extend(_zone(zone, zone.name == internet_zone))
    for firewall in diagram.firewalls:
        out.append(
            f"  {firewall.id} "
            + _attrs(
                label=quote(firewall.name),
                shape="hexagon",
                style="filled",
                fillcolor=quote(FIREWALL_FILL),
                color=quote(FIREWALL_STROKE),
                fontcolor=quote(INK),
                tooltip=quote(firewall.name),
            )
            + ";"
        )
        out.extend(
            _firewall_links(firewall.id, [levels[z] for z in firewall.zones], firewall.zones)
        )
    nodes = {n.id: n for z in diagram.zones for n in z.nodes}
    for edge in diagram.edges:
        out.append(_edge(edge, nodes))
    out.append("}")
    return "\n".join(out) + "\n"


def _zone(zone: Zone, internet: bool) -> list[str]:
    fill = ZONE_INTERNET_FILL if internet else ZONE_FILL
    subtitle = ", ".join(zone.cidrs)
    graph = _attrs(
        label=_label(zone.name, subtitle, left=True), style=quote("rounded,filled"),
        fillcolor=quote(fill), color=quote(ZONE_STROKE), fontsize="11", labeljust="l",
    )  # fmt: skip
    anchor = _attrs(shape="point", style="invis", width="0", height="0", label=quote(""))
    lines = [
        f"  subgraph cluster_{zone.id} {{",
        f"    graph {graph};",
        f"    {zone.id}_anchor {anchor};",
    ]
    for node in zone.nodes:
        lines.append(f"    {node.id} {_attrs(label=_node_label(node), tooltip=quote(node.label))};")
    # One rank per zone: with rankdir=LR the zone is a column of its roles.
    members = " ".join([f"{zone.id}_anchor", *(n.id for n in zone.nodes)])
    lines.append(f"    {{rank=same; {members}}}")
    lines.append("  }")
    return lines


def _firewall_links(firewall: str, levels: list[int], zones: tuple[str, ...]) -> list[str]:
    """Dashed links from a firewall to its zones, the shallowest zone on its left."""
    lines = []
    top = min(levels, default=0)
    for zone_id, level in zip(zones, levels, strict=True):
        common = {"dir": "none", "style": "dashed", "color": quote(FIREWALL_STROKE), "weight": "4"}
        if level == top:
            edge = f"{zone_id}_anchor -> {firewall} " + _attrs(ltail=f"cluster_{zone_id}", **common)
        else:
            edge = f"{firewall} -> {zone_id}_anchor " + _attrs(lhead=f"cluster_{zone_id}", **common)
        lines.append(f"  {edge};")
    return lines


def _node_label(node: Node) -> str:
    return _label(node.label, node.hosts)


def _edge(edge: Edge, nodes: dict[str, Node]) -> str:
    look = LOOKS[edge.status]
    source, target = nodes[edge.source], nodes[edge.target]
    status = _(STATUS_LABELS[edge.status])
    tooltip = pair(f"{source.label} -> {target.label}", f"{edge.label} ({status})")
    return (
        f"  {edge.source} -> {edge.target} "
        + _attrs(
            label=quote(edge_text(edge)),
            color=quote(look.colour),
            fontcolor=quote(look.colour),
            style=look.dot_style,
            penwidth=f"{look.width:.1f}",
            tooltip=quote(tooltip),
            constraint="false",
            **{"class": quote(f"flow {edge.status}")},
        )
        + ";"
    )
