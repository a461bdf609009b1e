"""Which column holds what: header aliases in French and English, or ``--columns``.

A header is the first row (among the first 30 of a sheet) where a source, a destination
and a port column are all recognised. Header texts are compared without case, accents
or punctuation, so ``Port(s)``, ``PORTS`` and ``port_s`` are one spelling. A port header
that names a protocol (``Port TCP``, the vendor page's own header) makes that protocol
the column's default.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.matrixcheck.sheet import HEADER_SCAN, Sheet, Value, column_index, column_letter

#: Field -> header spellings (normalised: lower case, no accents, punctuation as spaces).
ALIASES: dict[str, tuple[str, ...]] = {
    "source_address": (
        "ip source", "adresse source", "adresses source", "adresse ip source", "ip src",
        "source ip", "source address", "source addresses", "src ip", "ip emetteur",
        "adresse emetteur", "source ip address", "ip d origine",
    ),
    "source": (
        "source", "emetteur", "origine", "from", "de", "src", "nom source", "source name",
        "hote source", "serveur source", "machine source", "source host",
    ),
    "destination_address": (
        "ip destination", "adresse destination", "adresses destination", "ip dest",
        "adresse ip destination", "destination ip", "destination address",
        "destination addresses", "dst ip", "ip dst", "ip cible", "adresse cible",
        "destination ip address",
    ),
    "destination": (
        "destination", "cible", "to", "vers", "dst", "dest", "destinataire",
        "nom destination", "destination name", "hote destination", "serveur destination",
        "machine destination", "destination host", "a",
    ),
    "fqdn": ("destination fqdn", "fqdn destination", "fqdn", "nom dns", "dns name", "url"),
    "port": (
        "port", "ports", "port s", "port destination", "ports destination", "destination port",
        "destination ports", "port dst", "dport", "dst port", "n port", "numero de port",
    ),
    "protocol": ("protocole", "protocol", "proto", "protocoles", "protocols", "transport"),
    "service": ("service", "services", "application"),
    "description": (
        "description", "justification", "commentaire", "commentaires", "motif", "raison",
        "reason", "comment", "comments", "usage", "objet", "besoin", "remarque",
    ),
    "action": ("action", "autorisation", "permit deny", "regle"),
    "decision": ("decision", "statut demande", "etat", "validation"),
    "firewall": (
        "pare feu", "firewall", "firewalls", "fw", "equipement", "firewall path",
        "chemin de pare feu", "pare feux",
    ),
    "flow": ("flow", "flux", "id", "ref", "reference", "n", "no", "numero", "flow id"),
}  # fmt: skip
FIELDS = tuple(ALIASES)
_BY_ALIAS = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_PUNCT = re.compile(r"[^a-z0-9]+")
#: The report's workbook columns (``report/labels.py`` keys) -> the field each holds: its
#: headers are read back in every language the report writes, whatever its catalog says.
_REPORT_COLUMNS = {
    "flow": "flow",
    "source_name": "source",
    "source_address": "source_address",
    "destination_name": "destination",
    "destination_address": "destination_address",
    "fqdn": "fqdn",
    "protocol": "protocol",
    "port": "port",
    "firewall_path": "firewall",
    "justification": "description",
    "decision": "decision",
}


@lru_cache(maxsize=1)
def _by_alias() -> dict[str, str]:
    """Header spelling -> field: the aliases above, then the report's own headers."""
    from flowmatrix.i18n import LANGUAGES
    from flowmatrix.report.labels import label

    found = dict(_BY_ALIAS)
    for lang in LANGUAGES:
        for key, name in _REPORT_COLUMNS.items():
            found.setdefault(normalise(label(key, lang)), name)
    return found


def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, blanks collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _PUNCT.sub(" ", plain).strip()


@dataclass
class Columns:
    """Field -> 0-based column, and where the header is."""

    by_field: dict[str, int]
    header_row: int | None
    """1-based row of the header (None: no header row, data from the first row)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Field -> the header text as written (for the missing-flows sheet)."""
    default_protocol: str | None = None
    """``tcp`` or ``udp`` when the port header names one (``Port TCP``)."""

    def get(self, cells: list[Value], name: str) -> tuple[int, str] | None:
        index = self.by_field.get(name)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        if value is None:
            return None
        text = str(value).strip()
        return (index, text) if text else None

    def describe(self) -> dict[str, str]:
        return {
            name: column_letter(index)
            for name, index in sorted(self.by_field.items(), key=lambda i: i[1])
        }


def _field_of(text: str) -> tuple[str | None, str | None]:
    key = normalise(text)
    by_alias = _by_alias()
    if key in by_alias:
        return by_alias[key], None
    words = key.split()
    if words and words[-1] in ("tcp", "udp") and " ".join(words[:-1]) in ALIASES["port"]:
        return "port", words[-1]
    return None, None


def _match_row(cells: list[Value]) -> Columns | None:
    found: dict[str, int] = {}
    labels: dict[str, str] = {}
    default: str | None = None
    for index, value in enumerate(cells):
        if not isinstance(value, str) or not value.strip():
            continue
        name, protocol = _field_of(value)
        if name is None or name in found:
            continue
        found[name] = index
        labels[name] = value.strip()
        default = default or protocol
    has_source = "source" in found or "source_address" in found
    has_destination = "destination" in found or "destination_address" in found or "fqdn" in found
    if has_source and has_destination and "port" in found:
        return Columns(found, None, labels, default)
    return None


def detect(sheet: Sheet) -> Columns | None:
    """The header of a sheet, or None when no row looks like one."""
    for number, cells in sheet.rows[:HEADER_SCAN]:
        columns = _match_row(cells)
        if columns is not None:
            columns.header_row = number
            return columns
    return None


def parse_override(text: str) -> dict[str, int]:
    """``source=B,destination=D,port=6`` -> field -> 0-based column."""
    result: dict[str, int] = {}
    names = {"source": "source_address", "destination": "destination_address"}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, where = part.partition("=")
        key = key.strip().lower().replace("-", "_")
        name = names.get(key, key)
        where = where.strip()
        if not sep or name not in FIELDS:
            raise UserError(
                _("--columns: {part!r} is not FIELD=COLUMN").format(part=part),
                hint=_("fields: {fields}; columns as letters (B) or numbers (2)").format(
                    fields=", ".join(sorted({*names, *FIELDS}))
                ),
            )
        if where.isdigit() and int(where) > 0:
            result[name] = int(where) - 1
        elif re.fullmatch(r"[A-Za-z]{1,3}", where):
            result[name] = column_index(where)
        else:
            raise UserError(
                _("--columns: {column!r} is not a column").format(column=where),
                hint=_("write a letter (B) or a number (2)"),
            )
    return result


def resolve(sheet: Sheet, override: dict[str, int] | None) -> Columns | None:
    """The columns of a sheet: the header found, with ``override`` applied on top."""
    found = detect(sheet)
    if not override:
        return found
    if found is None:
        return Columns(dict(override), None, {})
    found.by_field.update(override)
    return found
