"""The matrix JSON document is a contract (docs/fleet.md): its keys are pinned here."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from fleet.conftest import write_site
from fleet.results_factory import result_file
from flowmatrix.api import load_plan
from flowmatrix.fleet.matrixdoc import (
    MATRIX_COLUMNS,
    format_for,
    matrix_to_dict,
    render_matrix,
    summary_line,
)
from flowmatrix.fleet.merge import Matrix, merge

APP, DB = "127.0.0.2", "127.0.0.3"


@pytest.fixture
def matrix(tmp_path: Path) -> Matrix:
    plan = load_plan(write_site(tmp_path, APP, DB, "127.0.0.0/24"))
    return merge(
        plan,
        [
            result_file(
                [
                    ("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open"),
                    ("SITE-app-to-db.1", "app1", "db1", DB, 5433, "filtered"),
                    ("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open"),
                ],
                path="app1.json",
            )
        ],
    )


def test_document_keys(matrix: Matrix) -> None:
    document = matrix_to_dict(matrix)
    assert list(document) == [
        "format",
        "site",
        "site_digest",
        "site_file",
        "catalog",
        "lang",
        "inputs",
        "summary",
        "warnings",
        "flows",
        "checks",
    ]
    assert document["format"] == "flowmatrix-matrix/2"
    checks = {(c["flow"], c["source_host"], c["port"]): c["status"] for c in document["checks"]}
    assert checks[("SITE-app-to-db.1", "app1", 5432)] == "proven"
    assert checks[("SITE-app-to-db.1", "app1", 5433)] == "failing"
    assert checks[("SITE-db-to-app.1", "db1", 8443)] == "proven"
    assert document["site"] == matrix.plan.site.name
    assert document["site_digest"] == matrix.plan.site_digest
    assert document["site_digest"].startswith("sha256:")
    assert document["inputs"] == [
        {
            "file": "app1.json",
            "kind": "verify",
            "site": "fleet lab",
            "source": "test",
            "hosts": ["app1", "db1"],
            "results": 3,
        }
    ]
    assert document["summary"] == {
        "flows": 3,
        "passed": 1,
        "failed": 1,
        "incomplete": 0,
        "not_tested": 1,
        "failed_required": 1,
    }
    flow = document["flows"][0]
    assert list(flow) == [
        "flow",
        "requirement",
        "description",
        "required",
        "catalog_status",
        "source",
        "destination",
        "protocol",
        "ports",
        "service",
        "firewalls",
        "status",
        "reason",
        "tested_from",
        "checks",
        "failures",
    ]
    assert list(flow["source"]) == [
        "role",
        "role_name",
        "zone",
        "hosts",
        "addresses",
        "fqdns",
        "any",
    ]
    assert list(flow["checks"][0]) == ["host", "status", "ports"]
    assert list(flow["checks"][0]["ports"][0]) == ["port", "status", "results"]
    assert list(flow["checks"][0]["ports"][0]["results"][0]) == [
        "destination_host",
        "address",
        "state",
        "reason",
        "latency_ms",
        "findings",
        "file",
    ]
    assert flow["failures"] == [
        {
            "host": "app1",
            "port": 5433,
            "destination_host": "db1",
            "address": DB,
            "state": "filtered",
            "reason": "filtered (test)",
            "findings": [],
        }
    ]
    untested = document["flows"][2]
    assert untested["status"] == "not_tested" and untested["tested_from"] == []
    assert untested["checks"][0]["ports"] == [{"port": 8443, "status": "not_tested", "results": []}]
    json.dumps(document)


def test_csv_has_one_row_per_flow(matrix: Matrix) -> None:
    rows = list(
        csv.DictReader(io.StringIO(render_matrix(matrix, "csv", "en", width=200, color=False)))
    )
    assert list(rows[0]) == list(MATRIX_COLUMNS)
    assert [(r["flow"], r["status"]) for r in rows] == [
        ("SITE-app-to-db.1", "failed"),
        ("SITE-db-to-app.1", "passed"),
        ("SITE-admin-to-app.1", "not_tested"),
    ]


def test_table_and_summary(matrix: Matrix) -> None:
    text = render_matrix(matrix, "table", "en", width=250, color=False)
    assert "SITE-app-to-db.1" in text and "not_tested" in text
    assert summary_line(matrix) == "3 flows: 1 passed, 1 failed, 0 incomplete, 1 not tested"


@pytest.mark.parametrize(
    ("output", "given", "chosen"),
    [
        ("matrix.json", None, "json"),
        ("m.CSV", None, "csv"),
        ("m.md", None, "markdown"),
        ("matrix.txt", None, "table"),
        (None, None, "table"),
        ("matrix.json", "csv", "csv"),
    ],
)
def test_format_from_the_output_suffix(output: str | None, given: str | None, chosen: str) -> None:
    assert format_for(output, given) == chosen
