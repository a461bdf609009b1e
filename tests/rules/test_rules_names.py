"""Names as destinations: name sets, --resolve, dnsmasq lines, FQDN objects, the proxy,
explicit 'any', and the flows that must be reported missing instead of widened."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.rules.dnsserver import dns_server

from flowmatrix.api import example_text, load_plan
from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.coverage import check_fqdn_objects
from flowmatrix.rules.vendors import VENDOR_TARGETS, build_policy, run_aerleon

ENTERPRISE = example_text("enterprise-dual-stack")
ANSWERS = {"rest.nexmo.com": ["198.51.100.25", "198.51.100.26", "2001:db8:51::25"]}
EDGE = ("--firewall", "edge")


def _site(tmp_path: Path, text: str) -> str:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def without_proxy(text: str) -> str:
    return re.sub(r"\nproxy: .*\n  host: proxy1\n  port: 3128\n", "\n", text)


def _cut(text: str, start: str, end: str) -> str:
    a = text.index(start)
    return text[:a] + text[text.index(end, a) :]


def test_resolve_pins_todays_answers_into_the_name_sets(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "edge.nft"
    with dns_server(ANSWERS) as resolver:
        result = run_cli(
            "rules", "example:enterprise-dual-stack", *EDGE, "--resolve", "--resolver",
            resolver, "-o", str(out),
        )  # fmt: skip
    assert result.code == 0, result
    text = out.read_text()
    block = re.search(r"\tset fqdn_rest_nexmo_com_v4 \{\n(.*?)\n\t\}", text, re.DOTALL)
    assert block is not None
    assert "flags interval,timeout" in block.group(1)
    assert 'comment "flowmatrix names: rest.nexmo.com"' in block.group(1)
    assert "elements = { 198.51.100.25, 198.51.100.26 }" in block.group(1)
    assert "elements = { 2001:db8:51::25 }" in text
    # the names, the time, the resolver and the TTL are written beside the answers
    pinned = next(line for line in text.splitlines() if "rest.nexmo.com: 198.51.100.25" in line)
    assert f"by {resolver}, TTL 300 s" in pinned
    assert re.search(r"resolved \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", pinned)


def test_a_name_that_does_not_resolve_writes_nothing(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "edge.nft"
    with dns_server({}) as resolver:
        result = run_cli(
            "rules", "example:enterprise-dual-stack", *EDGE, "--resolve", "--resolver",
            resolver, "-o", str(out),
        )  # fmt: skip
    assert result.code == 1
    assert not out.exists()
    assert (
        "error: XM-DEV-03.1: name rest.nexmo.com does not resolve: the name does not exist "
        "(NXDOMAIN)"
    ) in result.stderr
    assert "nothing written" in result.stderr


def test_a_resolver_that_does_not_answer_writes_nothing(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "edge.rules"
    with dns_server(ANSWERS, silent=True) as resolver:
        result = run_cli(
            "rules", "example:enterprise-dual-stack", *EDGE, "-t", "iptables", "--resolve",
            "--resolver", resolver, "-o", str(out),
        )  # fmt: skip
    assert result.code == 1 and not out.exists()
    assert f"XM-DEV-03.1: name rest.nexmo.com does not resolve: the resolver {resolver}" in (
        result.stderr
    )


def test_dnsmasq_lines_fill_the_nftables_sets(run_cli: Any, tmp_path: Path) -> None:
    conf = tmp_path / "edge.dnsmasq"
    result = run_cli(
        "rules", "example:enterprise-dual-stack", *EDGE, "--dnsmasq", str(conf), "-o",
        str(tmp_path / "edge.nft"),
    )  # fmt: skip
    assert result.code == 0, result
    lines = [x for x in conf.read_text().splitlines() if not x.startswith("#")]
    assert lines == [
        "nftset=/rest.nexmo.com/4#inet#flowmatrix_edge#fqdn_rest_nexmo_com_v4,"
        "6#inet#flowmatrix_edge#fqdn_rest_nexmo_com_v6"
    ]


def test_iptables_uses_ipsets_created_by_the_ipset_file(run_cli: Any, tmp_path: Path) -> None:
    sets, conf = tmp_path / "edge.ipset", tmp_path / "edge.dnsmasq"
    with dns_server(ANSWERS) as resolver:
        result = run_cli(
            "rules", "example:enterprise-dual-stack", *EDGE, "-t", "ip6tables", "--ipset",
            str(sets), "--dnsmasq", str(conf), "--resolve", "--resolver", resolver,
        )  # fmt: skip
    assert result.code == 0, result
    assert result.stdout.startswith("# flowmatrix: ip6tables-restore rules (IPv6)")
    assert "-m set --match-set fqdn_rest_nexmo_com_v6 dst -p tcp" in result.stdout
    ipsets = sets.read_text().splitlines()
    assert "create fqdn_rest_nexmo_com_v6 hash:net family inet6 timeout 0" in ipsets
    assert "add fqdn_rest_nexmo_com_v6 2001:db8:51::25" in ipsets
    assert "ipset=/rest.nexmo.com/fqdn_rest_nexmo_com_v4,fqdn_rest_nexmo_com_v6" in (
        conf.read_text().splitlines()
    )


def test_a_wildcard_without_proxy_is_missing_with_a_hint(run_cli: Any, tmp_path: Path) -> None:
    site = _site(tmp_path, without_proxy(ENTERPRISE))
    result = run_cli("rules", site, *EDGE)
    assert result.code == 1
    assert (
        "error: XM-DEV-02.1: missing: destination *.mzstatic.com: no packet filter can match "
        "a wildcard name (hint: declare proxy: or choose internet: any for app-stores"
    ) in result.stderr
    assert "1 missing" in result.stderr
    # FortiGate has wildcard FQDN objects, for IPv4 only
    forti = run_cli("rules", site, *EDGE, "-t", "fortigate")
    assert forti.code == 1
    assert "XM-DEV-02.1: missing: destination *.mzstatic.com: FortiGate has no IPv6 wildcard" in (
        forti.stderr
    )
    v4_only = _site(tmp_path, example_text("default") + "  app-stores: true\n")
    forti = run_cli("rules", v4_only, "--firewall", "fw-front", "-t", "fortigate")
    assert forti.code == 0, forti
    assert 'set type wildcard-fqdn\n        set wildcard-fqdn "*.mzstatic.com"' in forti.stdout


def test_an_internet_service_with_no_host_is_missing_not_widened(
    run_cli: Any, tmp_path: Path
) -> None:
    text = _cut(ENTERPRISE, "  - name: vonage-sms", "\nproxy:")
    site = _site(tmp_path, text)
    result = run_cli("rules", site, *EDGE)
    assert result.code == 1
    assert "error: XM-DEV-03.1: missing: destination sms-relay in internet has no address" in (
        result.stderr
    )
    assert "ports_80_443" not in result.stdout.split("XM-DEV-03.1")[0].splitlines()[-1]
    explain = run_cli("plan", site, "--explain")
    assert "missing XM-DEV-03.1: destination sms-relay has no address, name or choice" in (
        explain.stderr
    )
    # the explicit choice: any Internet address, with the reason in the rule's comment
    chosen = text + (
        "\nexternal:\n  sms-relay:\n    internet: any\n    reason: Vonage publishes no addresses\n"
    )
    result = run_cli("rules", _site(tmp_path, chosen), *EDGE)
    assert result.code == 0, result
    rule = next(x for x in result.stdout.splitlines() if '"XM-DEV-03.1' in x)
    assert "ip daddr != @zone_not_internet_v4" in rule
    assert "any Internet address: Vonage publishes no addresses" in rule
    assert "rendered (4 as explicit any)" in result.stderr


def test_the_proxy_carries_wildcards_and_squid_lists_them(run_cli: Any) -> None:
    plan = load_plan("example:enterprise-dual-stack")
    legs = [f for f in plan.flows if f.requirement == "XM-DEV-02"]
    assert [(f.source.role, f.destination.role, tuple(f.ports)) for f in legs] == [
        ("xenmobile", "web-proxy", (3128,)),
        ("web-proxy", "app-stores", (80, 443)),
    ]
    assert all(f.requirement == "XM-DEV-02" for f in legs)
    assert legs[1].destination.any_address and "proxy1" in (legs[1].destination.any_reason or "")
    result = run_cli("rules", "example:enterprise-dual-stack", "-t", "squid")
    assert result.code == 0, result
    assert "acl fm_xm_dev_02_1_dst dstdomain ax.itunes.apple.com .mzstatic.com" in result.stdout
    assert "http_access allow fm_xm_dev_02_1_src fm_xm_dev_02_1_dst fm_xm_dev_02_1_port" in (
        result.stdout
    )
    assert result.stdout.rstrip().endswith("http_access deny all")
    # the obsolete Windows Phone names are not in the allow-list
    assert "notify.windows.com" not in result.stdout and "login.live.com" not in result.stdout


def test_squid_accepts_the_allow_list(run_cli: Any) -> None:
    if shutil.which("squid") is None and not Path("/usr/sbin/squid").exists():
        pytest.fail("squid is not installed (scripts/test installs it)")
    result = run_cli("rules", "example:enterprise-dual-stack", "-t", "squid", "--check")
    assert result.code == 0, result
    assert "check: squid accepts the rules" in result.stderr


def test_ads_bypasses_the_proxy_with_the_reason(tmp_path: Path) -> None:
    site = _site(tmp_path, ENTERPRISE + "keep_obsolete: [XM-DEV-04, XM-ADS-01]\n")
    plan = load_plan(site)
    ads = [f for f in plan.flows if f.requirement in ("XM-DEV-04", "XM-ADS-01")]
    assert ads and all(f.requested and f.proxy is None for f in ads)
    assert all(any("not through the proxy: ADS connections" in n for n in f.notes) for f in ads)


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("fortigate", 'set type fqdn\n        set fqdn "rest.nexmo.com"'),
        ("paloalto", "<fqdn>rest.nexmo.com</fqdn>"),
        ("ciscoasa", "object network FQDN_REST_NEXMO_COM_V4\n fqdn v4 rest.nexmo.com"),
        ("srx", "dns-name rest.nexmo.com;"),
    ],
)
def test_fqdn_objects_are_read_back(dual_plan: Plan, target: str, needle: str) -> None:
    out = generate(dual_plan, Scope("firewall", "edge"), target)
    assert not out.errors, out.errors
    assert needle in out.text
    for placeholder in ("240.0.0.1/32", "240.0.0.1 255", "host 240.0.0.1", "100::1/128"):
        assert placeholder not in out.text
    vendor = VENDOR_TARGETS[target]
    from flowmatrix.rules.select import select

    policy = build_policy(select(dual_plan, Scope("firewall", "edge")), vendor)
    raw, _ = run_aerleon(policy, vendor.platform)
    # aerleon's own output (before the objects are added) fails the check, except SRX's
    found = check_fqdn_objects(raw, vendor, policy.fqdns)
    assert bool(found) == (target != "srx"), found
    assert check_fqdn_objects(out.text.replace(needle, ""), vendor, policy.fqdns)


def test_keep_obsolete_opens_what_the_site_keeps(tmp_path: Path) -> None:
    plan = load_plan(_site(tmp_path, example_text("default") + "keep_obsolete: [XM-DEV-08]\n"))
    kept = {f.requirement: f.requested for f in plan.flows if f.status == "obsolete"}
    assert kept == {"XM-DEV-08": True, "XM-DEV-09": False}
    out = generate(plan, Scope("firewall", "fw-back"), "nftables")
    assert "XM-DEV-08.1" in out.text and "# XM-DEV-09.1: left out: obsolete" in out.text
    assert out.counts.left_out == 1
    everything = load_plan(_site(tmp_path, example_text("default") + "keep_obsolete: true\n"))
    assert all(f.requested for f in everything.flows)


def test_the_plan_marks_what_is_not_requested(run_cli: Any) -> None:
    result = run_cli("plan", "-f", "csv")
    row = next(x for x in result.stdout.splitlines() if x.startswith("XM-DEV-08.1,"))
    assert ",obsolete: not requested," in row
    explain = run_cli("plan", "--explain")
    assert "not requested XM-DEV-08.1: obsolete (keep_obsolete: [XM-DEV-08])" in explain.stderr
