"""Rendering of verify and listen results: the machine-readable contracts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from flowmatrix.errors import ExitCode
from flowmatrix.portset import PortSet
from flowmatrix.probe import verify_report as verify_render
from flowmatrix.probe.listen import FlowArrival, ListenEvent, ListenReport
from flowmatrix.probe.listen_report import event_line, report_dict
from flowmatrix.probe.results import ProbeResult, TlsInfo
from flowmatrix.probe.scheduler import ProbeOptions
from flowmatrix.probe.verify import VerifyReport


def result(flow: str, state: str, *, required: bool = True, **extra: object) -> ProbeResult:
    fields: dict[str, object] = {
        "flow": flow,
        "requirement": flow.rsplit(".", 1)[0],
        "required": required,
        "source_role": "xenmobile",
        "source_host": "xms1",
        "source_address": "10.0.0.1",
        "destination_role": "apns",
        "destination_host": "api",
        "fqdn": "api.example",
        "address": "10.0.0.2",
        "port": 443,
        "protocol": "tcp",
        "service": "https",
        "state": state,
        "reason": f"because {state}",
    }
    fields.update(extra)
    return ProbeResult(**fields)  # type: ignore[arg-type]


def report(*results: ProbeResult) -> VerifyReport:
    return VerifyReport(tuple(results), "role xenmobile", ("a warning",), ProbeOptions(), "site")


def test_the_streamed_json_document_is_the_same_document_byte_for_byte() -> None:
    tls = TlsInfo(server_name="api.example", version="TLSv1.3", dns_names=("a", "b"))
    run = report(
        result("A.1", "open", tls=tls, latency_ms=0.0213, notes=("é \u2028 \x00",)),
        result("B.1", "closed", reply={"rcode": 0, "ok": True}),
        result("C.1", "filtered", required=False, findings=("x",)),
    )
    assert verify_render.to_json_document(run) == verify_render.to_json_text(run).encode()
    empty = report()
    assert verify_render.to_json_document(empty) == verify_render.to_json_text(empty).encode()
    assert json.loads(verify_render.to_json_document(empty))["results"] == []


def test_obsolete_failures_do_not_count() -> None:
    run = report(result("A.1", "open"), result("B.1", "filtered", required=False))
    assert run.exit_code == ExitCode.OK
    assert run.summary.failed == 0 and run.summary.failed_optional == 1
    assert "1 obsolete/legacy failed (expected)" in verify_render.summary_line(run)
    failing = report(result("A.1", "open", findings=("expired",)))
    assert failing.exit_code == ExitCode.FINDINGS


def test_json_document_and_result_keys() -> None:
    tls = TlsInfo(server_name="api.example", version="TLSv1.3", subject="CN=api")
    document = json.loads(
        verify_render.to_json_text(report(result("A.1", "open", tls=tls, latency_ms=1.23456)))
    )
    assert document["summary"] == {
        "total": 1,
        "by_state": {"open": 1},
        "failed": 0,
        "failed_optional": 0,
        "findings": 0,
    }
    assert document["warnings"] == ["a warning"]
    assert document["options"] == {"timeout": 2.0, "retries": 1, "two_ended": False}
    item = document["results"][0]
    assert item["latency_ms"] == 1.235
    assert item["tls"]["version"] == "TLSv1.3" and item["dns"] is None


def test_junit_is_valid_xml_whatever_a_certificate_holds() -> None:
    tls = TlsInfo(server_name=None, subject="CN=bad\x00\x07name")
    text = verify_render.to_junit(
        report(
            result("A.1", "open", tls=tls, findings=("cert \x01 expired",)),
            result("B.1", "closed", required=False),
            result("C.1", "not_probed"),
            result("D.1", "open"),
        )
    )
    root = ET.fromstring(text.encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "2")
    failure = root.find(".//failure")
    assert failure is not None and failure.get("message") == "cert \ufffd expired"


def test_csv_neutralises_formulas() -> None:
    text = verify_render.to_csv_text(report(result("A.1", "open", reason="=cmd()")))
    assert text.splitlines()[0].startswith("flow,requirement,required,source_role")
    assert "'=cmd()" in text


def test_listen_event_lines() -> None:
    planned = ListenEvent(
        0.0, "udp", 514, "10.0.0.2", "10.0.0.1", 40000, ("XM-APP-14.1",), "XM-APP-14.1", True
    )
    assert event_line(planned).endswith(
        "udp/514 from 10.0.0.1:40000 -> XM-APP-14.1 (marked probe for XM-APP-14.1, answered)"
    )
    stray = ListenEvent(0.0, "tcp", 443, "::1", "2001:db8::9", 1234, ())
    assert "from [2001:db8::9]:1234 -> not a planned source" in event_line(stray)


def test_listen_json_document() -> None:
    arrival = FlowArrival("A.1", "A", "xenmobile", "udp", PortSet.of((514,)), True, 0, ())
    document = report_dict(ListenReport("role syslog-server", 0.0, 1.0, (), (), (arrival,)))
    assert document["format"] == "flowmatrix-listen/1"
    assert document["summary"]["missing"] == 1
    assert document["flows"][0] == {
        "flow": "A.1",
        "requirement": "A",
        "source_role": "xenmobile",
        "protocol": "udp",
        "ports": [514],
        "listening": True,
        "arrived": False,
        "count": 0,
        "sources": [],
    }
