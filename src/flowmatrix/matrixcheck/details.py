"""Why a row or a planned flow-port got its verdict: kept as data, said in FR or EN.

``compare`` records a ``Detail`` (a kind and its values); the outputs render it in the
language of ``--lang``, so the table, the JSON, the CSV and the annotated workbook say
the same thing in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowmatrix.i18n import N_, Lang, in_language

#: kind -> its English template (French from the catalog); the values fill ``{name}``.
TEMPLATES: dict[str, str] = {
    "wrong_protocol": N_("{flow}: the plan needs {needed} {port}, the row asks {asked}"),
    "wrong_netscaler_address": N_(
        "{flow}: the plan's {side} is {planned} on NetScaler {host}, the row uses {used}"
    ),
    "pairs_missing": N_("{missing} of {total} address pairs not covered"),
    "at_row": "{where}",
    "not_requested_opened": N_("opens {flows}, which the plan does not request"),
    "obsolete_port": N_("port {ports} is obsolete (binary APNs, switched off in March 2021)"),
    "any_where_hosts": N_("{side} 'any' where the plan needs {needed}"),
    "wider_addresses": N_("{side} {span} is wider than the plan's {needed}"),
    "wider_ports": N_("ports {ports} where the plan needs {needed}"),
    "extra_protocol": N_("protocol {protocol} is not planned here"),
}


@dataclass(frozen=True, slots=True)
class Detail:
    """One reason, as data: ``kind`` (a key of TEMPLATES) and its values."""

    kind: str
    values: tuple[tuple[str, str], ...]

    def text(self, lang: Lang) -> str:
        return in_language(lang, TEMPLATES[self.kind]).format(**dict(self.values))


def detail(kind: str, **values: object) -> Detail:
    if kind not in TEMPLATES:
        raise KeyError(kind)
    return Detail(kind, tuple((k, str(v)) for k, v in values.items()))


def texts(details: list[Detail], lang: Lang) -> list[str]:
    return [d.text(lang) for d in details]
