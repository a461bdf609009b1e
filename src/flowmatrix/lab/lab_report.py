"""The lab's verdicts as a table or as JSON (``flowmatrix lab --format json``).

JSON contract (``flowmatrix-lab/1``)::

    {"format": "flowmatrix-lab/1", "site": str, "site_digest": str, "duration_s": float,
     "namespaces": int,
     "phases": {"build_s", "rules_s", "listen_s", "probe_s", "teardown_s": float},
     "failed": bool,
     "summary": {"planned", "passed", "blocked", "unplanned", "unplanned_blocked",
                 "leaks", "skipped", "skipped_failures", "not_requested": int},
     "firewalls": [{"name", "rules": "generated"|"file", "rule_count", "interfaces": {zone: if}}],
     "results": [{"id", "flow",
                  "variant": "planned"|"not-requested"|"other-name"|"internal-source"|"internal-destination"|"other-port"
                             |"other-public"|"reversed"|"other-source",
                  "required", "verdict": "pass"|"blocked"|"leak"|"error", "ok",
                  "protocol", "port", "firewalls": [str],
                  "source": {"label", "address", "zone", "seen_as"?},
                  "destination": {"label", "address", "zone", "sent_to"?},
                  "name": str|null, "via": "ADDRESS:PORT"|null,
                  "state", "reason", "latency_ms"}],
     "skipped": [{"flow", "reason", "failure": bool}], "warnings": [str]}

A "not-requested" case is an obsolete or legacy flow the site does not keep
(``keep_obsolete``): the rules leave it out, so its probes must be blocked. A skipped flow
with ``failure`` true (any reason but "same zone: no firewall on the path") fails the run.
``name`` is the DNS name the probe resolved (through the firewalls' dnsmasq) or asked the
proxy for; ``via`` the web proxy it went through (``CONNECT name:port``). Through the
site's address translations: ``sent_to``, the public address the probe was sent to (a
firewall's destination NAT leads it to ``address``); ``seen_as``, the source address the
destination sees (source NAT). Both keys are there only when a translation applies.
"""

from __future__ import annotations

from typing import Any

from flowmatrix.documents import SiteRef, header
from flowmatrix.evidence import state_words
from flowmatrix.i18n import Lang, _, language
from flowmatrix.lab.session import CaseResult, LabReport
from flowmatrix.render import to_json as json_text
from flowmatrix.render import to_table as table_text

COLUMNS = ("verdict", "flow", "source", "destination", "protocol", "port", "firewalls", "reason")
#: Verdict cell -> style; a cell shows the verdict as people read it (:func:`_verdicts`).
_VERDICT_STYLES = {
    "pass": "green",
    "blocked": "green",
    "leak": "bold red",
    "blocked!": "bold red",
    "skipped!": "bold red",
    "error": "bold red",
}


def result_to_dict(result: CaseResult) -> dict[str, Any]:
    case = result.case
    source: dict[str, Any] = {
        "label": case.source_label,
        "address": case.source_address,
        "zone": case.source_zone,
    }
    if case.seen_from is not None:
        source["seen_as"] = case.seen_from
    destination: dict[str, Any] = {
        "label": case.destination_label,
        "address": case.destination_address,
        "zone": case.destination_zone,
    }
    if case.sent_to is not None:
        destination["sent_to"] = case.sent_to
    return {
        "id": case.id,
        "flow": case.flow,
        "variant": case.variant,
        "required": case.required,
        "verdict": result.verdict,
        "ok": result.ok,
        "protocol": case.protocol,
        "port": case.port,
        "firewalls": list(case.firewalls),
        "source": source,
        "destination": destination,
        "name": case.name,
        "via": None if case.via is None else f"{case.via[0]}:{case.via[1]}",
        "state": result.state,
        "reason": result.reason,
        "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 3),
    }


def report_to_dict(report: LabReport) -> dict[str, Any]:
    return {
        **header("lab", SiteRef(report.site, report.site_digest)),
        "duration_s": round(report.duration, 3),
        "namespaces": report.namespaces,
        "phases": {f"{name}_s": seconds for name, seconds in report.phases.items()},
        "failed": report.failed,
        "summary": report.counts(),
        "firewalls": [
            {"name": f.name, "rules": f.source, "rule_count": f.rules, "interfaces": f.interfaces}
            for f in report.firewalls
        ],
        "results": [result_to_dict(r) for r in report.results],
        "skipped": [
            {"flow": s.flow, "reason": s.reason, "failure": s.failure} for s in report.skipped
        ],
        "warnings": list(report.warnings),
        "checks": [c.to_dict() for r in report.results if (c := r.check()) is not None],
    }


def to_json(report: LabReport) -> str:
    return json_text(report_to_dict(report))


def _row(result: CaseResult, verdicts: dict[str, str]) -> dict[str, str]:
    case = result.case
    verdict: str = result.verdict
    if verdict == "blocked" and not result.ok:
        verdict = "blocked!"
    flow = case.flow if case.planned else f"{case.flow} ({case.variant})"
    source = f"{case.source_label} {case.source_address} [{case.source_zone}]"
    if case.seen_from is not None:
        source += " " + _("seen as {address}").format(address=case.seen_from)
    destination = f"{case.destination_label} {case.destination_address} [{case.destination_zone}]"
    if case.via is not None:
        proxy = f"{case.via[0]}:{case.via[1]}"
        destination += " " + _("via proxy {proxy}").format(proxy=proxy)
    if case.sent_to is not None:
        destination += " " + _("sent to {address}").format(address=case.sent_to)
    return {
        "verdict": verdicts.get(verdict, verdict),
        "flow": flow,
        "source": source,
        "destination": destination,
        "protocol": case.protocol,
        "port": str(case.port),
        "firewalls": " > ".join(case.firewalls),
        "reason": "" if result.ok and case.planned else result.reason,
    }


def to_table(
    report: LabReport, lang: Lang = "en", *, width: int | None = None, color: bool = False
) -> str:
    with language(lang):
        verdicts = state_words("lab")
        rows = [_row(r, verdicts) for r in report.results]
        rows += [
            {
                "verdict": verdicts["skipped!" if s.failure else "skipped"],
                "flow": s.flow,
                "reason": s.reason,
            }
            for s in report.skipped
        ]
        styles = {"verdict": {verdicts[key]: style for key, style in _VERDICT_STYLES.items()}}
        title = _("lab: {site}").format(site=report.site)
    return table_text(rows, COLUMNS, lang, title=title, width=width, color=color, styles=styles)
