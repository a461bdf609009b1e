"""The change-request workbook, read back with openpyxl and checked against the plan."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from report_support import HOSTILE, STATES

from flowmatrix.model import Flow, FlowEnd, Plan
from flowmatrix.report.compose import make_report
from flowmatrix.report.xlsx import sheet_names

HEADERS_EN = [
    "Flow", "Source", "Source address", "Source zone", "Destination", "Destination address",
    "Destination FQDN", "Destination zone", "Protocol", "Port", "Firewall path",
    "Address translation (NAT)", "Justification", "Check", "Check detail", "Decision", "Comment",
]  # fmt: skip
DETAIL = HEADERS_EN.index("Check detail")
CATALOG_STATUS_EN = {"obsolete": " (Obsolete)", "legacy": " (Legacy)", "odd": " (Odd as written)"}
CHECK_EN = {
    "proven": "✓ Proven",
    "failing": "✗ Failing",
    "depends": "◐ Depends",
    "not-tested": "○ Not tested",
}
STATE_STATUS = {
    "open": "proven",
    "filtered": "failing",
    "closed": "failing",
    "open|filtered": "depends",
    "not_probed": "not-tested",
}


def _workbook(content: str | bytes) -> Any:
    assert isinstance(content, bytes)
    return openpyxl.load_workbook(io.BytesIO(content))


def _name(end: FlowEnd) -> str:
    if not end.hosts:  # 'any' by nature (an explicit 'any' keeps its names)
        return end.role_name
    return f"{end.role_name} ({', '.join(h.name for h in end.hosts)})"


def _expected_rows(plan: Plan, firewall: str | None) -> list[list[Any]]:
    """What the sheet must hold, worked out from the plan (and the test's own states)."""
    rows = []
    for index, flow in enumerate(plan.flows):
        if (firewall is None and flow.firewalls) or (
            firewall is not None and firewall not in flow.firewalls
        ):
            continue
        tested = index % 5 != 4
        state = STATES[index % len(STATES)]
        status = STATE_STATUS[state] if tested else "not-tested"
        for port in flow.ports:
            requirement = flow.requirement + CATALOG_STATUS_EN.get(flow.status, "")
            # a flow not requested is marked so, and nobody is asked to approve it
            decision = "pending" if flow.requested else f"{flow.status}: not requested"
            if not flow.requested:
                requirement = f"{flow.requirement} ({decision})"
            rows.append([
                flow.id, _name(flow.source),
                "any" if flow.source.any_address else ", ".join(flow.source.addresses) or None,
                flow.source.zone, _name(flow.destination),
                "any" if flow.destination.any_address
                else ", ".join(flow.destination.addresses) or None,
                ", ".join(flow.destination.fqdns) or None, flow.destination.zone,
                flow.protocol, port, " > ".join(flow.firewalls) or "—",
                "; ".join(n.describe() for n in flow.nat) or None,
                f"{requirement}: {flow.description}", CHECK_EN[status], (state, tested),
                decision, None,
            ])  # fmt: skip
    return rows


def _flow_ids(plan: Plan, firewall: str | None) -> list[Flow]:
    return [f for f in plan.flows if (firewall in f.firewalls if firewall else not f.firewalls)]


@pytest.fixture(scope="module")
def workbook_bytes(plan: Plan, verify_file: Path) -> bytes:
    content = make_report(plan, "xlsx", results=[verify_file])
    assert isinstance(content, bytes)
    return content


@pytest.mark.parametrize("firewall", ["fw-back", "fw-front", None])
def test_every_cell_of_a_firewall_sheet_matches_the_plan(
    plan: Plan, workbook_bytes: bytes, firewall: str | None
) -> None:
    book = _workbook(workbook_bytes)
    sheet = book[firewall or "No firewall"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == HEADERS_EN
    expected = _expected_rows(plan, firewall)
    assert len(values) - 1 == len(expected) == sum(len(f.ports) for f in _flow_ids(plan, firewall))
    for got, want in zip(values[1:], expected, strict=True):
        (state, tested) = want[DETAIL]
        detail = got[DETAIL]
        if tested:
            assert state in detail and f"{state} by test" in detail, got
            assert detail.startswith("verify: ")
        else:
            assert detail is None
        assert got[:DETAIL] + got[DETAIL + 1 :] == want[:DETAIL] + want[DETAIL + 1 :], got[0]


def test_sheets_filter_freeze_and_decision_list(plan: Plan, workbook_bytes: bytes) -> None:
    book = _workbook(workbook_bytes)
    assert book.sheetnames == ["Summary", "fw-front", "fw-back", "No firewall"]
    assert book.active.title == "Summary"
    for name in book.sheetnames[1:]:
        sheet = book[name]
        last = sheet.max_row
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:Q{last}"
        validations = sheet.data_validations.dataValidation
        assert len(validations) == 1
        assert validations[0].type == "list"
        assert validations[0].formula1 == '"approved,rejected,pending"'
        assert str(validations[0].sqref) == f"P2:P{last}"
        assert all(isinstance(c.value, int) for c in sheet["J"][1:])  # ports are numbers


def test_summary_sheet_counts(plan: Plan, workbook_bytes: bytes) -> None:
    sheet = _workbook(workbook_bytes)["Summary"]
    rows = {
        r[0]: r
        for r in sheet.iter_rows(values_only=True)
        if r[0] in ("fw-front", "fw-back", "No firewall")
    }
    for name, row in rows.items():
        flows = _flow_ids(plan, None if name == "No firewall" else name)
        assert row[2] == len(flows)
        assert row[3] == sum(len(f.ports) for f in flows)
        assert sum(row[4:8]) == len(flows)
    total = next(r for r in sheet.iter_rows(values_only=True) if r[1] == "Flows")
    assert total[2] == len(plan.flows)
    texts = [c for r in sheet.iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert any(t.startswith("XM-DEV-08: ") for t in texts)  # binary APNs, obsolete


def test_workbook_is_reproducible_with_a_fixed_creation_date(
    plan: Plan, workbook_bytes: bytes, verify_file: Path
) -> None:
    again = make_report(plan, "xlsx", results=[verify_file])
    assert again == workbook_bytes
    created = _workbook(workbook_bytes).properties.created
    assert created == dt.datetime(1980, 1, 1)


def test_french_workbook(plan_fr: Plan) -> None:
    book = _workbook(make_report(plan_fr, "xlsx"))
    assert book.sheetnames == ["Synthèse", "fw-front", "fw-back", "Sans pare-feu"]
    sheet = book["fw-back"]
    assert sheet["P1"].value == "Décision"
    assert sheet.data_validations.dataValidation[0].formula1 == '"approuvé,refusé,en attente"'
    assert sheet["P2"].value == "en attente"
    assert sheet["N2"].value == "○ Non testé"


def test_hostile_texts_stay_strings(hostile_plan: Plan, hostile_results: Path) -> None:
    content = make_report(hostile_plan, "xlsx", results=[hostile_results])
    assert isinstance(content, bytes)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name  # no formula anywhere
    book = _workbook(content)
    assert book.sheetnames == ["Summary", "fw.edge-1", "fw_inner", "No firewall"]
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)
                    seen += 1
    texts = [c for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r]
    for key in ("formula", "plus", "minus", "at", "xml"):
        assert any(isinstance(t, str) and HOSTILE[key] in t for t in texts), key
    assert seen > 50


def test_sheet_names_are_excel_safe_and_unique() -> None:
    long = "a" * 40
    names = sheet_names([long, long + "b", "Summary", "history", "x"], ["Summary"])
    assert all(len(n) <= 31 for n in names.values())
    assert len({n.lower() for n in names.values()} | {"summary"}) == 6
    assert names["x"] == "x"
    assert names["Summary"] != "Summary" and names["history"] != "history"
