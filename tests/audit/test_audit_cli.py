"""``flowmatrix audit`` end to end: formats, the JSON contract, SARIF, exit codes."""

from __future__ import annotations

import csv
import inspect
import io
import json
from pathlib import Path
from typing import Any

from .test_audit_run import RECENT

DATA = Path(__file__).parent / "data"
BACK = str(DATA / "back.rules")


def test_blocked_flows_exit_1_with_a_readable_table(run_cli: Any) -> None:
    result = run_cli("audit", "-F", "fw-back", "-r", BACK)
    assert result.code == 1
    assert "XM-APP-06.1" in result.stdout and "DROP by LOG_DROP#2 (line 14)" in result.stdout
    assert "iptables -I FORWARD 7 -s 172.16.10.5" in result.stdout
    assert "Rules that can never match: 1" in result.stdout


def test_json_contract(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    result = run_cli("audit", "-F", "fw-back", "-r", BACK, "-f", "json", "-o", str(out))
    assert result.code == 1 and result.stdout == ""
    doc = json.loads(out.read_text())
    assert doc["format"] == "flowmatrix-audit/1"
    assert doc["site_digest"].startswith("sha256:")
    assert set(doc) == {
        "format",
        "site",
        "site_digest",
        "site_file",
        "target",
        "path",
        "ruleset",
        "summary",
        "flows",
        "wide_rules",
        "unused_rules",
        "dead_rules",
        "unevaluated",
        "problems",
        "notes",
        "checks",
    }
    assert [(c["flow"], c["port"]) for c in doc["checks"]] == [
        (f["id"], f["port"]) for f in doc["flows"]
    ]
    assert {c["covers"] == ["fw-back"] and c["kind"] == "audit" for c in doc["checks"]} == {True}
    statuses = {"allowed": "proven", "blocked": "failing", "partial": "failing"}
    assert [c["status"] for c in doc["checks"]] == [
        statuses.get(f["status"], "depends") for f in doc["flows"]
    ]
    assert set(doc["ruleset"]) == {"file", "dialect", "interfaces_from", "source_ports"}
    assert doc["summary"]["findings"] == 13 and doc["summary"]["flows"] == len(doc["flows"])
    flow = next(f for f in doc["flows"] if f["id"] == "XM-APP-06.1")
    assert set(flow) == {
        "id",
        "requirement",
        "description",
        "source",
        "source_zone",
        "destination",
        "destination_zone",
        "protocol",
        "port",
        "required",
        "flow_status",
        "status",
        "finding",
        "path",
        "notes",
        "parts",
        "more_parts",
        "fixes",
    }
    assert flow["more_parts"] == {}
    (part,) = flow["parts"]
    assert set(part) == {
        "family",
        "sources",
        "destinations",
        "source_ports",
        "input_interface",
        "output_interface",
        "status",
        "fates",
        "more_fates",
    }
    assert part["more_fates"] == 0
    (fate,) = part["fates"]
    assert set(fate) == {
        "status",
        "blocked_in",
        "decision",
        "decided_by",
        "conditions",
        "request",
        "reply",
    }
    assert fate["decided_by"]["line"] == 14 and fate["decided_by"]["chain"] == "LOG_DROP"
    assert set(fate["decided_by"]) == {
        "where",
        "file",
        "line",
        "table",
        "chain",
        "position",
        "handle",
        "text",
        "name",
    }
    step = fate["request"][-1]
    assert set(step) == {"chain", "end", "rule", "trace"}
    assert step["trace"] == ["FORWARD#7", "LOG_DROP#2"]
    (fix,) = flow["fixes"]
    assert set(fix) == {"command", "chain", "placement", "leg", "verified", "note"}
    assert doc["dead_rules"][0]["reason"] == "shadowed"
    assert doc["wide_rules"][0]["rule"]["line"] == 7


def test_csv_has_one_row_per_part(run_cli: Any) -> None:
    result = run_cli("audit", "-F", "fw-back", "-r", BACK, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "flow",
        "requirement",
        "source",
        "destination",
        "protocol",
        "port",
        "required",
        "flow_status",
        "part_sources",
        "part_destinations",
        "part_status",
        "decision",
        "rule",
        "rule_text",
        "conditions",
        "fix",
    ]
    ldap = next(r for r in rows if r["flow"] == "XM-APP-06.1")
    assert ldap["part_status"] == "blocked" and ldap["rule"].endswith("back.rules:14")


def test_sarif_points_into_the_ruleset(run_cli: Any) -> None:
    result = run_cli("audit", "-F", "fw-back", "-r", BACK, "-f", "sarif")
    doc = json.loads(result.stdout)
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    results = run["results"]
    assert {r["ruleId"] for r in results} <= rule_ids
    blocked = [r for r in results if r["ruleId"] == "FMA001"]
    assert blocked and all(r["level"] == "error" for r in blocked)
    location = blocked[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("back.rules")
    assert location["region"]["startLine"] == 14
    shadowed = next(r for r in results if r["ruleId"] == "FMA006")
    assert shadowed["locations"][0]["physicalLocation"]["region"]["startLine"] == 10


def test_clean_ruleset_exits_0(run_cli: Any, tmp_path: Path) -> None:
    from flowmatrix.api import load_plan
    from flowmatrix.rules import Scope, generate

    site = str(DATA / "lab_site.yaml")
    rules = tmp_path / "fw.rules"
    rules.write_text(generate(load_plan(site), Scope("firewall", "fw"), "iptables").text)
    result = run_cli("audit", site, "-F", "fw", "-r", str(rules), "-f", "json")
    doc = json.loads(result.stdout)
    assert result.code == 0, doc["summary"]
    assert doc["summary"]["allowed"] == doc["summary"]["flows"] == 11
    assert doc["wide_rules"] == [] and doc["dead_rules"] == []


def test_strict_fails_on_undecided_flows(run_cli: Any, tmp_path: Path) -> None:
    rules = tmp_path / "recent.rules"
    rules.write_text(
        "*filter\n:FORWARD ACCEPT [0:0]\n"
        "-A FORWARD -m recent --rcheck --name scan -j DROP\nCOMMIT\n"
    )
    assert run_cli("audit", "-F", "fw-back", "-r", str(rules)).code == 0
    strict = run_cli("audit", "-F", "fw-back", "-r", str(rules), "--strict")
    assert strict.code == 1


def test_bad_input_is_one_line_and_exit_2(run_cli: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules"
    broken.write_text("*filter\n:FORWARD DROP [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n")
    result = run_cli("audit", "-F", "fw-back", "-r", str(broken))
    assert result.code == 2
    assert f"{broken}:3:" in result.stderr and "Traceback" not in result.stderr
    missing = run_cli("audit", "-F", "fw-back", "-r", str(tmp_path / "nope"))
    assert missing.code == 2 and "no such file" in missing.stderr
    neither = run_cli("audit", "-r", BACK)
    assert neither.code == 2 and "either a firewall or a host" in neither.stderr
    bad_map = tmp_path / "map"
    bad_map.write_text("eth0 10.0.0.0/8\n")
    mapped = run_cli("audit", "-F", "fw-back", "-r", BACK, "--ipassmt", str(bad_map))
    assert mapped.code == 2 and f"{bad_map}:1" in mapped.stderr


def test_nftables_input(run_cli: Any) -> None:
    result = run_cli(
        "audit",
        str(DATA / "lab_site.yaml"),
        "-F",
        "fw",
        "-r",
        str(DATA / "lab.nft"),
        "--nft-reader",
        "text",
        "-f",
        "json",
    )
    doc = json.loads(result.stdout)
    assert doc["ruleset"]["dialect"] == "nftables" and result.code == 1
    fix = next(f for f in doc["flows"] if f["fixes"])["fixes"][0]
    assert fix["command"].startswith("nft ")


def test_parts_beyond_the_limit_are_counted_in_every_format(run_cli: Any, tmp_path: Path) -> None:
    from flowmatrix.audit.result import PARTS_LISTED
    from flowmatrix.cli.audit_cmd import audit_command

    rules = tmp_path / "recent.rules"
    rules.write_text(RECENT, encoding="utf-8")
    out = tmp_path / "audit.json"
    args = ("audit", "-F", "fw-back", "-r", str(rules), "--parts", "1")
    assert run_cli(*args, "-f", "json", "-o", str(out)).code == 1
    devices = next(f for f in json.loads(out.read_text())["flows"] if f["id"] == "XM-DEV-05.1")
    assert [p["status"] for p in devices["parts"]] == ["blocked"]
    assert devices["more_parts"] == {"depends": 2} and devices["status"] == "partial"
    table = run_cli(*args).stdout
    assert "2 more parts (2 depends; --parts 0 lists them all)" in table
    csv_out = run_cli(*args, "-f", "csv").stdout
    assert "2 more parts (2 depends" in csv_out
    sarif = json.loads(run_cli(*args, "-f", "sarif").stdout)
    texts = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert any(t.startswith("XM-DEV-05.1 ") and "2 more parts (2 depends" in t for t in texts)
    assert run_cli("audit", "-F", "fw-back", "-r", str(rules), "--parts", "-1").code == 2
    default = inspect.signature(audit_command).parameters["parts"].default
    assert default == PARTS_LISTED
