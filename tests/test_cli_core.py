"""The catalog, plan, schema and example commands, end to end in-process."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from flowmatrix.api import example_text
from flowmatrix.documents import site_digest


def test_help_lists_commands(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--help")
    assert result.code == 0
    for command in ("catalog", "plan", "schema", "example"):
        assert command in result.stdout


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "plan", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["flows"]


def test_catalog_json_contract(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("catalog", "-f", "json")
    assert result.code == 0
    doc = json.loads(result.stdout)
    assert set(doc["catalog"]) >= {"id", "title", "source", "date", "languages"}
    role = doc["roles"][0]
    assert set(role) >= {"id", "name", "aliases", "kind", "endpoints"}
    assert set(role["name"]) == {"fr", "en"}
    req = doc["requirements"][0]
    assert set(req) >= {
        "id",
        "section",
        "ports",
        "port_choice",
        "documented_protocol",
        "protocols",
        "sources",
        "destinations",
        "description",
        "notes",
        "condition",
        "status",
        "replacement",
    }
    assert req["port_choice"] in ("all", "any")


def test_catalog_filters(run_cli) -> None:  # type: ignore[no-untyped-def]
    by_port = json.loads(run_cli("catalog", "--port", "53", "-f", "json").stdout)
    assert [r["id"] for r in by_port["requirements"]] == ["XM-APP-02"]
    assert by_port["requirements"][0]["protocols"] == ["udp", "tcp"]
    by_role = json.loads(
        run_cli("catalog", "--role", "Serveur d'authentification RADIUS", "-f", "json").stdout
    )
    assert by_role["requirements"] and all(
        "radius-server" in r["destinations"] + r["sources"] for r in by_role["requirements"]
    )
    by_text = json.loads(run_cli("catalog", "--search", "syslog", "-f", "json").stdout)
    assert {r["id"] for r in by_text["requirements"]} == {"XM-APP-14"}
    section = json.loads(run_cli("catalog", "--section", "ads", "-f", "json").stdout)
    assert {r["section"] for r in section["requirements"]} == {"ads"}


def test_catalog_unknown_filters_are_user_errors(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("catalog", "--role", "toaster")
    assert result.code == 2 and "unknown role 'toaster'" in result.stderr
    result = run_cli("catalog", "--section", "nope")
    assert result.code == 2 and "unknown section" in result.stderr


def test_catalog_french_table(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("catalog", "--lang", "fr", "--port", "123")
    assert "Utilisé pour les services NTP" in result.stdout
    assert "Protocoles" in result.stdout


def test_plan_csv_is_one_row_per_flow(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    flows = json.loads(run_cli("plan", "-f", "json").stdout)["flows"]
    assert len(rows) == len(flows)
    assert rows[0]["id"] == flows[0]["id"]


def test_plan_markdown_and_explain(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", "-f", "markdown", "--explain")
    assert result.stdout.startswith("| Id | Requirement |")
    assert "left out XM-APP-17: feature 'radius' is off" in result.stderr


def test_plan_output_file_is_written(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "plan.json"
    result = run_cli("plan", "-f", "json", "-o", str(target))
    assert result.code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["flows"]
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_output_into_missing_folder(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", "-o", str(tmp_path / "no" / "plan.txt"))
    assert result.code == 2 and "does not exist" in result.stderr


def test_schema_validates_every_example(run_cli) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(run_cli("schema").stdout)
    yaml = YAML(typ="safe")
    for name in run_cli("example", "--list").stdout.split():
        jsonschema.validate(yaml.load(example_text(name)), schema)


def test_example_round_trip(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "mine.yaml"
    assert run_cli("example", "small-office", "-o", str(site)).code == 0
    result = run_cli("plan", str(site), "-f", "json")
    assert result.code == 0
    document = json.loads(result.stdout)
    assert document["format"] == "flowmatrix-plan/2" and document["site_file"] == str(site)
    assert document["site"] == "Small office, one firewall"
    assert document["site_digest"] == site_digest(site.read_bytes())


def test_bad_option_is_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", "--format", "pdf")
    assert result.code == 2
    assert "Traceback" not in result.stderr


def test_markdown_cells_cannot_inject(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site.yaml"
    site.write_text(
        example_text("small-office").replace(
            "SSH from the administrator's workstation for maintenance",
            '"<img src=x onerror=alert(1)> | [click](http://evil) *bold*"',
        )
    )
    out = run_cli("plan", str(site), "-f", "markdown").stdout
    row = next(line for line in out.splitlines() if "SITE-monitoring" in line)
    assert not re.search(r"(?<!\\)[<>\[\]]", row), "unescaped markup"
    assert "\\<img src=x onerror=alert(1)\\> \\| \\[click\\](http://evil) \\*bold\\*" in row
    assert row.count(" | ") == out.splitlines()[0].count(" | ")


def test_catalog_file_is_found_beside_the_site(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalog = Path(__file__).parents[1] / "src/flowmatrix/catalogs/xenmobile-10.yaml"
    (tmp_path / "vendor.yaml").write_text(catalog.read_text("utf-8"), "utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(example_text().replace("catalog: xenmobile-10", "catalog: vendor.yaml"))
    result = run_cli("plan", str(site), "-f", "json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["catalog"] == "xenmobile-10"


def test_schema_offers_the_catalog_ids(run_cli) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(run_cli("schema").stdout)
    host = schema["$defs"]["Host"]["properties"]
    assert "xenmobile" in host["roles"]["items"]["examples"]
    assert "ldap-server" in host["role"]["anyOf"][0]["examples"]
    top = schema["properties"]
    assert "ldaps" in top["features"]["propertyNames"]["enum"]
    assert "XM-APP-03" in top["exclude"]["propertyNames"]["enum"]
    assert {"XM-DEV-08", "XM-DEV-09"} <= set(top["keep_obsolete"]["anyOf"][1]["items"]["enum"])
    site = YAML(typ="safe").load(example_text("hospital"))
    site["features"]["ldapz"] = True  # a feature typo: the editor flags it
    with pytest.raises(jsonschema.ValidationError, match="ldapz"):
        jsonschema.validate(site, schema)
    site["features"].pop("ldapz")
    site["roles"].append({"id": "siem", "name": {"fr": "SIEM", "en": "SIEM"}})
    site["hosts"].append({"name": "siem1", "roles": ["siem"], "addresses": ["10.31.8.70"]})
    jsonschema.validate(site, schema)  # the site's own roles stay allowed
