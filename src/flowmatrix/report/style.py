"""How each check status looks: a colour, a line style and a symbol, so grey print reads."""

from __future__ import annotations

from dataclasses import dataclass

from flowmatrix.report.status import Status


@dataclass(frozen=True, slots=True)
class Look:
    colour: str
    symbol: str
    """Printed beside the status text: the status never rests on colour alone."""
    dot_style: str
    """Graphviz edge style."""
    width: float
    dash: str
    """SVG stroke-dasharray ('' for a solid line)."""


LOOKS: dict[Status, Look] = {
    "proven": Look("#1a7f37", "✓", "solid", 1.4, ""),
    "failing": Look("#c62828", "✗", "bold", 2.6, ""),
    "depends": Look("#a15c00", "◐", "dashed", 1.6, "7 4"),
    "not-tested": Look("#6e7781", "○", "dotted", 1.4, "2 3"),
}

ZONE_FILL = "#f6f8fa"
ZONE_INTERNET_FILL = "#eef4fb"
ZONE_STROKE = "#8c959f"
NODE_FILL = "#ffffff"
NODE_STROKE = "#57606a"
FIREWALL_FILL = "#fde8d8"
FIREWALL_STROKE = "#b4441b"
INK = "#1f2328"
MUTED = "#57606a"
FONT = "DejaVu Sans, Segoe UI, Helvetica, Arial, sans-serif"
