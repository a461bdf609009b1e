"""User and catalog text made safe to show: control characters become visible escapes.

A name, description or reason read from a site, a catalog, a ruleset or a results file
may hold terminal escapes (``ESC [ 2 J``), carriage returns that overwrite a line, or
bidirectional overrides that reorder what is read. Terminal tables, CSV, DOT and Mermaid
show such characters as ``\\x1b`` / ``\\u202e`` instead: what is on screen is what the
data says, and nothing in it drives the terminal. HTML and JSON keep the full text (they
escape it their own way).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode bidirectional controls and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_OR_LINE_BREAK = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


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


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "\u2026"
