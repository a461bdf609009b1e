"""A few helpers to write SVG markup in which every text and attribute is escaped."""

from __future__ import annotations

from html import escape

from flowmatrix.textsafe import one_line

SVG_NS = "http://www.w3.org/2000/svg"


def _value(value: object) -> str:
    if isinstance(value, float):
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def attrs(**values: object) -> str:
    """``key="value"`` pairs; ``stroke_width`` becomes ``stroke-width``, ``class_`` ``class``.

    None values are left out.
    """
    parts = []
    for key, value in values.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f'{name}="{escape(one_line(_value(value)), quote=True)}"')
    return " ".join(parts)


def element(tag: str, content: str = "", **values: object) -> str:
    """An element; ``content`` is markup already built with these helpers."""
    opening = f"<{tag} {attrs(**values)}" if values else f"<{tag}"
    return f"{opening}>{content}</{tag}>" if content else f"{opening}/>"


def text(x: float, y: float, content: str, **values: object) -> str:
    """A ``<text>`` element holding ``content`` as escaped text."""
    return element("text", escape(one_line(content), quote=False), x=x, y=y, **values)


def title(content: str) -> str:
    """A tooltip (``<title>``) child."""
    lines = (one_line(line) for line in content.splitlines())
    return f"<title>{escape(chr(10).join(lines), quote=False)}</title>"


def fit(content: str, width: float, size: float) -> str:
    """``content`` cut with an ellipsis to about ``width`` pixels at font ``size``."""
    room = max(3, int(width / (size * 0.6)))
    return content if len(content) <= room else content[: room - 1] + "…"
