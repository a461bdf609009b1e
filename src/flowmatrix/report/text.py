"""Free text made fit for one line of a diagram or a cell: no control characters."""

from __future__ import annotations

import unicodedata


def one_line(text: str) -> str:
    """``text`` on one line: whitespace runs become one space, control characters go.

    XML 1.0 forbids most control characters (an SVG with one does not parse) and
    Graphviz writes them raw into its output, so they never reach a renderer.
    """
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(cleaned.split())
