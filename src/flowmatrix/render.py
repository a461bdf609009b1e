"""Rows to text: Rich tables on a terminal, stable CSV / Markdown / JSON elsewhere."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from flowmatrix.i18n import N_, Lang, in_language
from flowmatrix.textsafe import shorten, visible

#: The most characters a spreadsheet cell holds (Excel, LibreOffice): longer CSV cells
#: are cut, marked with an ellipsis (the JSON keeps the full text).
SPREADSHEET_CELL_LIMIT = 32_767

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: Column headers (translated where shown); a column missing here shows its key.
HEADERS: dict[str, str] = {
    "id": N_("Id"),
    "requirement": N_("Requirement"),
    "source": N_("Source"),
    "source_zone": N_("Source zone"),
    "source_addresses": N_("Source addresses"),
    "destination": N_("Destination"),
    "destination_zone": N_("Destination zone"),
    "destination_addresses": N_("Destination addresses"),
    "protocol": N_("Protocol"),
    "protocols": N_("Protocols"),
    "documented": N_("Documented"),
    "ports": N_("Ports"),
    "port": N_("Port"),
    "firewalls": N_("Firewalls"),
    "nat": N_("Address translation (NAT)"),
    "firewall": N_("Firewall"),
    "status": N_("Status"),
    "description": N_("Description"),
    "section": N_("Section"),
    "sources": N_("Sources"),
    "destinations": N_("Destinations"),
    "condition": N_("Condition"),
    "reading": N_("Reading of the source"),
    "state": N_("State"),
    "reason": N_("Reason"),
    "verdict": N_("Verdict"),
    "rule": N_("Rule"),
    "latency_ms": N_("Latency (ms)"),
    "flow": N_("Flow"),
    "address": N_("Address"),
    "listening": N_("Listening"),
    "arrived": N_("Arrived"),
    "count": N_("Count"),
    "host": N_("Host"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "aliases": N_("Aliases"),
    "modern_name": N_("Name today"),
    "endpoints": N_("Endpoints"),
    "default": N_("Default"),
    "where": N_("Row"),
    "flows": N_("Flows"),
    "details": N_("Details"),
    "detail": N_("Detail"),
    "journey": N_("Journey"),
    "source_hosts": N_("Source hosts"),
    "tested_from": N_("Tested from"),
}


def header(column: str, lang: Lang) -> str:
    text = HEADERS.get(column)
    return column if text is None else in_language(lang, text)


def _orjson_options(*, string_keys: bool = False) -> int:
    import orjson

    return orjson.OPT_INDENT_2 | (0 if string_keys else orjson.OPT_NON_STR_KEYS)


def to_json_bytes(document: Any, *, string_keys: bool = False) -> bytes:
    """JSON indented by two spaces, with a final newline, as UTF-8 bytes.

    The layout of ``json.dumps(document, ensure_ascii=False, indent=2)``, written by
    orjson: the standard encoder falls back to pure Python as soon as it indents (0.2 s
    for 10,000 verify results, against a few milliseconds). Keys that are not strings are
    written as strings, as ``json`` does; what orjson refuses (an integer beyond 64 bits)
    goes through ``json``. The one visible difference: floats under 1e-4 are written in
    decimal notation (``0.00001``, not ``1e-05``), the same number to any reader.

    ``string_keys``: the document's keys are all strings, as its writer makes them: orjson
    then need not look at each key's type (a fifth faster on a document of tens of
    megabytes); a key that is not one after all costs the encoding done so far, then the
    usual way writes the same bytes.
    """
    import orjson

    if string_keys:
        try:
            options = _orjson_options(string_keys=True) | orjson.OPT_APPEND_NEWLINE
            return orjson.dumps(document, option=options)
        except orjson.JSONEncodeError:
            pass
    try:  # the final newline by orjson: no copy of a document of tens of megabytes
        return orjson.dumps(document, option=_orjson_options() | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def to_json(document: Any) -> str:
    """``to_json_bytes`` as text."""
    return to_json_bytes(document).decode()


def to_json_items_bytes(head: Mapping[str, Any], *streams: tuple[str, Iterable[Any]]) -> bytearray:
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
    # one buffer grown in place: the document is written from it as it is, never held
    # twice (a list of pieces and their join), which halves the peak for 65,535 results
    document = bytearray(start[: -len(closing)])
    for index, (key, items) in enumerate(streams):
        document += f'  "{key}": ['.encode()
        encoded_any = False
        for item in items:
            try:
                encoded = orjson.dumps(item, option=options)
            except orjson.JSONEncodeError:
                encoded = json.dumps(item, ensure_ascii=False, indent=2).encode()
            document += b",\n    " if encoded_any else b"\n    "
            document += encoded.replace(b"\n", b"\n    ")
            encoded_any = True
        document += b"\n  ]" if encoded_any else b"]"
        document += b",\n" if index < len(streams) - 1 else b"\n}\n"
    return document


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
