"""A team's sheet as rows of values: XLSX through openpyxl (cached values), or CSV.

XLSX files are opened read-only (streamed: a 10,000-row sheet reads in well under a
second); merged cells are read from the sheet's ``<mergeCells>`` element, which the
streaming reader skips, and every cell of a merged range gets the range's value. An
encrypted workbook (an OLE2 container holding ``EncryptionInfo``), a legacy ``.xls`` and
a damaged file are refused with the file named and a hint. CSV files are decoded as
UTF-8 (with or without BOM), else cp1252; the delimiter is sniffed among ``, ; TAB |``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _
from flowmatrix.inputfile import read_input_bytes

Value = str | int | float | None
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
#: Rows read to find a header.
HEADER_SCAN = 30
_SAVE_AGAIN = N_("open it in Excel or LibreOffice and save it again as .xlsx, or export CSV")


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters -> 0-based column index."""
    value = 0
    for ch in letters.upper():
        value = value * 26 + (ord(ch) - 64)
    return value - 1


@dataclass
class Sheet:
    """One table of a file: rows (1-based number, values by 0-based column)."""

    file: str
    name: str | None
    """The worksheet's name; None for a CSV file."""
    rows: list[tuple[int, list[Value]]]

    def where(self, row: int, col: int) -> str:
        """``file.xlsx!Sheet!D14`` or ``file.csv:14:4``."""
        if self.name is None:
            return f"{self.file}:{row}:{col + 1}"
        return f"{self.file}!{self.name}!{column_letter(col)}{row}"

    def error(self, row: int, col: int, message: str, hint: str | None = None) -> UserError:
        return UserError(message, file=self.where(row, col), hint=hint)


def _tidy(value: object) -> Value:
    if value is None or isinstance(value, str | int):
        return value if not isinstance(value, bool) else str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return str(value)


def _read_bytes(path: str | Path) -> bytes:
    return read_input_bytes(path, what=N_("spreadsheet"))


def is_xlsx(path: str | Path, raw: bytes) -> bool:
    return (
        str(path).lower().endswith((".xlsx", ".xlsm")) or raw[:2] == b"PK" or raw[:8] == _OLE2_MAGIC
    )


def read_sheets(path: str | Path) -> Iterator[Sheet]:
    """Every table of the file, in order (a CSV file is one)."""
    raw = _read_bytes(path)
    if is_xlsx(path, raw):
        yield from _read_xlsx(str(path), raw)
    else:
        yield _read_csv(str(path), raw)


def _refuse_container(name: str, raw: bytes) -> None:
    if raw[:8] == _OLE2_MAGIC:
        if "EncryptionInfo".encode("utf-16-le") in raw:
            raise UserError(
                _("the workbook is encrypted (password-protected)"),
                file=name,
                hint=_(
                    "open it in Excel and save a copy without a password "
                    "(File > Info > Protect Workbook > Encrypt with Password: empty)"
                ),
            )
        raise UserError(
            _("a legacy Excel 97-2003 workbook (.xls), not .xlsx"),
            file=name,
            hint=_("save it as .xlsx (Excel Workbook) or export the sheet as CSV"),
        )
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise UserError(
            _("not an XLSX workbook (the file is damaged or of another kind)"),
            file=name,
            hint=_(_SAVE_AGAIN),
        )


def _read_xlsx(name: str, raw: bytes) -> Iterator[Sheet]:
    import openpyxl

    _refuse_container(name, raw)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged package
        raise UserError(
            _("the workbook cannot be read ({error})").format(error=type(exc).__name__),
            file=name,
            hint=_(_SAVE_AGAIN),
        ) from None
    archive = zipfile.ZipFile(io.BytesIO(raw))
    try:
        for worksheet in workbook.worksheets:
            yield _worksheet(name, worksheet, archive)
    finally:
        workbook.close()


def _worksheet(name: str, worksheet: object, archive: zipfile.ZipFile) -> Sheet:
    ws = worksheet
    title = str(getattr(ws, "title", "Sheet"))
    rows: list[tuple[int, list[Value]]] = []
    iter_rows = getattr(ws, "iter_rows", None)
    if iter_rows is None:  # a chart sheet
        return Sheet(name, title, rows)
    try:
        for number, values in enumerate(iter_rows(min_row=1, min_col=1, values_only=True), start=1):
            cells = [_tidy(v) for v in values]
            while cells and (cells[-1] is None or cells[-1] == ""):
                cells.pop()
            if cells:
                rows.append((number, cells))
    except Exception as exc:
        raise UserError(
            _("sheet {sheet!r} cannot be read ({error})").format(
                sheet=title, error=type(exc).__name__
            ),
            file=name,
            hint=_(_SAVE_AGAIN),
        ) from None
    path = getattr(ws, "_worksheet_path", None)
    if path:
        _unmerge(rows, _merged_ranges(archive, str(path)))
    return Sheet(name, title, rows)


def _merged_ranges(archive: zipfile.ZipFile, path: str) -> list[tuple[int, int, int, int]]:
    try:
        xml = archive.read(path)
    except KeyError:
        return []
    tail = xml[xml.rfind(b"</sheetData>") :] if b"</sheetData>" in xml else xml
    return [
        (int(r1), column_index(c1.decode()), int(r2), column_index(c2.decode()))
        for c1, r1, c2, r2 in _MERGE.findall(tail)
    ]


def _unmerge(rows: list[tuple[int, list[Value]]], ranges: list[tuple[int, int, int, int]]) -> None:
    """Copy each merged range's top-left value into all its cells."""
    if not ranges:
        return
    by_number = dict(rows)
    for r1, c1, r2, c2 in ranges:
        top = by_number.get(r1)
        value = top[c1] if top is not None and c1 < len(top) else None
        if value is None:
            continue
        for r in range(r1, r2 + 1):
            cells = by_number.get(r)
            if cells is None:
                cells = by_number[r] = []
                rows.append((r, cells))
            if len(cells) <= c2:
                cells.extend([None] * (c2 + 1 - len(cells)))
            for c in range(c1, c2 + 1):
                if cells[c] is None or cells[c] == "":
                    cells[c] = value
    rows.sort(key=lambda item: item[0])


def decode_text(raw: bytes) -> str:
    """UTF-8 (BOM or not), else cp1252 (what Excel writes for 'CSV' on Western Windows)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:HEADER_SCAN])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = next((line for line in text.splitlines() if line.strip()), "")
        return max(",;\t|", key=first.count)


def _read_csv(name: str, raw: bytes) -> Sheet:
    if b"\x00" in raw[:4096]:
        raise UserError(
            _("binary data, not a CSV text file"),
            file=name,
            hint=_("give the .xlsx workbook or a CSV export"),
        )
    text = decode_text(raw)
    if not text.strip():
        raise UserError(_("the file is empty"), file=name, line=1, col=1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[tuple[int, list[Value]]] = []
    start = 1
    try:
        for record in reader:
            cells: list[Value] = list(record)
            while cells and not str(cells[-1]).strip():
                cells.pop()
            if cells:
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UserError(
            _("CSV error: {error}").format(error=exc), file=name, line=reader.line_num
        ) from None
    return Sheet(name, None, rows)
