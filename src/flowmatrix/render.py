"""Rows to text: Rich tables on a terminal, stable CSV / Markdown / JSON elsewhere."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from flowmatrix.catalog import Lang
from flowmatrix.textsafe import shorten, visible

#: The most characters a spreadsheet cell holds (Excel, LibreOffice): longer CSV cells
#: are cut, marked with an ellipsis (the JSON keeps the full text).
SPREADSHEET_CELL_LIMIT = 32_767

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: Column headers in both languages; a column missing here shows its key.
HEADERS: dict[str, dict[Lang, str]] = {
    "id": {"en": "Id", "fr": "Id"},
    "requirement": {"en": "Requirement", "fr": "Exigence"},
    "source": {"en": "Source", "fr": "Source"},
    "source_zone": {"en": "Source zone", "fr": "Zone source"},
    "source_addresses": {"en": "Source addresses", "fr": "Adresses source"},
    "destination": {"en": "Destination", "fr": "Destination"},
    "destination_zone": {"en": "Destination zone", "fr": "Zone destination"},
    "destination_addresses": {"en": "Destination addresses", "fr": "Adresses destination"},
    "protocol": {"en": "Protocol", "fr": "Protocole"},
    "protocols": {"en": "Protocols", "fr": "Protocoles"},
    "documented": {"en": "Documented", "fr": "Documenté"},
    "ports": {"en": "Ports", "fr": "Ports"},
    "port": {"en": "Port", "fr": "Port"},
    "firewalls": {"en": "Firewalls", "fr": "Pare-feu"},
    "nat": {"en": "Address translation (NAT)", "fr": "Traduction d'adresses (NAT)"},
    "firewall": {"en": "Firewall", "fr": "Pare-feu"},
    "status": {"en": "Status", "fr": "Statut"},
    "description": {"en": "Description", "fr": "Description"},
    "section": {"en": "Section", "fr": "Section"},
    "sources": {"en": "Sources", "fr": "Sources"},
    "destinations": {"en": "Destinations", "fr": "Destinations"},
    "condition": {"en": "Condition", "fr": "Condition"},
    "state": {"en": "State", "fr": "État"},
    "reason": {"en": "Reason", "fr": "Raison"},
    "verdict": {"en": "Verdict", "fr": "Verdict"},
    "rule": {"en": "Rule", "fr": "Règle"},
    "latency_ms": {"en": "Latency (ms)", "fr": "Latence (ms)"},
    "flow": {"en": "Flow", "fr": "Flux"},
    "address": {"en": "Address", "fr": "Adresse"},
    "listening": {"en": "Listening", "fr": "En écoute"},
    "arrived": {"en": "Arrived", "fr": "Arrivé"},
    "count": {"en": "Count", "fr": "Nombre"},
    "host": {"en": "Host", "fr": "Hôte"},
    "name": {"en": "Name", "fr": "Nom"},
    "kind": {"en": "Kind", "fr": "Type"},
    "aliases": {"en": "Aliases", "fr": "Alias"},
    "modern_name": {"en": "Name today", "fr": "Nom actuel"},
    "endpoints": {"en": "Endpoints", "fr": "Points d'accès"},
    "default": {"en": "Default", "fr": "Par défaut"},
    "where": {"en": "Row", "fr": "Ligne"},
    "flows": {"en": "Flows", "fr": "Flux"},
    "details": {"en": "Details", "fr": "Détails"},
    "detail": {"en": "Detail", "fr": "Détail"},
    "journey": {"en": "Journey", "fr": "Parcours"},
}


def header(column: str, lang: Lang) -> str:
    return HEADERS.get(column, {}).get(lang, column)


def _orjson_options() -> int:
    import orjson

    return orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def to_json_bytes(document: Any) -> bytes:
    """JSON indented by two spaces, with a final newline, as UTF-8 bytes.

    The layout of ``json.dumps(document, ensure_ascii=False, indent=2)``, written by
    orjson: the standard encoder falls back to pure Python as soon as it indents (0.2 s
    for 10,000 verify results, against a few milliseconds). Keys that are not strings are
    written as strings, as ``json`` does; what orjson refuses (an integer beyond 64 bits)
    goes through ``json``. The one visible difference: floats under 1e-4 are written in
    decimal notation (``0.00001``, not ``1e-05``), the same number to any reader.
    """
    import orjson

    try:
        return orjson.dumps(document, option=_orjson_options()) + b"\n"
    except orjson.JSONEncodeError:
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def to_json(document: Any) -> str:
    """``to_json_bytes`` as text."""
    return to_json_bytes(document).decode()


def to_json_items_bytes(head: Mapping[str, Any], *streams: tuple[str, Iterable[Any]]) -> bytes:
    """``to_json_bytes({**head, key: list(items), ...})`` for each (key, items) of
    ``streams`` (the last keys, in order), encoding the items one by one: a run's 65,535
    results never exist as dictionaries all at once."""
    import orjson

    options = _orjson_options()
    start = to_json_bytes({**head, **{key: [] for key, _ in streams}})
    empty = [f'  "{key}": []'.encode() for key, _ in streams]
    closing = b",\n".join(empty) + b"\n}\n"
    if not start.endswith(closing):
        raise ValueError("the streamed keys must be plain and the last of the document")
    parts = [start[: -len(closing)]]
    for index, (key, items) in enumerate(streams):
        parts.append(f'  "{key}": ['.encode())
        encoded_any = False
        for item in items:
            try:
                encoded = orjson.dumps(item, option=options)
            except orjson.JSONEncodeError:
                encoded = json.dumps(item, ensure_ascii=False, indent=2).encode()
            parts += (
                b"\n    " if not encoded_any else b",\n    ",
                encoded.replace(b"\n", b"\n    "),
            )
            encoded_any = True
        parts.append(b"\n  ]" if encoded_any else b"]")
        parts.append(b",\n" if index < len(streams) - 1 else b"\n}\n")
    return b"".join(parts)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with the column keys as header (a stable contract, whatever the language).

    Cells that a spreadsheet would run as a formula are prefixed with a quote; control
    characters (terminal escapes) are written as visible escapes; a cell longer than a
    spreadsheet holds is cut.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(str(row.get(c, ""))) for c in columns])
    return out.getvalue()


def _csv_cell(value: str) -> str:
    return shorten(_neutralise_formula(visible(value)), SPREADSHEET_CELL_LIMIT)


def _neutralise_formula(cell: str) -> str:
    if len(cell) > 1 and cell[0] in "=+-@\t\r" and not _is_number(cell):
        return "'" + cell
    return cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


_MARKDOWN_SPECIAL = "\\`*_{}[]<>|~&"


def _md_cell(value: str) -> str:
    """A table cell that renders as the literal text: no HTML, links or emphasis get through."""
    flat = " ".join(value.split())
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in flat)


def to_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: Lang) -> str:
    lines = [
        "| " + " | ".join(_md_cell(header(c, lang)) for c in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_md_cell(str(row.get(c, ""))) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def to_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    lang: Lang,
    *,
    title: str | None = None,
    width: int | None = None,
    color: bool = False,
    styles: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """A Rich table rendered to text; ``styles`` maps column -> cell value -> style.

    Every cell is the literal text of the data: no markup, no emoji codes (an address
    ``2001:db8:c11:100::10`` stays that), control characters shown as escapes.
    """
    from rich.table import Table

    table = Table(title=literal(title) if title else None, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(literal(header(column, lang)), overflow="fold")
    for row in rows:
        cells = []
        for column in columns:
            value = str(row.get(column, ""))
            style = (styles or {}).get(column, {}).get(value)
            cells.append(literal(value, style if color else None))
        table.add_row(*cells)
    buffer = io.StringIO()
    text_console(buffer, width=width or 200, color=color).print(table)
    return buffer.getvalue()


def literal(value: str, style: str | None = None) -> Text:
    """A Rich text that shows ``value`` as it is: no markup, no emoji, controls escaped."""
    from rich.text import Text

    return Text(visible(value), style=style or "")


def escaped(value: str) -> str:
    """``value`` inside a Rich markup string, shown literally, controls escaped."""
    from rich.markup import escape

    return escape(visible(value))


def text_console(file: IO[str], *, width: int, color: bool, soft_wrap: bool = False) -> Console:
    """The one Rich console every command prints through: text for people to ``file``,
    styled only when ``color``, never guessing highlights, never turning ``:100:`` or
    ``:b:`` into emoji, and as wide as told (not as the terminal it may not be on).
    Markup stays on for the program's own styling: data goes in through :func:`literal`
    (or ``rich.markup.escape``)."""
    from rich.console import Console

    return Console(
        file=file,
        width=width,
        color_system="auto" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        soft_wrap=soft_wrap,
    )
