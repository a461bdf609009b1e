"""The lab in real network namespaces: every example passes, faults are caught, nothing
is left behind (signals: test_lab_signals.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.api import example_names, example_text, load_plan
from flowmatrix.lab import LabOptions, run_lab
from flowmatrix.lab.cases import SAME_ZONE
from flowmatrix.lab.namespaces import interface_names
from flowmatrix.lab.session import PREFIX
from flowmatrix.netns import leftover_namespaces
from flowmatrix.rules import Scope, generate
from lab.scale_site import generate_site
from lab.servers import require_servers

EDGE = str(Path(__file__).parent / "data" / "edge-cases.yaml")
pytestmark = pytest.mark.kernel
#: The namespaces of the runs of this process (other runs may go on at the same time).
OWN = f"{PREFIX}{os.getpid()}-"


def _site_ref(name: str) -> str | None:
    return None if name == "default" else EDGE if name == "edge-cases" else f"example:{name}"


@pytest.mark.parametrize("site", [*example_names(), "edge-cases"])
def test_every_example_passes_the_lab(site: str) -> None:
    require_servers()
    plan = load_plan(_site_ref(site))
    report = run_lab(plan)
    assert not report.failed, [r for r in report.results if not r.ok] + list(report.skipped)
    counts = report.counts()
    assert counts["planned"] > 0
    assert all(r.verdict == "pass" for r in report.planned)
    # no skip but same-zone flows: every flow that crosses a firewall is rehearsed
    assert {s.reason for s in report.skipped} <= {SAME_ZONE}
    # obsolete and legacy flows are not requested: the rules leave them out, the lab
    # proves them blocked instead of counting them as passes
    requested = {f.id for f in plan.flows if f.requested}
    assert not {r.case.flow for r in report.planned} - requested
    refused = [r for r in report.unplanned if r.case.variant == "not-requested"]
    assert all(r.verdict == "blocked" for r in refused)
    assert {r.case.flow for r in refused} == {f.id for f in plan.flows if not f.requested}
    assert counts["unplanned"] > 0 and counts["leaks"] == 0
    assert leftover_namespaces(OWN) == []


def test_a_missing_rule_is_a_blocked_flow() -> None:
    plan = load_plan(None)
    firewall = next(f for f in plan.site.firewalls if f.name == "fw-back")
    text = generate(
        plan, Scope("firewall", "fw-back"), "nftables", interfaces=interface_names(firewall)
    ).text
    broken = "\n".join(x for x in text.splitlines() if 'comment "XM-APP-16.1:' not in x)
    report = run_lab(plan, LabOptions(rulesets={"fw-back": broken}))
    assert report.failed
    bad = [r for r in report.results if not r.ok]
    assert {(r.case.flow, r.verdict) for r in bad} == {("XM-APP-16.1", "blocked")}


def test_an_internet_rule_without_address_match_leaks() -> None:
    """fw-back's rules for the Internet with the exclusion removed, as they used to be:
    the dmz gets to XenMobile on 443 through the same interface, and the lab sees it."""
    plan = load_plan(None)
    firewall = next(f for f in plan.site.firewalls if f.name == "fw-back")
    text = generate(
        plan, Scope("firewall", "fw-back"), "nftables", interfaces=interface_names(firewall)
    ).text
    loose = text.replace("ip saddr != @zone_not_internet_v4 ", "")
    assert loose != text
    report = run_lab(plan, LabOptions(rulesets={"fw-back": loose}))
    assert report.failed
    requested = {f.id for f in plan.flows if f.requested}
    assert all(r.verdict == "pass" for r in report.planned if r.case.flow in requested)
    bad = {
        (r.case.flow, r.case.variant, r.case.source_zone, r.verdict)
        for r in report.results
        if not r.ok
    }
    assert ("XM-APP-10.1", "internal-source", "dmz", "leak") in bad
    # every leak comes from the dmz, the zone the Internet's packets enter fw-back from
    assert {(zone, verdict) for _, _, zone, verdict in bad} == {("dmz", "leak")}


def test_an_open_firewall_leaks() -> None:
    plan = load_plan("example:small-office")
    permissive = (
        "table inet open {\n"
        "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n"
        "}\n"
    )
    report = run_lab(plan, LabOptions(rulesets={"fw": permissive}))
    assert report.failed
    assert all(r.verdict == "pass" for r in report.planned)
    assert report.unplanned and all(r.verdict == "leak" for r in report.unplanned)
    udp = [r for r in report.unplanned if r.case.protocol == "udp"]
    assert udp and all(r.state == "open" for r in udp)


def test_names_are_served_in_the_lab_and_fill_the_sets_through_dnsmasq() -> None:
    """The SMS relay is known by name only: its probes resolve rest.nexmo.com through
    the firewalls' dnsmasq, which fills the rules' name sets; a sibling name the plan
    does not have resolves too, and stays blocked."""
    require_servers()
    plan = load_plan("example:enterprise-dual-stack")
    report = run_lab(plan, LabOptions(timeout=0.5))
    relay = [r for r in report.results if r.case.flow == "XM-DEV-03.1"]
    planned = [r for r in relay if r.case.planned]
    assert {(r.case.name, r.case.family, r.case.port) for r in planned} == {
        ("rest.nexmo.com", family, port) for family in (4, 6) for port in (80, 443)
    }
    assert all(r.verdict == "pass" for r in planned), planned
    other = [r for r in relay if r.case.variant == "other-name"]
    assert {r.case.name for r in other} == {"fmlab-not-planned.nexmo.com"}
    assert {r.case.family for r in other} == {4, 6}
    assert all(r.verdict == "blocked" for r in other), other


def test_a_name_set_that_dnsmasq_does_not_fill_blocks_the_flow() -> None:
    """The same rules with edge's name set renamed: nothing fills it, and the lab sees
    the flow blocked at edge (core-fw's set, filled by its own dnsmasq, lets it by)."""
    require_servers()
    plan = load_plan("example:enterprise-dual-stack")
    edge = next(f for f in plan.site.firewalls if f.name == "edge")
    text = generate(plan, Scope("firewall", "edge"), "nftables", interfaces=interface_names(edge))
    assert "fqdn_rest_nexmo_com_v4" in text.text
    renamed = text.text.replace("fqdn_rest_nexmo_com_", "hand_edited_nexmo_")
    report = run_lab(
        plan, LabOptions(timeout=0.5, unplanned_per_flow=0, rulesets={"edge": renamed})
    )
    bad = {(r.case.flow, r.verdict) for r in report.results if not r.ok}
    assert bad == {("XM-DEV-03.1", "blocked")}
    assert report.failed


def test_flows_through_the_proxy_go_through_a_real_squid() -> None:
    """The app stores and FCM go through proxy1: squid, with the allow-list of 'rules
    --target squid', lets xms1 reach exactly their names and ports; another name,
    another port or another source is refused by squid itself."""
    require_servers()
    plan = load_plan("example:enterprise-dual-stack")
    report = run_lab(plan, LabOptions(timeout=0.5))
    through = [r for r in report.results if r.case.via is not None]
    planned = [r for r in through if r.case.planned]
    assert {r.case.flow for r in planned} == {"XM-DEV-02.1", "XM-ADD-02.1"}
    assert {(r.case.name, r.case.port) for r in planned if r.case.flow == "XM-ADD-02.1"} == {
        ("fcm.googleapis.com", 443),
        ("mtalk.google.com", 443),
    }
    # the wildcard is tried with a name below it
    assert "fmlab-wildcard.mzstatic.com" in {r.case.name for r in planned}
    assert all(r.verdict == "pass" for r in planned), planned
    assert all(r.case.via == ("10.20.7.80", 3128) for r in through)
    refused = [r for r in through if not r.case.planned]
    assert {r.case.variant for r in refused} == {"other-name", "other-port", "other-source"}
    for result in refused:
        assert result.verdict == "blocked", result
        assert "refused CONNECT" in result.reason and "403" in result.reason, result
    # the client legs are rehearsed through the proxy, not skipped as same-zone flows
    assert not {"XM-DEV-02.1", "XM-ADD-02.1"} & {s.flow for s in report.skipped}


def test_the_proxy_blocked_by_the_edge_firewall_is_a_failure() -> None:
    require_servers()
    plan = load_plan("example:enterprise-dual-stack")
    edge = next(f for f in plan.site.firewalls if f.name == "edge")
    text = generate(plan, Scope("firewall", "edge"), "nftables", interfaces=interface_names(edge))
    # edge lets the proxy out on port 80 only: XM-ADD-02.2 (tcp/443) has no rule of its
    # own, XM-DEV-02.2's rule (tcp/80,443) serves it too
    shared = 'comment "XM-DEV-02.2 XM-ADD-02.2:'
    lines = text.text.splitlines()
    assert sum(shared in x for x in lines) == 2
    assert not any('comment "XM-ADD-02.2' in x for x in lines)
    only_80 = "\n".join(x.replace("@ports_80_443", "80") if shared in x else x for x in lines)
    assert only_80.count("tcp dport 80 ct state new accept") == 2
    report = run_lab(
        plan, LabOptions(timeout=0.5, unplanned_per_flow=0, rulesets={"edge": only_80})
    )
    bad = {(r.case.flow, r.case.port, r.verdict) for r in report.results if not r.ok}
    # the proxy's own flows (packet probes) and the flows through it, on 443, blocked at
    # edge; port 80 through the proxy still passes
    assert {(flow, port) for flow, port, _ in bad} == {
        ("XM-DEV-02.2", 443),
        ("XM-ADD-02.2", 443),
        ("XM-DEV-02.1", 443),
        ("XM-ADD-02.1", 443),
    }
    assert {verdict for _, _, verdict in bad} == {"blocked"}
    through_80 = [r for r in report.results if r.case.via and r.case.port == 80]
    assert through_80 and all(r.verdict == "pass" for r in through_80)


def test_a_proxy_in_another_zone_is_reached_through_the_firewall(tmp_path: Path) -> None:
    """The enterprise site with its proxy given by address in the dmz: the clients reach
    it through core-fw (which refuses a stranger of core before squid sees it), squid
    reaches the names through edge."""
    require_servers()
    text = example_text("enterprise-dual-stack")
    host = '  - name: proxy1\n    role: web-proxy\n    addresses: [10.20.7.80, "fd00:20:2::80"]\n'
    assert host in text and "  host: proxy1\n  port: 3128" in text
    text = text.replace(host, "").replace(
        "  host: proxy1\n  port: 3128", "  address: 172.20.1.80\n  port: 8080"
    )
    site = tmp_path / "site.yaml"
    site.write_text(text, "utf-8")
    report = run_lab(load_plan(str(site)), LabOptions(timeout=0.5))
    assert not report.failed, [r for r in report.results if not r.ok]
    through = [r for r in report.results if r.case.via is not None]
    assert through and all(r.case.via == ("172.20.1.80", 8080) for r in through)
    assert all(r.case.firewalls == ("core-fw", "edge") for r in through)
    stranger = [r for r in through if r.case.variant == "other-source"]
    assert stranger and all("does not answer" in r.reason for r in stranger), stranger
    others = [r for r in through if r.case.variant in ("other-name", "other-port")]
    assert others and all("403" in r.reason for r in others)


def test_without_squid_the_flows_through_the_proxy_fail_the_run(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stand-in passes for a proxy the lab cannot run: the flows through it are
    errors, the run fails (exit 1), everything else is rehearsed as usual."""
    require_servers()
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("ip", "nft", "dnsmasq"):
        found = shutil.which(tool)
        assert found is not None
        (tools / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(tools))
    result = run_cli("lab", "example:enterprise-dual-stack", "-f", "json", "--timeout", "0.3")
    assert result.code == 1, result
    document = json.loads(result.stdout)
    bad = [r for r in document["results"] if not r["ok"]]
    assert bad and all(r["via"] == "10.20.7.80:3128" and r["verdict"] == "error" for r in bad)
    assert {r["reason"] for r in bad} == {
        "squid is not installed: the lab cannot run the web proxy"
    }
    assert {r["flow"] for r in bad} == {"XM-DEV-02.1", "XM-ADD-02.1"}


def test_cli_json_contract(run_cli: Any) -> None:
    result = run_cli("lab", "example:small-office", "--format", "json")
    assert result.code == 0, result
    document = json.loads(result.stdout)
    assert document["format"] == "flowmatrix-lab/1"
    assert document["site_digest"].startswith("sha256:")
    assert set(document) == {
        "format",
        "site",
        "site_digest",
        "duration_s",
        "namespaces",
        "phases",
        "failed",
        "summary",
        "firewalls",
        "results",
        "skipped",
        "warnings",
        "checks",
    }
    assert document["failed"] is False
    planned = [r for r in document["results"] if r["variant"] == "planned"]
    assert [(c["flow"], c["port"], c["status"]) for c in document["checks"]] == [
        (r["flow"], r["port"], "proven") for r in planned
    ]
    assert document["namespaces"] == 4  # three zones, one firewall
    assert set(document["phases"]) == {
        "build_s",
        "rules_s",
        "names_s",
        "listen_s",
        "probe_s",
        "teardown_s",
    }
    first = document["results"][0]
    assert set(first) == {
        "id",
        "flow",
        "variant",
        "required",
        "verdict",
        "ok",
        "protocol",
        "port",
        "firewalls",
        "source",
        "destination",
        "name",
        "via",
        "state",
        "reason",
        "latency_ms",
    }
    assert document["firewalls"][0]["interfaces"] == {
        "internet": "wan0",
        "dmz": "dmz0",
        "lan": "lan0",
    }
    assert "lab OK:" in result.stderr


def test_cli_failure_is_exit_1(run_cli: Any, tmp_path: Path) -> None:
    rules = tmp_path / "fw.nft"
    rules.write_text(
        "table inet closed {\n"
        "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n"
        "}\n"
    )
    result = run_cli(
        "lab",
        "example:small-office",
        "--rules",
        f"fw={rules}",
        "--unplanned",
        "0",
        "--timeout",
        "0.3",
    )
    assert result.code == 1, result
    assert "lab FAILED: 0/19 planned probes passed" in result.stderr


def test_cli_bad_rules_option_is_exit_2(run_cli: Any) -> None:
    result = run_cli("lab", "--rules", "fw-middle=/nonexistent")
    assert result.code == 2
    assert "unknown firewall 'fw-middle'" in result.stderr


def test_cli_rules_that_nft_refuses_are_exit_2(run_cli: Any, tmp_path: Path) -> None:
    rules = tmp_path / "fw.nft"
    rules.write_text("table inet broken { chain forward { policy drop } }\n")
    result = run_cli("lab", "example:small-office", "--rules", f"fw={rules}")
    assert result.code == 2, result
    assert "nft refused the rules of firewall fw" in result.stderr
    assert leftover_namespaces(OWN) == []


def test_a_site_of_10_firewalls_and_40_zones_passes_the_lab(tmp_path: Path) -> None:
    """Paths across up to nine firewalls, UDP and TCP, 1,000 planned probes."""
    site = tmp_path / "scale.yaml"
    site.write_text(generate_site())
    report = run_lab(load_plan(str(site)), LabOptions(unplanned_per_flow=1))
    counts = report.counts()
    assert counts["planned"] == counts["passed"] == 1000, [r for r in report.results if not r.ok]
    assert counts["unplanned"] > 0 and counts["leaks"] == 0
    assert report.namespaces == 50
    assert max(len(r.case.firewalls) for r in report.results) == 9
    assert leftover_namespaces(OWN) == []
