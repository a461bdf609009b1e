"""Sheet rows -> ``Row``s: the cells of each data row parsed, errors located at their cell."""

from __future__ import annotations

from functools import lru_cache

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.matrixcheck.cells import (
    AddressSet,
    CellError,
    Names,
    PortSpec,
    expand_hosts,
    parse_addresses,
    parse_ports,
    parse_protocols,
)
from flowmatrix.matrixcheck.columns import Columns, normalise
from flowmatrix.matrixcheck.compare import Row
from flowmatrix.matrixcheck.sheet import Sheet, Value

#: Words (normalised) in an action or decision cell that mean the row opens nothing.
_CLOSED = (
    "deny", "drop", "reject", "rejected", "refuse", "refuser", "refus", "bloquer", "bloque",
    "interdire", "interdit", "fermer", "supprimer", "a supprimer", "block", "blocked",
    "not requested", "non demande",
)  # fmt: skip
_NOT_REQUESTED = ("not requested", "non demande")
_TEXT_FIELDS = ("flow", "description", "service", "firewall", "action", "decision")


@lru_cache(maxsize=1)
def _report_words() -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    """What the report's own workbook writes, in every language it speaks: the closed
    words (with its 'rejected' decision), the not-requested phrases (its catalog
    statuses), and a cheap word of each phrase to look for first."""
    from flowmatrix.i18n import LANGUAGES
    from flowmatrix.report.labels import catalog_status_label, decisions

    closed = set(_CLOSED)
    phrases = dict.fromkeys(_NOT_REQUESTED)
    for lang in LANGUAGES:
        closed.add(normalise(decisions(lang)[1]))  # approved, rejected, pending
        for status in ("obsolete-not-requested", "legacy-not-requested"):
            said = normalise(catalog_status_label(status, lang))
            if said:
                phrases.setdefault(said)
    cheap = dict.fromkeys(("request", "demand"))
    for phrase in phrases:
        cheap.setdefault(phrase.split()[-1][:5])
    return frozenset(closed), tuple(phrases), tuple(cheap)


def _closed(cells: list[Value], columns: Columns) -> bool:
    closed, phrases, cheap = _report_words()
    for name in ("action", "decision"):
        found = columns.get(cells, name)
        if found is not None and normalise(found[1]) in closed:
            return True
    for value in cells:  # flowmatrix's own "obsolete: not requested" lines
        if not isinstance(value, str):
            continue
        lowered = value.lower()  # a cheap look first: most cells say neither
        if any(c in lowered for c in cheap) and any(p in normalise(value) for p in phrases):
            return True
    return False


class CellReader:
    """Cells read once per distinct text: a sheet repeats the same addresses and ports
    on many rows. Errors are not kept (each is raised at its own cell)."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self._addresses: dict[str, AddressSet] = {}
        self._ports: dict[str, list[PortSpec]] = {}
        self._protocols: dict[str, frozenset[str]] = {}

    def addresses(self, text: str) -> AddressSet:
        found = self._addresses.get(text)
        if found is None:
            found = self._addresses[text] = expand_hosts(parse_addresses(text, self.names))
        return found

    def ports(self, text: str) -> list[PortSpec]:
        found = self._ports.get(text)
        if found is None:
            found = self._ports[text] = parse_ports(text)
        return found

    def protocols(self, text: str) -> frozenset[str]:
        found = self._protocols.get(text)
        if found is None:
            found = self._protocols[text] = parse_protocols(text)
        return found


def _side(
    sheet: Sheet,
    number: int,
    cells: list[Value],
    columns: Columns,
    fields: tuple[str, ...],
    reader: CellReader,
) -> AddressSet | None:
    for name in fields:
        found = columns.get(cells, name)
        if found is None:
            continue
        index, text = found
        try:
            return reader.addresses(text)
        except CellError as exc:
            raise sheet.error(number, index, str(exc), exc.hint) from None
    return None


def read_rows(sheet: Sheet, columns: Columns, names: Names) -> list[Row]:
    """The data rows after the header; a row with no source, destination and port is skipped."""
    rows: list[Row] = []
    reader = CellReader(names)
    source_fields = ("source_address", "source")
    destination_fields = ("destination_address", "fqdn", "destination")
    for number, cells in sheet.rows:
        if columns.header_row is not None and number <= columns.header_row:
            continue
        port_cell = columns.get(cells, "port")
        sources = _side(sheet, number, cells, columns, source_fields, reader)
        destinations = _side(sheet, number, cells, columns, destination_fields, reader)
        if port_cell is None and sources is None and destinations is None:
            continue
        if port_cell is None or sources is None or destinations is None:
            if port_cell is None and (sources is None or destinations is None):
                continue  # a title or a note between blocks of rows
            missing = (
                "port" if port_cell is None else "source" if sources is None else "destination"
            )
            field = {"source": "source_address", "destination": "destination_address"}.get(
                missing, missing
            )
            index = columns.by_field.get(field, columns.by_field.get(missing, 0))
            if missing == "port":
                message = _("the row has no port")
            elif missing == "source":
                message = _("the row has no source")
            else:
                message = _("the row has no destination")
            raise sheet.error(
                number, index, message, _("fill the cell, or point --columns at the right column")
            )
        index, text = port_cell
        try:
            specs = reader.ports(text)
        except CellError as exc:
            raise sheet.error(number, index, str(exc), exc.hint) from None
        protocols = _protocols(sheet, number, cells, columns, reader)
        for spec in specs:
            texts = {n: f[1] for n in _TEXT_FIELDS if (f := columns.get(cells, n)) is not None}
            rows.append(
                Row(
                    number=number,
                    where=f"{sheet.name}!{number}" if sheet.name is not None else str(number),
                    sheet=sheet.name,
                    sources=sources,
                    destinations=destinations,
                    protocols=spec.protocols or protocols,
                    ports=spec.ranges,
                    opens=not _closed(cells, columns),
                    texts=texts,
                )
            )
    return rows


def _protocols(
    sheet: Sheet, number: int, cells: list[Value], columns: Columns, reader: CellReader
) -> frozenset[str]:
    found = columns.get(cells, "protocol")
    if found is not None:
        index, text = found
        try:
            protocols = reader.protocols(text)
        except CellError as exc:
            raise sheet.error(number, index, str(exc), exc.hint) from None
        if protocols:
            return protocols
    return frozenset({columns.default_protocol or "tcp"})


def no_header_error(file: str, sheets: list[Sheet]) -> UserError:
    names = ", ".join(repr(s.name) for s in sheets if s.name is not None)
    if names:
        message = _(
            "no header row found in sheet(s) {sheets}: no row names a source, a destination "
            "and a port"
        ).format(sheets=names)
    else:
        message = _("no header row found: no row names a source, a destination and a port")
    return UserError(
        message,
        file=file,
        hint=_(
            "name the columns (Source, Destination, Port...) or give --columns "
            "source=B,destination=D,port=F"
        ),
    )
