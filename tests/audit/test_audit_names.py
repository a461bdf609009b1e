"""Name sets (``flowmatrix.namesets``: ``fqdn_*`` sets whose comment lists their names) are
judged through the names they serve, read from text or from the kernel, whatever they
hold at the time."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport
from flowmatrix.rules import Scope, generate

PLAN = load_plan("example:enterprise-dual-stack")


def _generated(tmp_path: Path) -> Path:
    out = generate(PLAN, Scope("firewall", "edge"), "nftables")
    assert not out.errors, out.errors
    assert "set fqdn_rest_nexmo_com_v4" in out.text
    path = tmp_path / "edge.nft"
    path.write_text(out.text, "utf-8")
    return path


def _status(report: AuditReport, flow_id: str) -> set[str]:
    return {f.status for f in report.flows if f.flow_id == flow_id}


def _audit(path: Path, reader: str = "text") -> AuditReport:
    return audit(None, ruleset=path, firewall="edge", plan=PLAN, nft_reader=reader)  # type: ignore[arg-type]


def test_an_empty_name_set_serves_the_end_of_that_name(tmp_path: Path) -> None:
    # the Nexmo relay is known by name only (rest.nexmo.com): the empty set filled by
    # dnsmasq at run time allows it, IPv4 and IPv6, and is not "never matches"
    report = _audit(_generated(tmp_path))
    assert _status(report, "XM-DEV-03.1") == {"allowed"}
    assert not [d for d in report.dead_rules if "fqdn_rest_nexmo_com" in d.rule.text]


def test_a_name_set_of_another_name_does_not_serve_the_end(tmp_path: Path) -> None:
    path = _generated(tmp_path)
    text = path.read_text("utf-8").replace(
        '"flowmatrix names: rest.nexmo.com"', '"flowmatrix names: sms.example.org"'
    )
    path.write_text(text, "utf-8")
    report = _audit(path)
    # blocked on tcp/80; on tcp/443 only what other rules to the Internet take passes
    assert _status(report, "XM-DEV-03.1") == {"blocked", "partial"}
    deciders = {
        fate.decided_by.text
        for result in report.flows
        if result.flow_id == "XM-DEV-03.1"
        for part in result.parts
        for fate in part.fates
        if fate.decided_by is not None
    }
    assert not [text for text in deciders if "fqdn_" in text]


def test_pinned_addresses_do_not_replace_the_names(tmp_path: Path) -> None:
    # addresses pinned by --resolve are today's answers: the set is still judged by its name
    path = _generated(tmp_path)
    text = path.read_text("utf-8").replace(
        '\t\tcomment "flowmatrix names: rest.nexmo.com"\n\t}\n\tset fqdn_rest_nexmo_com_v6',
        '\t\tcomment "flowmatrix names: rest.nexmo.com"\n'
        "\t\telements = { 198.51.100.7 timeout 1h }\n\t}\n\tset fqdn_rest_nexmo_com_v6",
        1,
    )
    assert "198.51.100.7" in text
    path.write_text(text, "utf-8")
    assert _status(_audit(path), "XM-DEV-03.1") == {"allowed"}


@pytest.mark.kernel
def test_the_kernel_read_back_keeps_the_names(tmp_path: Path) -> None:
    report = _audit(_generated(tmp_path), reader="kernel")
    assert _status(report, "XM-DEV-03.1") == {"allowed"}


@pytest.mark.parametrize("target", ["iptables", "ip6tables"])
def test_an_ipset_name_set_serves_the_end_of_that_name(tmp_path: Path, target: str) -> None:
    # the ipset carries no comment: the iptables-restore file lists the names of its sets
    out = generate(PLAN, Scope("firewall", "edge"), target)
    assert not out.errors, out.errors
    path = tmp_path / f"edge.{target}"
    path.write_text(out.text, "utf-8")
    report = _audit(path)
    assert report.dialect == target
    assert _status(report, "XM-DEV-03.1") == {"allowed"}
    other = out.text.replace("(rest.nexmo.com)", "(sms.example.org)")
    path.write_text(other, "utf-8")
    assert "allowed" not in _status(_audit(path), "XM-DEV-03.1")
