"""The audit applies the address translations of nftables and iptables rulesets, and the
kernel agrees.

A site publishes a web server on a public address (static destination NAT on the edge)
and translates the DMZ's outbound traffic. The audit takes each published flow to
arrive addressed to the public address: the ruleset's DNAT must lead it to the server's
own address and port, or the flow is blocked, whatever its filter rules say. A router
namespace running the same rulesets is the oracle: a connection to the public address
reaches the server exactly when the audit says "allowed".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.audit_lab import Lab, router_lab
from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport, FlowResult
from flowmatrix.model import Plan

SITE = (Path(__file__).parents[1] / "data" / "nat-site.yaml").read_text(encoding="utf-8")
LAB_SIDES = {
    "eth0": ("198.18.1.1/24", "198.18.1.1", ["198.18.1.5/24"]),
    "eth1": ("198.18.2.1/24", "198.18.2.1", ["198.18.2.20/24"]),
}
PUBLISHED = {"198.51.100.40": "198.18.2.20"}
FILTER_NFT = """
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "eth0" oifname "eth1" ip saddr 198.18.1.5 ip daddr 198.18.2.20 tcp dport 443 accept
		iifname "eth1" oifname "eth0" ip saddr 198.18.2.20 ip daddr 198.18.1.5 tcp dport 8080 accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" ip saddr 198.18.2.0/24 snat ip to 198.51.100.41
	}
"""
PREROUTING_NFT = """
	chain prerouting {{
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth0" ip daddr 198.51.100.40 tcp dport 443 dnat ip to {target}
	}}
"""
FILTER_IPTABLES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -s 198.18.1.5/32 -d 198.18.2.20/32 -p tcp --dport 443 -j ACCEPT
-A FORWARD -i eth1 -o eth0 -s 198.18.2.20/32 -d 198.18.1.5/32 -p tcp --dport 8080 -j ACCEPT
COMMIT
"""
NAT_IPTABLES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
{prerouting}-A POSTROUTING -o eth0 -s 198.18.2.0/24 -j SNAT --to-source 198.51.100.41
COMMIT
"""
#: name -> DNAT target ("" for none), and whether the published flow gets through.
SCENARIOS = {
    "published": ("198.18.2.20", "allowed"),
    "no-dnat": ("", "blocked"),
    "wrong-host": ("198.18.2.99", "blocked"),
    "wrong-port": ("198.18.2.20:8443", "blocked"),
}


def nft_ruleset(target: str) -> str:
    prerouting = PREROUTING_NFT.format(target=target) if target else ""
    return "table inet edge {" + FILTER_NFT + prerouting + "}\n"


def iptables_ruleset(target: str) -> str:
    prerouting = ""
    if target:
        prerouting = (
            "-A PREROUTING -i eth0 -d 198.51.100.40/32 -p tcp --dport 443 "
            f"-j DNAT --to-destination {target}\n"
        )
    return FILTER_IPTABLES + NAT_IPTABLES.format(prerouting=prerouting)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nat") / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def plan(site: Path) -> Plan:
    return load_plan(str(site))


def _audit(site: Path, tmp_path: Path, dialect: str, target: str) -> AuditReport:
    text = nft_ruleset(target) if dialect == "nft" else iptables_ruleset(target)
    ruleset = tmp_path / ("edge.nft" if dialect == "nft" else "edge.rules")
    ruleset.write_text(text, encoding="utf-8")
    return audit(site, ruleset=ruleset, firewall="edge", nft_reader="text")


def _flow(report: AuditReport, flow_id: str) -> FlowResult:
    return next(f for f in report.flows if f.flow_id == flow_id)


def test_the_plan_carries_both_addresses(plan: Plan) -> None:
    https = plan.flow("SITE-https.1")
    assert [n.describe() for n in https.nat] == [
        "edge DNAT 198.51.100.40 port 443 -> 198.18.2.20 (web)"
    ]
    assert https.destination.addresses == ("198.18.2.20",)
    assert https.sent().addresses == ("198.51.100.40",)
    assert https.seen_by("edge")[1].addresses == ("198.18.2.20",)
    updates = plan.flow("SITE-updates.1")
    assert updates.received().addresses == ("198.51.100.41",)
    assert updates.seen_by("edge")[0].addresses == ("198.18.2.20",)


@pytest.mark.parametrize("dialect", ["nft", "iptables"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_destination_nat_decides_the_published_flow(
    site: Path, tmp_path: Path, dialect: str, scenario: str
) -> None:
    target, expected = SCENARIOS[scenario]
    report = _audit(site, tmp_path, dialect, target)
    assert report.problems == ()
    https = _flow(report, "SITE-https.1")
    assert https.status == expected
    if expected == "allowed":
        assert any("destination NAT by" in n for n in https.notes), https.notes
    else:
        reason = https.parts[0].fates[0].decision
        assert reason.startswith("arrives addressed to 198.51.100.40 port 443"), reason
        if not target:
            assert "no destination NAT of the configuration translates it" in reason
        else:
            assert f"translates it to {target.split(':')[0]} port" in reason
    updates = _flow(report, "SITE-updates.1")
    assert updates.status == "allowed"
    assert any("leaves from 198.51.100.41: source NAT by" in n for n in updates.notes)


def test_a_missing_source_nat_is_said(site: Path, tmp_path: Path) -> None:
    text = nft_ruleset("198.18.2.20").replace("snat ip to 198.51.100.41", "accept")
    ruleset = tmp_path / "edge.nft"
    ruleset.write_text(text, encoding="utf-8")
    report = audit(site, ruleset=ruleset, firewall="edge", nft_reader="text")
    notes = _flow(report, "SITE-updates.1").notes
    assert any("the configuration has no source NAT for it" in n for n in notes), notes


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with router_lab(LAB_SIDES) as made:
        yield made


@pytest.mark.kernel
@pytest.mark.parametrize("dialect", ["nft", "iptables"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_kernel_agrees(
    lab: Lab, site: Path, tmp_path: Path, dialect: str, scenario: str
) -> None:
    target, expected = SCENARIOS[scenario]
    report = _audit(site, tmp_path, dialect, target)
    lab.router.run(["nft", "flush", "ruleset"])
    if dialect == "nft":
        lab.load_nft(nft_ruleset(target))
    else:
        lab.load_iptables(iptables_ruleset(target))
    try:
        outcome = lab.probe([("198.18.1.5", "198.51.100.40", "tcp", 443)], published=PUBLISHED)
    finally:
        lab.router.run(["nft", "flush", "ruleset"])
    assert _flow(report, "SITE-https.1").status == expected
    assert (outcome == ["open"]) == (expected == "allowed"), outcome
