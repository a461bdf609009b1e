"""User and catalog text made safe to show: control characters become visible escapes.

A name, description or reason read from a site, a catalog, a ruleset or a results file
may hold terminal escapes (``ESC [ 2 J``), carriage returns that overwrite a line, or
bidirectional overrides that reorder what is read. Terminal tables and CSV show such
characters as ``\\x1b`` / ``\\u202e`` (:func:`visible`); diagrams (DOT, Mermaid, SVG) and
Markdown drop them (:func:`one_line`) and cut over-long labels (:func:`shorten`): what is
on screen is what the data says, and nothing in it drives the terminal. HTML and JSON
keep the full text (they escape it their own way).
"""

from __future__ import annotations

import re

DIAGRAM_LABEL_LIMIT = 1024
"""Characters of one line of a diagram label: longer text is cut (the HTML matrix and the
JSON keep it whole). Graphviz refuses a string over 16,384 bytes: a label of two such
lines stays below it even when every character is written as a five-byte entity."""

# C0 and C1 controls, DEL, Unicode line and paragraph separators, and the bidirectional
# controls and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_UNSAFE_OR_LINE_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, line_breaks: bool = True) -> str:
    """``text`` with every control character written as an escape.

    Tabs and newlines are kept when ``line_breaks`` (a cell may hold several lines);
    otherwise they are escaped too, for one-line labels.
    """
    pattern = _UNSAFE if line_breaks else _UNSAFE_OR_LINE_BREAK
    if text.isascii() and text.isprintable():
        return text
    return pattern.sub(_escape, text)


def one_line(text: str) -> str:
    """``text`` on one line, for a diagram label or a Markdown cell: whitespace runs become
    one space, control characters (and bidirectional overrides) go.

    XML 1.0 forbids most control characters (an SVG with one does not parse) and
    Graphviz writes them raw into its output, so they never reach a renderer.
    """
    if not (text.isascii() and text.isprintable()):
        text = _UNSAFE_OR_LINE_BREAK.sub(" ", text)
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "\u2026"
