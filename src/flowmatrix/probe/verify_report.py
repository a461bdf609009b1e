"""``verify`` results as JSON (the documented contract, built by ``probe.document``), CSV,
JUnit XML or a table."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flowmatrix.i18n import _, language, ngettext
from flowmatrix.probe.document import document_head, report_dict
from flowmatrix.probe.results import INCONCLUSIVE_STATES, ProbeResult, state_labels
from flowmatrix.probe.verify import VerifyReport
from flowmatrix.render import to_csv, to_json, to_json_items_bytes, to_table

if TYPE_CHECKING:
    from flowmatrix.i18n import Lang

CSV_COLUMNS = (
    "flow",
    "requirement",
    "required",
    "source_role",
    "source_host",
    "source_address",
    "destination_role",
    "destination_host",
    "fqdn",
    "address",
    "port",
    "protocol",
    "service",
    "state",
    "reason",
    "latency_ms",
    "attempts",
    "two_ended",
    "tls_version",
    "tls_subject",
    "tls_not_after",
    "tls_sha256",
    "findings",
    "notes",
)
TABLE_COLUMNS = (
    "flow",
    "destination",
    "address",
    "port",
    "protocol",
    "state",
    "latency_ms",
    "reason",
)
STATE_STYLES = {
    "open": "green",
    "closed": "red",
    "filtered": "red",
    "unreachable": "red",
    "unresolved": "red",
    "error": "red",
    "open|filtered": "yellow",
    "not_probed": "dim",
}


def to_json_text(report: VerifyReport) -> str:
    return to_json(report_dict(report))


def to_json_document(report: VerifyReport) -> bytearray:
    """``to_json_text`` as UTF-8 bytes, encoded result by result (bounded memory)."""
    return to_json_items_bytes(
        document_head(report),
        ("results", (r.to_dict() for r in report.results)),
        ("checks", (r.check().to_dict() for r in report.results)),
    )


def _latency(result: ProbeResult) -> str:
    return "" if result.latency_ms is None else f"{result.latency_ms:.1f}"


def _csv_row(result: ProbeResult) -> dict[str, Any]:
    tls = result.tls
    return {
        "flow": result.flow,
        "requirement": result.requirement,
        "required": "yes" if result.required else "no",
        "source_role": result.source_role,
        "source_host": result.source_host or "",
        "source_address": result.source_address or "",
        "destination_role": result.destination_role,
        "destination_host": result.destination_host or "",
        "fqdn": result.fqdn or "",
        "address": result.address or "",
        "port": result.port or "",
        "protocol": result.protocol,
        "service": result.service or "",
        "state": result.state,
        "reason": result.reason,
        "latency_ms": _latency(result),
        "attempts": result.attempts,
        "two_ended": "yes" if result.two_ended else "no",
        "tls_version": (tls.version or "") if tls else "",
        "tls_subject": (tls.subject or "") if tls else "",
        "tls_not_after": (tls.not_after or "") if tls else "",
        "tls_sha256": (tls.sha256 or "") if tls else "",
        "findings": "; ".join(result.findings),
        "notes": "; ".join(result.notes),
    }


def to_csv_text(report: VerifyReport) -> str:
    return to_csv([_csv_row(r) for r in report.results], CSV_COLUMNS)


class _TableWords:
    """The words of the table, looked up once per table (not once per result)."""

    def __init__(self) -> None:
        self.states = state_labels()
        self.finding = _("FINDING: {finding}")
        self.tls = _("TLS {version}, {subject}, until {not_after}")
        self.note = _("note: {note}")
        self.expected = _("(obsolete or legacy flow: failure expected)")


def _table_row(result: ProbeResult, words: _TableWords) -> dict[str, Any]:
    reason = result.reason
    if result.findings:
        reason += "".join("\n" + words.finding.format(finding=f) for f in result.findings)
    tls = result.tls
    if tls is not None and tls.version:
        reason += "\n" + words.tls.format(
            version=tls.version, subject=tls.subject, not_after=tls.not_after
        )
    reason += "".join("\n" + words.note.format(note=n) for n in result.notes)
    if not result.required and result.failed:
        reason += "\n" + words.expected
    return {
        "flow": result.flow,
        "destination": result.destination_host or result.destination_role,
        "address": result.address or result.fqdn or "",
        "port": result.port or "",
        "protocol": result.protocol,
        "state": words.states.get(result.state, result.state),
        "latency_ms": _latency(result),
        "reason": reason,
    }


def to_table_text(report: VerifyReport, lang: Lang, *, width: int, color: bool) -> str:
    """The results for people, in ``lang``: states as words (the JSON keeps the codes)."""
    with language(lang):
        words = _TableWords()
        rows = [_table_row(r, words) for r in report.results]
        title = _("{site}: from {source}").format(site=report.site, source=report.source)
    styles = {words.states.get(state, state): style for state, style in STATE_STYLES.items()}
    return to_table(
        rows,
        TABLE_COLUMNS,
        lang,
        title=title,
        width=width,
        color=color,
        styles={"state": styles},
    )


def _state_count(state: str, n: int) -> str:
    """``3 open``: a count of results in one state (French agrees the word with it)."""
    match state:
        case "open":
            text = ngettext("{n} open", "{n} open", n)
        case "closed":
            text = ngettext("{n} closed", "{n} closed", n)
        case "filtered":
            text = ngettext("{n} filtered", "{n} filtered", n)
        case "unreachable":
            text = ngettext("{n} unreachable", "{n} unreachable", n)
        case "open|filtered":
            text = ngettext("{n} open|filtered", "{n} open|filtered", n)
        case "unresolved":
            text = ngettext("{n} unresolved", "{n} unresolved", n)
        case "error":
            text = ngettext("{n} error", "{n} error", n)
        case "not_probed":
            text = ngettext("{n} not_probed", "{n} not_probed", n)
        case _:
            return f"{n} {state}"
    return text.format(n=n)


def summary_line(report: VerifyReport) -> str:
    summary = report.summary
    states = ", ".join(_state_count(state, count) for state, count in summary.by_state.items())
    text = ngettext("{n} probes: {states}", "{n} probes: {states}", summary.total).format(
        n=summary.total, states=states
    )
    if summary.failed:
        text += ngettext("; {n} required failed", "; {n} required failed", summary.failed).format(
            n=summary.failed
        )
    if summary.failed_optional:
        text += ngettext(
            "; {n} obsolete/legacy failed (expected)",
            "; {n} obsolete/legacy failed (expected)",
            summary.failed_optional,
        ).format(n=summary.failed_optional)
    return text


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry (a certificate may hold anything)."""
    return _NOT_XML.sub("\ufffd", text)


def to_junit(report: VerifyReport) -> str:
    """One test case per result: failures for failed required flows, skips for the rest."""
    import xml.etree.ElementTree as ET

    suite = ET.Element("testsuite", name=f"flowmatrix verify: {report.site}")
    labels = state_labels()
    failures = skipped = 0
    for result in report.results:
        where = f"{result.address or result.fqdn or '-'}:{result.port}/{result.protocol}"
        case = ET.SubElement(
            suite,
            "testcase",
            classname=result.requirement,
            name=_xml(
                f"{result.flow} {result.destination_host or result.destination_role} {where}"
            ),
            time=f"{(result.latency_ms or 0.0) / 1000.0:.6f}",
        )
        detail = _xml("\n".join((result.reason, *result.findings, *result.notes)))
        if result.counts_against:
            failures += 1
            message = (
                result.findings[0]
                if result.findings and result.state == "open"
                else (result.reason)
            )
            node = ET.SubElement(case, "failure", message=_xml(message), type=result.state)
            node.text = detail
        elif result.failed or result.state in INCONCLUSIVE_STATES:
            skipped += 1
            state = labels.get(result.state, result.state)
            ET.SubElement(case, "skipped", message=_xml(f"{state}: {result.reason}"))
        else:
            ET.SubElement(case, "system-out").text = detail
    suite.set("tests", str(len(report.results)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
