"""Plans as plain data: the documented JSON contract and flat table rows (the catalog's
own are in ``catalog_export``)."""

from __future__ import annotations

from typing import Any

from flowmatrix.documents import header
from flowmatrix.i18n import N_, _, pgettext
from flowmatrix.model import Flow, FlowEnd, Nat, Plan


def end_to_dict(end: FlowEnd, *, with_fqdn: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": end.role,
        "role_name": end.role_name,
        "zone": end.zone,
        "addresses": list(end.addresses),
        "hosts": [h.name for h in end.hosts],
        "any": end.any_address,
        "any_reason": end.any_reason,
        "names": list(end.names),
    }
    if with_fqdn:
        fqdns = end.fqdns
        data["fqdn"] = fqdns[0] if len(fqdns) == 1 else (list(fqdns) or None)
    return data


def nat_to_dict(nat: Nat) -> dict[str, Any]:
    return {
        "firewall": nat.firewall,
        "kind": nat.kind,
        "outside": nat.outside,
        "public": nat.public or None,
        "private": list(nat.private),
        "subject": nat.subject,
        "ports": None if nat.ports is None else list(nat.ports),
        "masquerade": nat.masquerade,
    }


def flow_to_dict(flow: Flow) -> dict[str, Any]:
    return {
        "id": flow.id,
        "requirement": flow.requirement,
        "source": end_to_dict(flow.source, with_fqdn=False),
        "destination": end_to_dict(flow.destination, with_fqdn=True),
        "protocol": flow.protocol,
        "ports": list(flow.ports),
        "firewalls": list(flow.firewalls),
        "description": flow.description,
        "service": flow.service,
        "tls": flow.tls,
        "tls_ports": list(flow.tls_ports),
        "status": flow.status,
        "requested": flow.requested,
        "proxy": None
        if flow.proxy is None
        else {
            "leg": flow.proxy.leg,
            "proxy": flow.proxy.proxy,
            "port": flow.proxy.port,
            "names": list(flow.proxy.names),
            "ports": list(flow.proxy.ports),
        },
        "notes": list(flow.notes),
        "nat": [nat_to_dict(n) for n in flow.nat],
        "sent_to": list(flow.sent().addresses),
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The ``flowmatrix plan --format json`` document (``flowmatrix-plan/2``)."""
    site = plan.site
    return {
        **header("plan", plan.site_ref()),
        "site_file": plan.site_file,
        "zones": [
            {"name": z.name, "cidrs": list(z.cidrs), "internet": z.internet} for z in site.zones
        ],
        "firewalls": [{"name": f.name, "zones": list(f.zones)} for f in site.firewalls],
        "catalog": plan.catalog.catalog.id,
        "lang": plan.lang,
        "flows": [flow_to_dict(f) for f in plan.flows],
        "skipped": [{"requirement": s.requirement, "reason": s.reason} for s in plan.skipped],
        "warnings": list(plan.warnings),
        "nat": [nat_to_dict(n) for n in plan.nat],
    }


def _end_text(end: FlowEnd, words: bool = False) -> str:
    """An end's addresses; ``words``: its words ('any', 'missing') in the current language."""
    if end.any_address:
        names = end.fqdns
        if not words:
            return "any" + (f" (names: {', '.join(names)})" if names and end.any_reason else "")
        if names and end.any_reason:
            return _("any (names: {names})").format(names=", ".join(names))
        return pgettext("address", "any")
    if end.unresolved:
        return (
            _("missing: no address, name or choice")
            if words
            else ("missing: no address, name or choice")
        )
    parts = list(end.addresses) or list(end.fqdns)
    return ", ".join(parts)


#: The catalog statuses of a plan table, in words (the values stay the catalog's).
STATUS_WORDS = {
    "current": lambda: pgettext("catalog status", "current"),
    "obsolete": lambda: pgettext("catalog status", "obsolete"),
    "legacy": lambda: pgettext("catalog status", "legacy"),
    "odd": lambda: pgettext("catalog status", "odd"),
    "obsolete: not requested": lambda: _(N_("obsolete: not requested")),
    "legacy: not requested": lambda: _(N_("legacy: not requested")),
}


def status_text(flow: Flow) -> str:
    """The catalog status, marked when the flow is not requested (not opened)."""
    return flow.status if flow.requested else f"{flow.status}: not requested"


def status_words(status: str) -> str:
    """A :func:`status_text` value in the current language."""
    word = STATUS_WORDS.get(status)
    return word() if word is not None else status


PLAN_COLUMNS = (
    "id",
    "requirement",
    "source",
    "source_zone",
    "source_addresses",
    "destination",
    "destination_zone",
    "destination_addresses",
    "protocol",
    "ports",
    "firewalls",
    "nat",
    "status",
    "description",
)

#: The narrower set of columns a terminal table shows (``--wide`` shows them all).
PLAN_TABLE_COLUMNS = (
    "id",
    "source",
    "source_addresses",
    "destination",
    "destination_addresses",
    "protocol",
    "ports",
    "firewalls",
    "status",
)


def plan_rows(plan: Plan, *, words: bool = False) -> list[dict[str, str]]:
    """One flat row per flow, for tables, CSV and Markdown; ``words``: the cells that are
    words (the status, 'any') in the current language, for people (tables, Markdown)."""
    return [
        {
            "id": f.id,
            "requirement": f.requirement,
            "source": f.source.role_name,
            "source_zone": f.source.zone,
            "source_addresses": _end_text(f.source, words),
            "destination": f.destination.role_name,
            "destination_zone": f.destination.zone,
            "destination_addresses": _end_text(f.destination, words),
            "protocol": f.protocol,
            "ports": f.ports.text(","),
            "firewalls": " > ".join(f.firewalls) or "-",
            "nat": f.translations,
            "status": status_words(status_text(f)) if words else status_text(f),
            "description": f.description,
        }
        for f in plan.flows
    ]
