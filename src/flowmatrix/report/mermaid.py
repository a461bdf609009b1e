"""The diagram as a Mermaid flowchart (renders in GitLab, GitHub and most wikis).

Ids are generated; every user text is a double-quoted Mermaid string in which each
character with a meaning to Mermaid, Markdown or HTML is written as a Mermaid entity
code (``#34;`` for a quote), so a name can neither close its string nor inject markup.
"""

from __future__ import annotations

from flowmatrix.report.diagram import Diagram, edge_text
from flowmatrix.report.style import (
    FIREWALL_FILL,
    FIREWALL_STROKE,
    LOOKS,
    NODE_FILL,
    NODE_STROKE,
    ZONE_FILL,
    ZONE_STROKE,
)
from flowmatrix.textsafe import DIAGRAM_LABEL_LIMIT, one_line, shorten

#: Characters written as entity codes inside a quoted Mermaid string.
_ENTITIES = frozenset('"#&<>`|%;\\[]{}')


def quote(text: str) -> str:
    """``text`` as a quoted Mermaid label."""
    flat = shorten(one_line(text), DIAGRAM_LABEL_LIMIT)
    return '"' + "".join(f"#{ord(c)};" if c in _ENTITIES else c for c in flat) + '"'


def _label(*lines: str) -> str:
    return '"' + "<br>".join(quote(line)[1:-1] for line in lines if line) + '"'


def to_mermaid(diagram: Diagram) -> str:
    """Mermaid ``flowchart LR`` text for ``diagram``."""
    out = ["flowchart LR"]
    for zone in diagram.zones:
        out.append(f"  subgraph {zone.id}[{_label(zone.name, ', '.join(zone.cidrs))}]")
        for node in zone.nodes:
            out.append(f"    {node.id}[{_label(node.label, node.hosts)}]")
        out.append("  end")
    for firewall in diagram.firewalls:
        out.append(f"  {firewall.id}{{{{{quote(firewall.name)}}}}}")
    links: list[str] = []
    for firewall in diagram.firewalls:
        for zone_id in firewall.zones:
            links.append(f"  {firewall.id} -.- {zone_id}")
    firewall_links = len(links)
    for edge in diagram.edges:
        links.append(f"  {edge.source} -->|{quote(edge_text(edge))}| {edge.target}")
    out.extend(links)
    out.append(f"  classDef zone fill:{ZONE_FILL},stroke:{ZONE_STROKE}")
    out.append(f"  classDef role fill:{NODE_FILL},stroke:{NODE_STROKE}")
    out.append(f"  classDef firewall fill:{FIREWALL_FILL},stroke:{FIREWALL_STROKE}")
    if diagram.zones:
        out.append(f"  class {','.join(z.id for z in diagram.zones)} zone")
    nodes = [n.id for z in diagram.zones for n in z.nodes]
    if nodes:
        out.append(f"  class {','.join(nodes)} role")
    if diagram.firewalls:
        out.append(f"  class {','.join(f.id for f in diagram.firewalls)} firewall")
    for index, edge in enumerate(diagram.edges, start=firewall_links):
        look = LOOKS[edge.status]
        dash = f",stroke-dasharray:{look.dash}" if look.dash else ""
        out.append(f"  linkStyle {index} stroke:{look.colour},stroke-width:{look.width}px{dash}")
    return "\n".join(out) + "\n"
