"""The HTML report summarises each user journey from the results it reads."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from flowmatrix.probe.results import ProbeResult
from flowmatrix.report.compose import make_report


def _verify_file(plan: Plan, folder: Path, failing: str) -> Path:
    results = []
    for flow in plan.flows:
        for port in flow.ports:
            state = "filtered" if flow.id == failing else "open"
            result = ProbeResult(
                flow=flow.id,
                requirement=flow.requirement,
                required=flow.status == "current",
                source_role=flow.source.role,
                source_host=None,
                source_address=None,
                destination_role=flow.destination.role,
                destination_host=None,
                fqdn=None,
                address=(flow.destination.addresses or (None,))[0],
                port=port,
                protocol=flow.protocol,
                service=flow.service,
                state=state,  # type: ignore[arg-type]
                reason=f"{state} by test",
            )
            results.append(result.to_dict())
    path = folder / "verify.json"
    path.write_text(json.dumps({"format": "flowmatrix-verify/1", "results": results}))
    return path


class _JourneyTable(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and "journeys" in (dict(attrs).get("class") or ""):
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in {"td", "th"} and self.rows:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def test_the_html_report_names_the_flow_and_firewall_that_block_a_journey(tmp_path: Path) -> None:
    plan = load_plan(None)
    results = _verify_file(plan, tmp_path, failing="XM-DEV-11.1")
    html = make_report(plan, "html", results=[results], layout="builtin")
    assert isinstance(html, str)
    table = _JourneyTable()
    table.feed(html)
    rows = {row[0]: row for row in ([cell.strip() for cell in cells] for cells in table.rows[1:])}
    ios = rows["An iOS device enrols from the Internet"]
    assert "XM-DEV-11.1" in ios[2]
    assert ios[3] == "XM-DEV-11.1 tcp/8443 at fw-front, fw-back"
    assert "failing" in ios[1].lower()
    logon = rows["Users log on (LDAP / RADIUS from the NetScaler)"]
    assert logon[3] == "" and "proven" in logon[1].lower()


def test_the_markdown_report_has_the_same_journey_table(tmp_path: Path) -> None:
    plan = load_plan(None)
    results = _verify_file(plan, tmp_path, failing="XM-DEV-11.1")
    markdown = make_report(plan, "markdown", results=[results])
    assert isinstance(markdown, str)
    section = markdown[markdown.index("### Per user journey") :]
    ios = next(line for line in section.splitlines() if "An iOS device" in line)
    assert "Failing" in ios and "XM-DEV-11.1 tcp/8443 at fw-front, fw-back" in ios
