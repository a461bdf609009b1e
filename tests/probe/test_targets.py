"""Plan + selection -> probe targets: only what the plan names, never anything else.

No packet is sent here: the local addresses are given, not read from this host.
"""

from __future__ import annotations

import ipaddress

import pytest

from flowmatrix.api import load_plan
from flowmatrix.errors import UserError
from flowmatrix.model import Plan
from flowmatrix.probe.results import ProbeResult
from flowmatrix.probe.targets import ProbeTarget, Selection, build_targets

SITE = """\
version: 1
name: targets
zones:
  - {name: internet, internet: true}
  - {name: dmz, cidrs: [192.0.2.0/24]}
  - {name: servers, cidrs: [198.51.100.0/24, "2001:db8:1::/64"]}
  - {name: lan, cidrs: [203.0.113.0/24]}
firewalls:
  - {name: fw, zones: [internet, dmz, servers, lan]}
hosts:
  - name: nsg1
    role: netscaler-gateway
    fqdn: gw.example.test
    netscaler: {nsip: 192.0.2.5, vip: [192.0.2.10], snip: [192.0.2.20]}
  - {name: xms1, role: xenmobile, addresses: [198.51.100.11], fqdn: xms1.example.test}
  - {name: xms2, role: xenmobile, addresses: [198.51.100.12, "2001:db8:1::12"]}
  - {name: dc1, role: ldap-server, addresses: [198.51.100.41]}
  - {name: dns1, role: dns-server, addresses: [198.51.100.42]}
  - {name: lan, role: devices-lan, addresses: [203.0.113.0/24]}
features: {clustering: true, fcm: true, apns: true}
flows:
  - {name: out, source: xms1, destination: internet, ports: [443]}
  - {name: to-lan, source: xms1, destination: lan, ports: [5000]}
"""


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    path = tmp_path_factory.mktemp("targets") / "site.yaml"
    path.write_text(SITE)
    return load_plan(str(path))


def ip(*texts: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(t) for t in texts]


def targets_of(entries: tuple[ProbeTarget | ProbeResult, ...]) -> list[ProbeTarget]:
    return [e for e in entries if isinstance(e, ProbeTarget)]


def skipped_of(entries: tuple[ProbeTarget | ProbeResult, ...]) -> list[ProbeResult]:
    return [e for e in entries if isinstance(e, ProbeResult)]


def test_auto_matches_this_hosts_address(plan: Plan) -> None:
    chosen = build_targets(plan, Selection(), local=ip("127.0.0.1", "198.51.100.11"))
    assert chosen.source_label == "this host (matched by address)"
    flows = {t.flow_id for t in chosen.targets}
    assert flows and all(plan.flow(f).source.role == "xenmobile" for f in flows)
    for target in chosen.targets:
        assert target.source_host == "xms1"
        if ":" not in (target.address or ""):
            assert target.source_address == "198.51.100.11"
    # only the plan's addresses (or names) are ever targets
    planned = {a for f in plan.flows for h in f.destination.hosts for a in h.addresses}
    for target in chosen.targets:
        assert target.address is None or target.address in planned
        assert target.address is not None or target.server_name


def test_cluster_peer_is_probed_but_not_the_host_itself(plan: Plan) -> None:
    chosen = build_targets(plan, Selection(flows=("XM-APP-23",)), local=ip("198.51.100.11"))
    hosts = {t.host for t in chosen.targets}
    assert hosts == {"xms2"}
    addresses = {t.address for t in chosen.targets}
    assert addresses == {"198.51.100.12", "2001:db8:1::12"}
    v6 = next(t for t in chosen.targets if t.address == "2001:db8:1::12")
    assert v6.source_address is None  # xms1 has no IPv6 address in the plan
    itself = [r for r in skipped_of(chosen.entries) if r.destination_host == "xms1"]
    assert itself and all(r.reason == "the destination is the source host itself" for r in itself)


def test_netscaler_flows_leave_from_the_right_address(plan: Plan) -> None:
    here = ip("192.0.2.5", "192.0.2.10", "192.0.2.20")
    chosen = build_targets(plan, Selection(source="netscaler-gateway"), local=here)
    by_flow = {t.flow_id: t for t in chosen.targets}
    ldap = next(t for f, t in by_flow.items() if f.startswith("XM-APP-06"))
    assert ldap.source_address == "192.0.2.5"  # authentication leaves from the NSIP
    backend = next(t for t in chosen.targets if t.destination_role == "xenmobile")
    assert backend.source_address == "192.0.2.20"  # back-end traffic from the SNIP
    assert chosen.warnings == ()


def test_a_role_not_on_this_host_is_probed_with_a_warning(plan: Plan) -> None:
    chosen = build_targets(plan, Selection(source="netscaler-gateway"), local=ip("127.0.0.1"))
    assert chosen.targets
    assert all(t.source_address is None for t in chosen.targets)
    assert chosen.warnings and "firewalls will see this host's own address" in chosen.warnings[0]


def test_fqdn_destinations_are_resolved_networks_are_not_probed(plan: Plan) -> None:
    chosen = build_targets(plan, Selection(to="apns"), local=ip("198.51.100.11"))
    names = {t.server_name for t in chosen.targets}
    assert "api.push.apple.com" in names
    for target in chosen.targets:
        assert target.address is None  # 17.0.0.0/8 is documented, the name is probed
        assert "17.0.0.0/8" in target.documented
    wildcard = [r for r in skipped_of(chosen.entries) if r.fqdn == "*.push.apple.com"]
    assert wildcard and "wildcard" in wildcard[0].reason
    obsolete = [t for t in chosen.targets if t.port in {2195, 2196}]
    assert obsolete and not any(t.required for t in obsolete)
    assert all(t.required for t in chosen.targets if t.port == 443)


def test_any_address_and_network_destinations_are_reported(plan: Plan) -> None:
    chosen = build_targets(
        plan, Selection(flows=("SITE-out", "SITE-to-lan")), local=ip("198.51.100.11")
    )
    assert chosen.targets == ()
    reasons = {r.flow: r.reason for r in skipped_of(chosen.entries)}
    assert "any address in zone internet" in reasons["SITE-out.1"]
    assert reasons["SITE-to-lan.1"] == (
        "a network (203.0.113.0/24), not a host: give host addresses to probe it"
    )
    assert all(r.state == "not_probed" for r in skipped_of(chosen.entries))


def test_tls_follows_the_plan_per_port(plan: Plan) -> None:
    chosen = build_targets(plan, Selection(to="xenmobile"), local=ip("192.0.2.20"))
    by_port = {t.port: t.tls for t in chosen.targets}
    assert by_port[8443] is True
    sni = {t.server_name for t in chosen.targets if t.host == "xms1"}
    assert sni == {"xms1.example.test"}


def test_to_and_flow_filters(plan: Plan) -> None:
    chosen = build_targets(plan, Selection(to="dns-server"), local=ip("127.0.0.1"))
    assert {t.destination_role for t in chosen.targets} == {"dns-server"}
    assert {t.protocol for t in chosen.targets} == {"tcp", "udp"}
    single = build_targets(plan, Selection(flows=("XM-APP-02.1",)), local=ip("127.0.0.1"))
    assert {t.flow_id for t in single.targets} == {"XM-APP-02.1"}


@pytest.mark.parametrize(
    ("selection", "message", "hint"),
    [
        (Selection(source="xenmobil"), "unknown source 'xenmobil'", "did you mean 'xenmobile'"),
        (Selection(flows=("XM-APP-6",)), "no flow or requirement 'XM-APP-6'", "did you mean"),
        (Selection(to="dns-srv"), "no flow goes to 'dns-srv'", "'dns-server'"),
        (Selection(source="dc1"), "'dc1' is the source of no flow", "sources:"),
        (Selection(), "nothing to probe", "--from ROLE|HOST"),
    ],
)
def test_bad_selections_are_user_errors(
    plan: Plan, selection: Selection, message: str, hint: str
) -> None:
    with pytest.raises(UserError) as caught:
        build_targets(plan, selection, local=ip("127.0.0.1", "10.9.8.7"))
    assert message in caught.value.message
    assert caught.value.hint is not None and hint in caught.value.hint


def test_no_local_match_lists_this_hosts_addresses(plan: Plan) -> None:
    with pytest.raises(UserError) as caught:
        build_targets(plan, Selection(source="auto"), local=ip("127.0.0.1", "10.9.8.7"))
    assert caught.value.hint is not None and "10.9.8.7" in caught.value.hint


def test_source_cidr_matches_without_binding(plan: Plan) -> None:
    chosen = build_targets(plan, Selection(), local=ip("203.0.113.77"))
    assert chosen.targets
    assert all(t.source_host == "lan" and t.source_address is None for t in chosen.targets)


def test_targets_never_include_unplanned_addresses(plan: Plan) -> None:
    """Whatever the selection, every target address comes from the plan's destinations."""
    planned = {a for f in plan.flows for h in f.destination.hosts for a in h.addresses}
    for source in ("xenmobile", "netscaler-gateway", "devices-lan", "internet"):
        chosen = build_targets(plan, Selection(source=source), local=ip("127.0.0.1"))
        for target in chosen.targets:
            assert target.address is None or target.address in planned
