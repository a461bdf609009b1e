"""Over-long and control-laden names: diagrams stay valid and cut, HTML and JSON keep all."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_support import need_graphviz

from flowmatrix.textsafe import DIAGRAM_LABEL_LIMIT

#: Past Graphviz's 16,384-byte string limit, with characters DOT and Mermaid escape.
LONG_SITE = "Site & " + "S" * 20_000
LONG_ROLE = 'Role "x" ' + "R" * 20_000
CONTROLS = "DB\x1b[2J\r\x07\u202eevil\u2028x"


def _catalog(folder: Path) -> Path:
    path = folder / "catalog.yaml"
    path.write_text(
        "catalog:\n  id: long-test\n  title: {fr: Test, en: Test}\n  product: tests\n"
        "  source: tests\n  date: 2024-01-01\nsections: []\nroles:\n"
        f"  - {{id: app-server, name: {{fr: App, en: {json.dumps(LONG_ROLE)}}}, kind: server}}\n"
        f"  - {{id: db-server, name: {{fr: Base, en: {json.dumps(CONTROLS)}}}, kind: server}}\n"
        "features: []\nrequirements: []\n"
    )
    return path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    lines = [
        "version: 1",
        f"name: {json.dumps(LONG_SITE)}",
        f"catalog: {_catalog(tmp_path)}",
        "zones:",
        "  - {name: lab, cidrs: [10.1.0.0/16]}",
        "  - {name: data, cidrs: [10.2.0.0/16]}",
        "firewalls:",
        "  - {name: fw, zones: [lab, data]}",
        "hosts:",
        "  - {name: app1, role: app-server, addresses: [10.1.0.1]}",
        "  - {name: db1, role: db-server, addresses: [10.2.0.1]}",
        "flows:",
        "  - {name: app-to-db, source: app1, destination: db1, ports: [5432]}",
    ]
    path = tmp_path / "site.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_dot_of_over_long_names_is_accepted_by_graphviz(
    site: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    need_graphviz()
    dot = shutil.which("dot")
    assert dot is not None
    out = tmp_path / "site.dot"
    done = run_cli("report", str(site), "-f", "dot", "-o", str(out))
    assert done.code == 0, done.stderr
    text = out.read_text()
    assert "S" * DIAGRAM_LABEL_LIMIT not in text
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    drawn = subprocess.run(
        [dot, "-Tsvg", str(out)], capture_output=True, text=True, timeout=60, check=False
    )
    assert drawn.returncode == 0, drawn.stderr
    assert "\u2026" in drawn.stdout  # the cut is marked


def test_mermaid_labels_are_cut_and_clean(site: Path, run_cli: Callable[..., Any]) -> None:
    done = run_cli("report", str(site), "-f", "mermaid")
    assert done.code == 0, done.stderr
    assert all(len(line) < 4 * DIAGRAM_LABEL_LIMIT for line in done.stdout.splitlines())
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout


def test_html_and_json_keep_the_full_text(
    site: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    page = tmp_path / "site.html"
    done = run_cli("report", str(site), "-f", "html", "--layout", "builtin", "-o", str(page))
    assert done.code == 0, done.stderr
    html = page.read_text()
    assert "S" * 20_000 in html and "R" * 20_000 in html
    document = json.loads(run_cli("plan", str(site), "-f", "json").stdout)
    assert document["site"] == LONG_SITE
    roles = {f["source"]["role_name"] for f in document["flows"]}
    assert LONG_ROLE in roles


def test_terminal_and_csv_show_controls_as_escapes(site: Path, run_cli: Callable[..., Any]) -> None:
    for fmt in ("table", "csv"):
        done = run_cli("plan", str(site), "-f", fmt)
        assert done.code == 0, done.stderr
        for raw in ("\x1b", "\r", "\x07", "\u202e", "\u2028"):
            assert raw not in done.stdout, (fmt, raw)
        assert "\\x1b[2J" in done.stdout
    csv = run_cli("plan", str(site), "-f", "csv").stdout
    assert "DB\\x1b[2J\\x0d\\x07\\u202eevil\\u2028x" in csv


def test_csv_cells_fit_a_spreadsheet() -> None:
    from flowmatrix.render import SPREADSHEET_CELL_LIMIT, to_csv

    text = to_csv([{"name": "N" * 40_000, "other": "ok"}], ["name", "other"])
    cell, other = text.splitlines()[1].split(",")
    assert len(cell) == SPREADSHEET_CELL_LIMIT
    assert cell.endswith("\u2026") and other == "ok"
