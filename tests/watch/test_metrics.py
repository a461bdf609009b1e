"""One cycle on the loopback lab: its metrics, the textfile, the rules, the JSON document."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from probe.conftest import RADIUS_SECRET, Lab

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="needs promtool (Debian 'prometheus')")


def _lab_args(lab: Lab) -> list[str]:
    return [
        str(lab.site),
        "--from",
        "xms1",
        "--resolver",
        f"127.0.0.5:{lab.dns_port}",
        "--ca-file",
        str(lab.ca_file),
        "--radius-secret",
        RADIUS_SECRET,
        "--timeout",
        "0.5",
    ]


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _by_flow(metric: list[tuple[dict[str, str], float]]) -> dict[str, float]:
    return {labels["flow"]: value for labels, value in metric}


def test_once_writes_the_textfile_of_one_cycle(run_cli, lab: Lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    textfile = tmp_path / "flowmatrix.prom"
    before = time.time()
    result = run_cli("watch", *_lab_args(lab), "--once", "--textfile", str(textfile))
    assert result.code == 1, result  # the lab's closed port is a failed required flow
    found = samples(textfile.read_text())
    up = _by_flow(found["flowmatrix_flow_up"])
    assert up["SITE-tcp-open.1"] == 1.0
    assert up["SITE-tcp-closed.1"] == 0.0
    assert up["SITE-dns.1"] == up["SITE-ntp.1"] == up["SITE-radius.1"] == 1.0
    assert up["SITE-syslog.1"] == 0.0  # open|filtered proves nothing
    states = {labels["flow"]: labels["state"] for labels, _ in found["flowmatrix_flow_state"]}
    assert states["SITE-tcp-closed.1"] == "closed"
    assert states["SITE-syslog.1"] == "open|filtered"
    assert states["SITE-to-network.1"] == "not_probed"
    assert all(value == 1.0 for _, value in found["flowmatrix_flow_state"])
    (expiry,) = found["flowmatrix_tls_certificate_expiry_timestamp_seconds"]
    assert expiry[0] == {
        "flow": "SITE-tls.1",
        "address": "127.0.0.3",
        "port": str(lab.ports["tls"]),
    }
    assert expiry[1] > before + 30 * 86400  # trustme certificates last for years
    dns = {
        labels["name"]: value for labels, value in found["flowmatrix_dns_answer_matches_documented"]
    }
    assert dns == {"svc.lab.test": 1.0, "localhost": 0.0}  # the lab's DNS says 127.0.0.33
    assert found["flowmatrix_cycles_total"] == [({}, 1.0)]
    assert found["flowmatrix_last_cycle_timestamp_seconds"][0][1] >= before
    assert all(set(labels) != {"reason"} for labels, _ in found["flowmatrix_flow_up"])


@needs_promtool
def test_promtool_accepts_the_textfile_and_the_alerting_rules(
    run_cli, lab: Lab, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    textfile = tmp_path / "flowmatrix.prom"
    assert run_cli("watch", *_lab_args(lab), "--once", "--textfile", str(textfile)).code == 1
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=textfile.read_bytes(), capture_output=True
    )
    assert checked.returncode == 0, checked.stderr
    rules = tmp_path / "flowmatrix-rules.yml"
    written = run_cli("watch", "--interval", "30s", "--alert-rules", str(rules))
    assert written.code == 0, written
    text = rules.read_text()
    for alert in (
        "FlowmatrixFlowDown",
        "FlowmatrixJourneyDown",
        "FlowmatrixCertificateExpiringSoon",
        "FlowmatrixWatchStale",
    ):
        assert alert in text
    assert "for: 90s" in text  # three cycles of 30 s
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_format_json_prints_the_verify_document_of_the_cycle(run_cli, lab: Lab) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("watch", *_lab_args(lab), "--once", "--format", "json")
    assert result.code == 1, result
    document = json.loads(result.stdout)
    assert document["format"].startswith("flowmatrix-verify")
    flows = {r["flow"]: r["state"] for r in document["results"]}
    assert flows["SITE-tcp-open.1"] == "open"
    assert document["cycle"]["duration"] > 0
    assert "journeys" in document
