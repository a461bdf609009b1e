"""``check_matrix``: read a sheet, find its columns, compare its rows with a plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowmatrix.collector import collector_paused
from flowmatrix.documents import SiteRef, header
from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.matrixcheck.cells import Names
from flowmatrix.matrixcheck.columns import Columns, resolve
from flowmatrix.matrixcheck.compare import Comparison, compare
from flowmatrix.matrixcheck.rows import no_header_error, read_rows
from flowmatrix.matrixcheck.sheet import Sheet, _read_bytes, is_xlsx, read_sheets
from flowmatrix.model import Plan


@dataclass
class MatrixCheck:
    file: str
    raw: bytes
    is_xlsx: bool
    checked: list[tuple[Sheet, Columns]]
    result: Comparison
    site: SiteRef | None = None

    def meta(self) -> dict[str, Any]:
        return {
            **header("matrix-check", self.site),
            "file": self.file,
            "sheets": [
                {"name": s.name, "header_row": c.header_row, "columns": c.describe()}
                for s, c in self.checked
            ],
        }


def check_matrix(
    path: str | Path,
    plan: Plan,
    *,
    sheets: list[str] | None = None,
    columns: dict[str, int] | None = None,
) -> MatrixCheck:
    """Every sheet with a recognisable header (or the ``sheets`` named) against ``plan``."""
    with collector_paused():  # cells, rows and their sets: many small objects, no cycles
        return _check_matrix(path, plan, sheets, columns)


def _check_matrix(
    path: str | Path,
    plan: Plan,
    sheets: list[str] | None,
    columns: dict[str, int] | None,
) -> MatrixCheck:
    raw = _read_bytes(path)
    xlsx = is_xlsx(path, raw)
    everything = list(read_sheets(path))
    if sheets:
        known = {s.name for s in everything}
        for name in sheets:
            if name not in known:
                raise UserError(
                    _("no sheet named {name!r}").format(name=name),
                    file=str(path),
                    hint=_("sheets: {sheets}").format(
                        sheets=", ".join(repr(s.name) for s in everything)
                    ),
                )
        everything = [s for s in everything if s.name in sheets]
    names = Names(plan)
    checked: list[tuple[Sheet, Columns]] = []
    rows = []
    for sheet in everything:
        found = resolve(sheet, columns)
        if found is None:
            continue
        checked.append((sheet, found))
        rows.extend(read_rows(sheet, found, names))
    if not checked:
        raise no_header_error(str(path), everything)
    return MatrixCheck(str(path), raw, xlsx, checked, compare(plan, rows), plan.site_ref())
