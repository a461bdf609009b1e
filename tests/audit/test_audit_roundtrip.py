"""Round trip: what ``flowmatrix rules`` writes for nftables, iptables and ip6tables, for
every shipped example and every firewall, audits clean: every planned flow allowed (each
in the family the file is for), every flow the site does not request blocked, 0 wider,
0 unused, 0 shadowed, exit 0. nftables is read back from the kernel (``nft -f`` into a
throwaway namespace, ``nft -j list ruleset``) where it can be, and by the text reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.clean import assert_audits_clean
from flowmatrix.api import example_names, load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate

EXAMPLES = tuple(example_names())
TARGETS = ("nftables", "iptables", "ip6tables")
PLANS: dict[str, Plan] = {
    name: load_plan(None if name == "default" else f"example:{name}") for name in EXAMPLES
}
CASES = [
    (example, firewall.name, target)
    for example in EXAMPLES
    for firewall in PLANS[example].site.firewalls
    for target in TARGETS
]


def _site(example: str) -> str:
    return "example:default" if example == "default" else f"example:{example}"


def _rules(tmp_path: Path, example: str, firewall: str, target: str) -> Path:
    out = generate(PLANS[example], Scope("firewall", firewall), target)
    assert not out.errors, out.errors
    path = tmp_path / f"{example}-{firewall}.{target}"
    path.write_text(out.text, "utf-8")
    return path


@pytest.mark.parametrize(("example", "firewall", "target"), CASES)
def test_generated_rules_audit_clean(
    tmp_path: Path, run_cli, example: str, firewall: str, target: str
) -> None:
    plan = PLANS[example]
    path = _rules(tmp_path, example, firewall, target)
    report = audit(None, ruleset=path, firewall=firewall, plan=plan, nft_reader="text")
    assert report.dialect == ("nftables" if target == "nftables" else target)
    assert_audits_clean(report, plan, target)
    cli = run_cli("audit", _site(example), "-F", firewall, "-r", str(path), "--format", "json")
    assert [f["id"] for f in json.loads(cli.stdout)["flows"] if f["finding"]] == []
    assert cli.code == 0, cli


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("example", "firewall"),
    [
        (example, firewall.name)
        for example in EXAMPLES
        for firewall in PLANS[example].site.firewalls
    ],
)
def test_generated_nftables_read_back_from_the_kernel_audit_clean(
    tmp_path: Path, example: str, firewall: str
) -> None:
    plan = PLANS[example]
    path = _rules(tmp_path, example, firewall, "nftables")
    report = audit(None, ruleset=path, firewall=firewall, plan=plan, nft_reader="kernel")
    assert "read by nft in a throwaway network namespace" in " ".join(report.notes)
    assert_audits_clean(report, plan, "nftables")


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_planned_flow_is_allowed_by_iptables_or_ip6tables(
    tmp_path: Path, example: str
) -> None:
    plan = PLANS[example]
    for firewall in plan.site.firewalls:
        allowed: set[tuple[str, int]] = set()
        for target in ("iptables", "ip6tables"):
            path = _rules(tmp_path, example, firewall.name, target)
            report = audit(None, ruleset=path, firewall=firewall.name, plan=plan)
            allowed |= {(r.flow_id, r.port) for r in report.flows if r.status == "allowed"}
        wanted = {
            (f.id, port)
            for f in plan.flows_through(firewall.name)
            if f.requested
            for port in f.ports
        }
        assert wanted - allowed == set(), firewall.name


RANGED = """
flows:
  - name: bulk
    source: admins
    destination: xms1
    protocols: [tcp, udp]
    ports: [443, 20000-20999, "5900-5910"]
    description: ranges written as ranges
"""


@pytest.fixture(scope="module")
def ranged_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Plan]:
    site = tmp_path_factory.mktemp("ranged") / "site.yaml"
    text = (Path(__file__).parents[2] / "src/flowmatrix/examples/default.yaml").read_text()
    site.write_text(text + RANGED, "utf-8")
    return site, load_plan(site)


def test_port_ranges_stay_ranges_from_the_site_to_the_rules(
    ranged_plan: tuple[Path, Plan],
) -> None:
    _, plan = ranged_plan
    bulk = [f for f in plan.flows if f.requirement == "SITE-bulk"]
    assert bulk and {f.ports.ranges for f in bulk} == {((443, 443), (5900, 5910), (20000, 20999))}
    assert all(len(f.ports) == 1012 for f in bulk)
    nft = generate(plan, Scope("firewall", "fw-back"), "nftables").text
    assert "elements = { 443, 5900-5910, 20000-20999 }" in nft
    assert "tcp dport @ports_443_5900_5910_20000_20999" in nft
    ipt = generate(plan, Scope("firewall", "fw-back"), "iptables").text
    assert "--dports 443,5900:5910,20000:20999" in ipt


@pytest.mark.parametrize("target", ["nftables", "iptables"])
def test_port_ranges_audit_clean(
    tmp_path: Path, ranged_plan: tuple[Path, Plan], run_cli, target: str
) -> None:
    site, plan = ranged_plan
    out = generate(plan, Scope("firewall", "fw-back"), target)
    assert not out.errors, out.errors
    path = tmp_path / f"fw-back.{target}"
    path.write_text(out.text, "utf-8")
    report = audit(None, ruleset=path, firewall="fw-back", plan=plan, nft_reader="text")
    assert_audits_clean(report, plan, target)
    bulk = [r for r in report.flows if r.flow_id.startswith("SITE-bulk")]
    assert len(bulk) == 2 * 1012 and {r.status for r in bulk} == {"allowed"}
    cli = run_cli("audit", str(site), "-F", "fw-back", "-r", str(path), "--format", "json")
    assert cli.code == 0, cli


@pytest.mark.kernel
def test_port_ranges_read_back_from_the_kernel_audit_clean(
    tmp_path: Path, ranged_plan: tuple[Path, Plan]
) -> None:
    _, plan = ranged_plan
    path = tmp_path / "fw-back.nft"
    path.write_text(generate(plan, Scope("firewall", "fw-back"), "nftables").text, "utf-8")
    report = audit(None, ruleset=path, firewall="fw-back", plan=plan, nft_reader="kernel")
    assert_audits_clean(report, plan, "nftables")
