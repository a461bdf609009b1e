"""Graphviz ``dot -Tsvg``, and the sanitiser that makes its SVG safe to inline.

Graphviz escapes the labels it is given, but its SVG still carries what an inline,
offline report must not: an XML declaration and DOCTYPE pointing at w3.org, comments,
``xlink:href`` links and ``<a>`` wrappers. The sanitiser keeps an allow-list of drawing
elements and attributes, drops every reference that is not to the document itself, and
writes the result back with escaping done by the XML serialiser.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

from flowmatrix.errors import UserError
from flowmatrix.i18n import _

_NS = "http://www.w3.org/2000/svg"
_TIMEOUT_S = 60.0

ALLOWED_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "title",
        "desc",
        "path",
        "polygon",
        "polyline",
        "ellipse",
        "circle",
        "rect",
        "line",
        "text",
        "tspan",
    }
)
#: No ``id``: Graphviz's ids (node1, edge1...) could clash with the report's own.
ALLOWED_ATTRIBUTES = frozenset(
    {
        "class",
        "width",
        "height",
        "viewBox",
        "transform",
        "points",
        "d",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "fill",
        "fill-opacity",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "opacity",
        "preserveAspectRatio",
    }
)
_XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
#: Attribute values may only point inside the document (``url(#id)``).
_EXTERNAL = re.compile(r"url\(\s*['\"]?\s*[^#'\"\s]", re.IGNORECASE)


def dot_available() -> bool:
    return shutil.which("dot") is not None


def run_dot(dot_text: str) -> str:
    """SVG text from Graphviz; a UserError if ``dot`` is missing or fails."""
    binary = shutil.which("dot")
    if binary is None:
        raise UserError(
            _("Graphviz 'dot' is not installed"),
            hint=_("install graphviz, or use --layout builtin"),
        )
    try:
        done = subprocess.run(
            [binary, "-Tsvg"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UserError(
            _("Graphviz 'dot' took more than {seconds:.0f} s").format(seconds=_TIMEOUT_S),
            hint=_("use --layout builtin"),
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = message[-1] if message else _("no message")
        raise UserError(
            _("Graphviz 'dot' failed: {message}").format(message=said),
            hint=_("use --layout builtin"),
        )
    return done.stdout.decode("utf-8")


def sanitise_svg(svg_text: str) -> str:
    """An ``<svg>`` element safe to inline in HTML: drawing only, no outside reference."""
    start = svg_text.find("<svg")
    if start < 0:
        raise ValueError("no <svg> element")
    # Parsing from <svg> drops the prolog: the XML declaration and the DOCTYPE (its
    # external DTD and any entity it could declare). Comments are not kept by the parser.
    try:
        root = ET.fromstring(svg_text[start:])
    except ET.ParseError as exc:
        raise ValueError(f"malformed SVG: {exc}") from None
    if _local(root.tag) != "svg":
        raise ValueError("the root element is not <svg>")
    _clean(root)
    root.set("xmlns", _NS)
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _clean(element: ET.Element) -> None:
    """Keep allowed elements and attributes, unwrap links, strip namespaces (in place)."""
    element.tag = _local(element.tag)
    for name in list(element.attrib):
        if name not in ALLOWED_ATTRIBUTES or _EXTERNAL.search(element.attrib[name]):
            del element.attrib[name]  # namespaced names (xlink:href...) are never allowed
    kept: list[ET.Element] = []
    for child in list(element):
        element.remove(child)
        tag = _local(child.tag) if isinstance(child.tag, str) else ""
        if tag == "a":  # Graphviz wraps tooltips in links: keep the drawing, not the link
            tooltip = child.get(_XLINK_TITLE)
            if tooltip:
                _set_title(element, kept, tooltip)
            _clean(child)
            kept.extend(child)
        elif tag in ALLOWED_ELEMENTS:
            _clean(child)
            kept.append(child)
    for child in kept:
        element.append(child)


def _set_title(parent: ET.Element, kept: list[ET.Element], tooltip: str) -> None:
    """Graphviz titles its groups with internal ids; the tooltip says more."""
    for item in kept:
        if item.tag == "title":
            item.text = tooltip
            return
    node = ET.Element("title")
    node.text = tooltip
    kept.insert(0, node)
