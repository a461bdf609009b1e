"""Why a row or a planned flow-port got its verdict: kept as data, said in FR or EN.

``compare`` records a ``Detail`` (a kind and its values); the outputs render it in the
language of ``--lang``, so the table, the JSON, the CSV and the annotated workbook say
the same thing in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowmatrix.catalog import Lang

#: kind -> (en, fr) templates; the values fill ``{name}``.
TEMPLATES: dict[str, tuple[str, str]] = {
    "wrong_protocol": (
        "{flow}: the plan needs {needed} {port}, the row asks {asked}",
        "{flow} : le plan demande {needed} {port}, la ligne demande {asked}",
    ),
    "wrong_netscaler_address": (
        "{flow}: the plan's {side} is {planned} on NetScaler {host}, the row uses {used}",
        "{flow} : en {side}, le plan a {planned} sur le NetScaler {host}, la ligne utilise {used}",
    ),
    "pairs_missing": (
        "{missing} of {total} address pairs not covered",
        "{missing} paire(s) d'adresses sur {total} non couverte(s)",
    ),
    "at_row": ("{where}", "{where}"),
    "not_requested_opened": (
        "opens {flows}, which the plan does not request",
        "ouvre {flows}, que le plan ne demande pas",
    ),
    "obsolete_port": (
        "port {ports} is obsolete (binary APNs, switched off in March 2021)",
        "port {ports} obsolète (APNs binaire, arrêté en mars 2021)",
    ),
    "any_where_hosts": (
        "{side} 'any' where the plan needs {needed}",
        "{side} « toutes » là où le plan demande {needed}",
    ),
    "wider_addresses": (
        "{side} {span} is wider than the plan's {needed}",
        "{side} {span} plus large que ce que le plan demande ({needed})",
    ),
    "wider_ports": (
        "ports {ports} where the plan needs {needed}",
        "ports {ports} là où le plan demande {needed}",
    ),
    "extra_protocol": (
        "protocol {protocol} is not planned here",
        "protocole {protocol} non planifié ici",
    ),
}


@dataclass(frozen=True, slots=True)
class Detail:
    """One reason, as data: ``kind`` (a key of TEMPLATES) and its values."""

    kind: str
    values: tuple[tuple[str, str], ...]

    def text(self, lang: Lang) -> str:
        en, fr = TEMPLATES[self.kind]
        return (fr if lang == "fr" else en).format(**dict(self.values))


def detail(kind: str, **values: object) -> Detail:
    if kind not in TEMPLATES:
        raise KeyError(kind)
    return Detail(kind, tuple((k, str(v)) for k, v in values.items()))


def texts(details: list[Detail], lang: Lang) -> list[str]:
    return [d.text(lang) for d in details]
