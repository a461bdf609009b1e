"""The verify and listen commands, run through the real entry point on the loopback lab."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from flowmatrix.cli import main
from probe.conftest import RADIUS_SECRET, Lab


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def lab_args(lab: Lab, *flows: str) -> list[str]:
    args = [
        "verify",
        str(lab.site),
        "--timeout",
        "0.5",
        "--ca-file",
        str(lab.ca_file),
        "--resolver",
        f"127.0.0.5:{lab.dns_port}",
    ]
    for flow in flows:
        args += ["--flow", flow]
    return args


def test_json_contract(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        [*lab_args(lab, "SITE-tcp-open", "SITE-tls", "SITE-dns"), "--format", "json"], capsys
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["format"] == "flowmatrix-verify/1"
    assert document["site_digest"].startswith("sha256:")
    assert set(document) == {
        "format",
        "site",
        "site_digest",
        "source",
        "options",
        "summary",
        "warnings",
        "results",
        "checks",
    }
    assert document["summary"]["failed"] == 0
    # one check per result, on the scale every document shares
    assert len(document["checks"]) == len(document["results"])
    for check, result in zip(document["checks"], document["results"], strict=True):
        assert check["flow"] == result["flow"] and check["kind"] == "verify"
        assert check["port"] == result["destination"]["port"]
        said = {"open": "proven", "closed": "failing", "filtered": "failing"}[result["state"]]
        assert check["status"] == ("failing" if result["findings"] else said)
    result = document["results"][0]
    assert set(result) == {
        "flow",
        "requirement",
        "required",
        "source",
        "destination",
        "state",
        "reason",
        "latency_ms",
        "attempts",
        "two_ended",
        "tls",
        "dns",
        "reply",
        "findings",
        "notes",
    }
    assert set(result["source"]) == {"role", "host", "address"}
    assert set(result["destination"]) == {
        "role",
        "host",
        "fqdn",
        "address",
        "port",
        "protocol",
        "service",
    }
    tls = next(r for r in document["results"] if r["flow"] == "SITE-tls.1")
    assert tls["tls"]["trusted"] is True and tls["tls"]["name_matches"] is True
    assert set(tls["tls"]) >= {
        "version",
        "cipher",
        "subject",
        "issuer",
        "dns_names",
        "not_before",
        "not_after",
        "sha256",
        "expired",
    }
    assert set(tls["dns"]) == {
        "name",
        "resolver",
        "addresses",
        "documented",
        "undocumented",
        "error",
    }
    dns_result = next(r for r in document["results"] if r["flow"] == "SITE-dns.1")
    # the lab server knows only its own names: NXDOMAIN, which proves the path all the same
    assert dns_result["state"] == "open" and dns_result["reply"]["rcode"] == "NXDOMAIN"
    assert dns_result["tls"] is None
    assert "probes: " in err


def test_failure_exits_1_and_junit_says_why(
    lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "verify.xml"
    code, out, err = run(
        [
            *lab_args(lab, "SITE-tcp-open", "SITE-tcp-closed", "SITE-syslog", "SITE-to-network"),
            "--format",
            "junit",
            "-o",
            str(output),
        ],
        capsys,
    )
    assert code == 1
    assert out == ""
    root = ET.parse(output).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "2")
    failure = root.find(".//testcase/failure")
    assert failure is not None and failure.get("type") == "closed"
    assert "1 required failed" in err


def test_csv_and_table(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([*lab_args(lab, "SITE-tcp-open", "SITE-ntp"), "--format", "csv"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["state"] for r in rows] == ["open", "open"]
    assert rows[0]["source_address"] == "127.0.0.1"
    code, out, _ = run([*lab_args(lab, "SITE-tcp-closed")], capsys)
    assert code == 1
    assert "closed" in out and "SITE-tcp-closed.1" in out and "not proof" in out


def test_radius_secret_from_the_environment(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWMATRIX_RADIUS_SECRET", RADIUS_SECRET)
    code, out, _ = run([*lab_args(lab, "SITE-radius"), "--format", "json"], capsys)
    assert code == 0
    result = json.loads(out)["results"][0]
    assert result["state"] == "open" and result["reply"]["code"] == "Access-Accept"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "xenmobil"], "unknown source 'xenmobil' (hint: did you mean 'xenmobile'"),
        (["--flow", "NOPE-1"], "no flow or requirement 'NOPE-1'"),
        (["--resolver", "dns.example"], "invalid resolver 'dns.example'"),
        (["--timeout", "0"], "Invalid value for '--timeout'"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    lab: Lab, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, _, err = run(["verify", str(lab.site), *extra], capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_bad_site_file_points_at_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = tmp_path / "bad.yaml"
    site.write_text("version: 1\nname: x\nzones:\n  - name: lab\n    cidrs: [127.0.0.300/8]\n")
    code, _, err = run(["verify", str(site)], capsys)
    assert code == 2
    assert f"{site}:5:" in err


def test_listen_reports_missing_flows_with_expect_all(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "listen",
            str(lab.site),
            "--as",
            "ntp1",
            "--duration",
            "0.2",
            "--bind",
            "127.0.0.66",
            "--format",
            "json",
            "--expect-all",
        ],
        capsys,
    )
    assert code == 1
    document = json.loads(out)
    assert document["summary"]["missing"] == 1
    assert document["listeners"][0]["address"] == "127.0.0.66"
    assert "listening as host ntp1" in err
    code, out, _ = run(
        [
            "listen",
            str(lab.site),
            "--as",
            "ntp1",
            "--duration",
            "0.2",
            "--bind",
            "127.0.0.66",
            "--format",
            "csv",
        ],
        capsys,
    )
    assert code == 0
    assert (
        out.splitlines()[0]
        == "flow,requirement,source,protocol,ports,listening,arrived,count,sources"
    )
