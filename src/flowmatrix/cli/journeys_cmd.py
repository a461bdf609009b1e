"""``flowmatrix journeys``: what users do, the site's flows each needs, the firewalls crossed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit_as, load_plan_for
from flowmatrix.i18n import N_, in_language

if TYPE_CHECKING:
    from flowmatrix.i18n import Lang
    from flowmatrix.journeys import JourneyFlows

NO_FLOW = N_("no flow in this site")
COLUMNS = ("id", "name", "flows", "firewalls")


def journey_rows(journeys: tuple[JourneyFlows, ...], lang: Lang) -> list[dict[str, Any]]:
    """One row per journey: its flows (``XM-APP-10.1 tcp/443``, optional ones marked)."""
    from flowmatrix.report.labels import catalog_status_label

    rows = []
    for journey in journeys:
        flows = [
            f"{f.id} {f.protocol}/{f.ports.text(',')}"
            + (
                ""
                if f.status not in {"obsolete", "legacy"}
                else f" ({catalog_status_label(f.status, lang).lower()})"
            )
            for f in journey.flows
        ]
        rows.append(
            {
                "id": journey.id,
                "name": journey.name,
                "flows": "\n".join(flows) or in_language(lang, NO_FLOW),
                "firewalls": ", ".join(journey.firewalls),
            }
        )
    return rows


@app.command("journeys")
def journeys_command(
    site: opt.SiteArg = None,
    lang: opt.LangOpt = opt.Language.en,
    fmt: opt.FormatOpt[opt.TableJsonFormat] = opt.TableJsonFormat.table,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """List the user journeys (what users do) with the site's flows and the firewalls crossed.

    A journey is up when all its required flows are: ``verify`` and ``watch`` judge them.
    """
    from functools import partial

    from flowmatrix.journeys import plan_journeys
    from flowmatrix.render import to_json, to_table

    plan = load_plan_for(site, lang, catalog)
    journeys = plan_journeys(plan)
    emit_as(
        fmt,
        output,
        table=partial(
            to_table, journey_rows(journeys, lang.value), COLUMNS, lang.value, title=plan.site.name
        ),
        json=lambda: to_json(
            {"site": plan.site.name, "journeys": [journey.to_dict() for journey in journeys]}
        ),
    )
