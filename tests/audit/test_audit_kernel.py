"""The kernel is the oracle: audit verdicts equal what a router namespace really does.

Each scenario loads a ruleset into a router namespace between two (or three) other
namespaces, sends real TCP connections and UDP exchanges for the planned flows that
cross it (addresses inside the test namespaces only), and compares with the audit.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.audit_lab import Lab, router_lab
from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport

pytestmark = pytest.mark.kernel

DATA = Path(__file__).parent / "data"
RULESETS = Path(__file__).resolve().parents[3] / "shared" / "data" / "rulesets" / "net-network"
LAB_SIDES = {
    "eth0": (
        "198.18.1.1/24",
        "198.18.1.1",
        ["198.18.1.5/24", "198.18.1.6/24", "198.18.1.7/24", "198.18.1.10/24"],
    ),
    "eth1": (
        "198.18.2.1/24",
        "198.18.2.1",
        ["198.18.2.20/24", "198.18.2.41/24", "198.18.2.42/24", "198.18.2.43/24"],
    ),
}
#: What the hand-written lab rulesets do (both dialects say the same).
EXPECTED = {
    ("XM-APP-02.1", 53): "allowed",
    ("XM-APP-02.3", 53): "blocked",
    ("XM-APP-05.1", 123): "blocked",
    ("XM-APP-06.1", 389): "allowed",
    ("XM-APP-13.1", 443): "allowed",
    ("XM-APP-24.1", 8443): "blocked",
    ("XM-APP-25.1", 4443): "blocked",
    ("SITE-backup.1", 9000): "allowed",
    ("SITE-backup.1", 9001): "blocked",
    ("SITE-backup.2", 9000): "allowed",
    ("SITE-backup.2", 9001): "blocked",
}


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with router_lab(LAB_SIDES) as made:
        yield made


def _reset(lab: Lab) -> None:
    lab.router.run(["nft", "flush", "ruleset"])


def ephemeral(lab: Lab) -> str:
    """The client ports the kernel picks in the lab (what the audit must assume)."""
    low, high = lab.router.run(["sysctl", "-n", "net.ipv4.ip_local_port_range"]).stdout.split()
    return f"{low}-{high}"


def kernel_verdicts(lab: Lab, report: AuditReport) -> dict[tuple[str, int], tuple[str, str]]:
    """(flow, port) -> (audit status, kernel outcome) for flows between single addresses."""
    probes: list[tuple[str, str, str, int]] = []
    keys: list[tuple[str, int, str]] = []
    for flow in report.flows:
        for part in flow.parts:
            if "/" in part.sources or "," in part.sources or "/" in part.destinations:
                continue
            assert part.source_ports == "any", f"{flow.flow_id}: split on source ports"
            probes.append((part.sources, part.destinations, flow.protocol, flow.port))
            keys.append((flow.flow_id, flow.port, part.status))
    outcomes = lab.probe(probes)
    return {
        (fid, port): (status, outcome)
        for (fid, port, status), outcome in zip(keys, outcomes, strict=True)
    }


def assert_agrees(found: dict[tuple[str, int], tuple[str, str]]) -> None:
    assert found, "no flow was probed"
    wrong = {
        key: value
        for key, value in found.items()
        if (value[0] == "allowed") != (value[1] == "open") or value[0] == "depends"
    }
    assert not wrong, f"audit and kernel disagree: {wrong}"


def test_hand_written_iptables(lab: Lab, tmp_path: Path) -> None:
    _reset(lab)
    lab.load_iptables((DATA / "lab.iptables").read_text())
    report = audit(
        DATA / "lab_site.yaml",
        ruleset=DATA / "lab.iptables",
        firewall="fw",
        source_ports=ephemeral(lab),
    )
    found = kernel_verdicts(lab, report)
    assert_agrees(found)
    assert {key: status for key, (status, _) in found.items()} == EXPECTED


def test_hand_written_iptables_legacy_backend(lab: Lab) -> None:
    if shutil.which("iptables-legacy-restore") is None:
        pytest.skip("iptables-legacy is not installed")
    _reset(lab)
    lab.load_iptables((DATA / "lab.iptables").read_text(), legacy=True)
    try:
        report = audit(
            DATA / "lab_site.yaml",
            ruleset=DATA / "lab.iptables",
            firewall="fw",
            source_ports=ephemeral(lab),
        )
        assert_agrees(kernel_verdicts(lab, report))
    finally:
        for table in ("raw", "filter"):
            lab.router.run(["iptables-legacy", "-t", table, "-F"], check=False)
            lab.router.run(["iptables-legacy", "-t", table, "-X"], check=False)
        lab.router.run(["iptables-legacy", "-P", "FORWARD", "ACCEPT"], check=False)


@pytest.mark.parametrize("reader", ["kernel", "text"])
def test_hand_written_nftables(lab: Lab, reader: str) -> None:
    _reset(lab)
    lab.load_nft((DATA / "lab.nft").read_text())
    report = audit(
        DATA / "lab_site.yaml",
        ruleset=DATA / "lab.nft",
        firewall="fw",
        source_ports=ephemeral(lab),
        nft_reader=reader,
    )  # type: ignore[arg-type]
    found = kernel_verdicts(lab, report)
    assert_agrees(found)
    assert {key: status for key, (status, _) in found.items()} == EXPECTED


def test_nft_json_listing_of_the_loaded_ruleset(lab: Lab, tmp_path: Path) -> None:
    _reset(lab)
    lab.load_nft((DATA / "lab.nft").read_text())
    listing = tmp_path / "lab.json"
    listing.write_text(lab.router.run(["nft", "-j", "list", "ruleset"]).stdout)
    report = audit(
        DATA / "lab_site.yaml", ruleset=listing, firewall="fw", source_ports=ephemeral(lab)
    )
    found = kernel_verdicts(lab, report)
    assert_agrees(found)
    handles = [
        p.fates[0].decided_by
        for f in report.flows
        for p in f.parts
        if p.fates[0].decided_by is not None
    ]
    assert handles and all(ref.handle is not None for ref in handles)


@pytest.mark.parametrize("target", ["nftables", "iptables"])
def test_generated_rules_pass_every_planned_flow(lab: Lab, tmp_path: Path, target: str) -> None:
    from flowmatrix.rules import Scope, generate

    plan = load_plan(DATA / "lab_site.yaml")
    output = generate(plan, Scope("firewall", "fw"), target)
    rules = tmp_path / f"fw.{target}"
    rules.write_text(output.text)
    _reset(lab)
    if target == "nftables":
        lab.load_nft(output.text)
    else:
        lab.load_iptables(output.text)
    report = audit(
        DATA / "lab_site.yaml", ruleset=rules, firewall="fw", source_ports=ephemeral(lab), plan=plan
    )
    found = kernel_verdicts(lab, report)
    assert_agrees(found)
    assert all(status == "allowed" for status, _ in found.values())


@pytest.mark.parametrize("ruleset", ["lab.iptables", "lab.nft"])
def test_fixes_open_the_blocked_flows(lab: Lab, ruleset: str) -> None:
    _reset(lab)
    text = (DATA / ruleset).read_text()
    if ruleset.endswith(".nft"):
        lab.load_nft(text)
    else:
        lab.load_iptables(text)
    report = audit(
        DATA / "lab_site.yaml", ruleset=DATA / ruleset, firewall="fw", source_ports=ephemeral(lab)
    )
    fixes = [fix for flow in report.flows for fix in flow.fixes]
    assert fixes and all(fix.verified for fix in fixes)
    assert {f.flow_id for f in report.flows if f.fixes} == {
        flow for (flow, _), status in EXPECTED.items() if status == "blocked"
    }
    for fix in fixes:
        lab.router.run(shlex.split(fix.command))
    after = kernel_verdicts(lab, report)
    assert all(outcome == "open" for _, outcome in after.values()), after


# -- a real dump: the ferm DMZ router, as iptables-save and translated to nftables ----------

FERM = RULESETS / "examples_ferm_dmz_router.ferm.iptables-save"
FERM_SIDES = {
    "eth0": ("192.168.0.1/24", "192.168.0.1", ["192.168.0.10/24"]),
    "eth1": ("193.43.91.203/24", "193.43.91.203", ["193.43.91.50/24"]),
    "eth2": ("192.168.1.1/24", "192.168.1.1", ["192.168.1.2/24", "192.168.1.4/24"]),
}
FERM_SITE = """\
version: 1
name: ferm dmz router
zones:
  - {name: lan, cidrs: [192.168.0.0/24]}
  - {name: dmz, cidrs: [192.168.1.0/24]}
  - {name: internet, internet: true}
firewalls:
  - name: router
    zones: [lan, dmz, internet]
    interfaces: {lan: eth0, internet: eth1, dmz: eth2}
hosts:
  - {name: office, role: admin-browser, addresses: [192.168.0.10]}
  - {name: web, role: intranet-web, addresses: [192.168.1.2]}
  - {name: ns, role: dns-server, addresses: [192.168.1.4]}
  - {name: visitor, role: ios-devices-wifi, addresses: [193.43.91.50], zone: internet}
flows:
  - {name: web-in, source: visitor, destination: web, ports: [80, 443]}
  - {name: dns-in, source: visitor, destination: ns, protocols: [udp, tcp], ports: [53]}
  - {name: dmz-out, source: web, destination: visitor, ports: [443]}
  - {name: dmz-to-lan, source: web, destination: office, ports: [22]}
  - {name: lan-to-dmz, source: office, destination: web, ports: [80, 8080]}
  - {name: in-to-lan, source: visitor, destination: office, ports: [22]}
"""


@pytest.fixture(scope="module")
def ferm_lab() -> Iterator[Lab]:
    if not FERM.exists():
        pytest.skip(f"real rulesets not found at {RULESETS}")
    with router_lab(FERM_SIDES) as made:
        yield made


def test_real_dump_iptables_save(ferm_lab: Lab, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(FERM_SITE)
    _reset(ferm_lab)
    ferm_lab.load_iptables(FERM.read_text())
    report = audit(site, ruleset=FERM, firewall="router", source_ports=ephemeral(ferm_lab))
    found = kernel_verdicts(ferm_lab, report)
    assert_agrees(found)
    statuses = {status for status, _ in found.values()}
    assert statuses == {"allowed", "blocked"}


def test_real_dump_translated_to_nftables(ferm_lab: Lab, tmp_path: Path) -> None:
    translated = subprocess.run(
        ["iptables-restore-translate", "-f", str(FERM)], capture_output=True, text=True, check=True
    ).stdout
    # iptables-restore-translate writes 'add table' without a flush: start from nothing
    rules = tmp_path / "ferm.nft"
    rules.write_text(re.sub(r"(?m)^# Completed.*$", "", translated))
    site = tmp_path / "site.yaml"
    site.write_text(FERM_SITE)
    _reset(ferm_lab)
    ferm_lab.load_nft(rules.read_text())
    for reader in ("kernel", "text"):
        report = audit(
            site,
            ruleset=rules,
            firewall="router",
            source_ports=ephemeral(ferm_lab),
            nft_reader=reader,
        )  # type: ignore[arg-type]
        assert report.dialect == "nftables"
        assert_agrees(kernel_verdicts(ferm_lab, report))
