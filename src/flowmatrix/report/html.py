"""The HTML report: one self-contained page (Jinja2, autoescape on, CSS and JS inline).

The page fetches nothing: its Content-Security-Policy allows no source at all but the
inline style and script, pinned by their SHA-256, so even a string that slipped past
escaping could not run as script nor load anything.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

import flowmatrix
from flowmatrix.i18n import Lang, _, language, ngettext, pgettext
from flowmatrix.report.journey_summary import journey_rows
from flowmatrix.report.labels import (
    CATALOG_KEYS,
    catalog_key,
    catalog_status_label,
    kind_label,
    label,
    labels,
    status_label,
)
from flowmatrix.report.pagedata import evidence_text, flow_data, port_statuses, script_json
from flowmatrix.report.status import STATUSES
from flowmatrix.report.style import LOOKS
from flowmatrix.report.view import ReportView, anchor, flow_anchor


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("flowmatrix.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _asset(name: str, closing: str) -> str:
    """A CSS or JS file of the templates folder, checked to be safe to inline."""
    text = (resources.files("flowmatrix.report") / "templates" / name).read_text("utf-8")
    if closing in text.lower():
        raise ValueError(f"{name} contains {closing!r} and cannot be inlined")
    return text


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def csp(style: str, script: str) -> str:
    return (
        f"default-src 'none'; style-src {_sha256(style)}; script-src {_sha256(script)}; "
        "img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )


#: Rows per page of the flow matrix (and rows in the HTML itself, for readers without
#: JavaScript); the reader can choose another size.
PAGE_SIZE = 250
PAGE_SIZES = (100, 250, 1000)
#: Site-specific flows listed one by one in the requirements section, at most.
SITE_FLOWS_LISTED = 200
#: The port filter offers each port of a range shorter than this, only the ends of a
#: longer one (``1-65535`` would otherwise make 65,535 choices).
PORT_CHOICES_PER_RANGE = 64


def render_html(view: ReportView, diagram_svg: str, diagram_engine: str) -> str:
    """The page for ``view``; ``diagram_svg`` must come from the layout or the sanitiser."""
    with language(view.lang):
        return _render_html(view, diagram_svg, diagram_engine)


def _render_html(view: ReportView, diagram_svg: str, diagram_engine: str) -> str:
    env = _environment()
    lang = view.lang
    style = _asset("report.css", "</style")
    script = _asset("report.js", "</script")
    plan = view.plan
    roles: dict[str, str] = {}
    ports: set[int] = set()
    for flow in plan.flows:
        roles.setdefault(flow.source.role, flow.source.role_name)
        roles.setdefault(flow.destination.role, flow.destination.role_name)
        for low, high in flow.ports.ranges:  # a long range offers its ends, not each port
            ports.update(
                range(low, high + 1) if high - low < PORT_CHOICES_PER_RANGE else (low, high)
            )
    statuses = {s: status_label(s, lang) for s in STATUSES}
    site_flows_listed = len(view.site_flows) <= SITE_FLOWS_LISTED
    listed = {e.id for e in view.requirements}
    if site_flows_listed:
        listed |= {e.id for e in view.site_flows}

    def href(requirement: str) -> str:
        return anchor(requirement) if requirement in listed else "site-flows"

    template = env.get_template("report.html.j2")
    return template.render(
        view=view,
        plan=plan,
        lang=lang,
        L=labels(lang),
        label=lambda key: label(key, lang),
        kind=lambda kind: kind_label(kind, lang),
        colon=_("{name}:").format(name=""),
        list_separator=pgettext("list", "; "),
        flow_ports_text=ngettext(
            "{n} flow-port row", "{n} flow-port rows", view.summary.flow_ports
        ).format(n=view.summary.flow_ports),
        flows_text=lambda n: ngettext("{n} flow", "{n} flows", n).format(n=n),
        no_script=ngettext(
            "JavaScript is off: the first {n} flow is listed, without filters; the XLSX "
            "workbook holds every flow.",
            "JavaScript is off: the first {n} flows are listed, without filters; the XLSX "
            "workbook holds every flow.",
            PAGE_SIZE,
        ).format(n=PAGE_SIZE),
        site_flows_many=ngettext(
            "{n} site-specific flow: it is in the flow matrix (search for SITE-), with "
            "the description the site file gives it.",
            "{n} site-specific flows: each is in the flow matrix (search for SITE-), with "
            "the description the site file gives it.",
            len(view.site_flows),
        ).format(n=len(view.site_flows)),
        statuses=statuses,
        status_order=["proven", "failing", "depends", "not-tested"],
        looks=LOOKS,
        catalog_status=lambda s: catalog_status_label(s, lang),
        catalog_key=catalog_key,
        href=href,
        flow_anchor=flow_anchor,
        evidence=evidence_text,
        port_statuses=port_statuses,
        first_rows=view.rows[:PAGE_SIZE],
        page_size=PAGE_SIZE,
        page_sizes=PAGE_SIZES,
        site_flows_listed=site_flows_listed,
        flow_data=Markup(flow_data(view.rows, href)),
        firewalls=[f.name for f in plan.site.firewalls],
        journeys=journey_rows(plan, view.rows),
        roles=sorted(roles.items(), key=lambda item: item[1].lower()),
        ports=sorted(ports),
        diagram=Markup(diagram_svg),
        diagram_engine=diagram_engine,
        style=Markup(style),
        script=Markup(script),
        csp=csp(style, script),
        version=flowmatrix.__version__,
        i18n=Markup(script_json(_script_texts(lang))),
    )


def _script_texts(lang: Lang) -> dict[str, object]:
    """What the script writes into the page, in the page's language: whole sentences with
    ``{placeholders}``, in their singular and plural forms (``lang`` says which to pick)."""
    return {
        "lang": lang,
        "shown": [
            ngettext("Showing {shown} of {total} flow", "Showing {shown} of {total} flows", n)
            for n in (1, 2)
        ],
        "page_info": _("Page {page} / {pages} · Rows {first}–{last}"),
        "pair": _("{name}: {value}"),
        "print_page": label("print_page", lang),
        "statuses": {s: status_label(s, lang) for s in STATUSES},
        "symbols": {s: LOOKS[s].symbol for s in STATUSES},
        "rank": list(STATUSES),
        "catalog": {s: catalog_status_label(s, lang) for s in CATALOG_KEYS if s != "current"},
        "none": "—",
    }
