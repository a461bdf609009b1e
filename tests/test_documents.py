"""Every JSON document starts with the same head (format, site, site digest), and one
reader reads it, the previous version's heads included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.api import example_text, load_plan
from flowmatrix.documents import (
    VERSIONS,
    DocumentError,
    Header,
    SiteRef,
    header,
    read_header,
    site_digest,
)
from flowmatrix.report.result_files import read_results

DATA = Path(__file__).parent / "audit" / "data"


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(example_text("default"), encoding="utf-8")
    return path


def _head(document: Any) -> Header:
    found = read_header(document)
    assert found is not None and not found.legacy
    return found


def test_the_commands_write_one_head(run_cli: Any, site: Path, tmp_path: Path) -> None:
    digest = site_digest(site.read_bytes())
    name = load_plan(str(site)).site.name
    plan = json.loads(run_cli("plan", str(site), "-f", "json").stdout)
    audit_out = tmp_path / "audit.json"
    run_cli(
        "audit", str(site), "-F", "fw-back", "-r", str(DATA / "back.rules"), "-f", "json",
        "-o", str(audit_out),
    )  # fmt: skip
    audit = json.loads(audit_out.read_text())
    sheet = tmp_path / "plan.csv"
    assert run_cli("plan", str(site), "-f", "csv", "-o", str(sheet)).code == 0
    check = json.loads(run_cli("matrix", "check", str(sheet), str(site), "-f", "json").stdout)
    for document, kind in ((plan, "plan"), (audit, "audit"), (check, "matrix-check")):
        head = _head(document)
        assert (head.kind, head.version) == (kind, VERSIONS[kind])
        assert (head.site, head.site_digest) == (name, digest), kind
        assert list(document)[:3] == ["format", "site", "site_digest"], kind


def test_a_changed_site_file_changes_the_digest(site: Path) -> None:
    before = load_plan(str(site)).site_digest
    site.write_text(site.read_text() + "\n# reviewed\n", encoding="utf-8")
    after = load_plan(str(site)).site_digest
    assert before != after and after == site_digest(site.read_bytes())


def test_previous_heads_are_read_for_one_version() -> None:
    assert read_header({"schema": "flowmatrix.audit/1", "site": "s"}) == Header(
        "audit", 1, "s", None, legacy=True
    )
    old_plan = {"format": "flowmatrix-fleet-plan", "format_version": 1}
    assert read_header(old_plan) == Header("fleet-plan", 1, legacy=True)
    assert read_header({"format_version": 1}) is None  # kind unknown to the reader
    assert read_header({"format_version": 1, "namespaces": 4}) is None  # told by its keys


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"format": "flowmatrix-verify/2"}, "newer than this flowmatrix reads"),
        ({"format": "flowmatrix-nonsense/1"}, "unknown document format"),
        ({"format": "flowmatrix-audit/x"}, "unknown document format"),
    ],
)
def test_formats_this_version_cannot_read_are_refused(document: object, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        read_header(document)


def test_other_files_have_no_head() -> None:
    assert read_header([{"flow": "X.1", "state": "open"}]) is None
    assert read_header({"format": "junit"}) is None


def test_report_refuses_a_document_that_holds_no_results(tmp_path: Path) -> None:
    plan = load_plan(None)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**header("plan", plan.site_ref()), "flows": []}))
    from flowmatrix.errors import UserError

    with pytest.raises(UserError, match="a flowmatrix-plan document holds no results"):
        read_results([path], plan)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": "flowmatrix-lab/7", "results": []}))
    with pytest.raises(UserError, match="newer than this flowmatrix reads"):
        read_results([newer], plan)


def test_report_reads_the_previous_audit_head(tmp_path: Path) -> None:
    plan = load_plan(None)
    flow = plan.flows[0]
    old = {
        "schema": "flowmatrix.audit/1",
        "target": "firewall fw-back",
        "flows": [{"id": flow.id, "port": flow.ports[0], "status": "blocked", "parts": []}],
    }
    path = tmp_path / "old-audit.json"
    path.write_text(json.dumps(old))
    checks = read_results([path], plan)
    assert checks.files[0].kind == "audit"
    assert checks.of(flow).status == "failing"


def test_site_ref_of_a_plan() -> None:
    plan = load_plan(None)
    assert plan.site_ref() == SiteRef(plan.site.name, site_digest(example_text().encode()))
