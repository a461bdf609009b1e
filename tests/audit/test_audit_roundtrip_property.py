"""The round trip on random sites: zones, one or two firewalls, IPv4 or dual stack,
features on or off, an SMS relay given by name or by address, and (site format 2) a
campus zone around the servers' zone, nested zones, and the gateway published through
NAT on the edge (with or without ports, with or without a source NAT of the core). What ``rules`` writes for
nftables, iptables and ip6tables audits clean: every requested flow allowed (in the
file's family), every other one blocked, nothing wider, unused or shadowed. Bounded:
25 sites, well under a minute."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.rules import Scope, generate

FEATURES = (
    "clustering",
    "ldap",
    "smtp",
    "sms-relay",
    "license-server",
    "syslog",
    "apns",
    "fcm",
    "admin-console",
    "remote-sql",
)
FAMILY = {"iptables": 4, "ip6tables": 6}


@st.composite
def sites(draw: st.DrawFn, nested_zones: bool | None = None) -> dict[str, object]:
    """A random site; ``nested_zones`` True: always two firewalls and the campus around
    the core zone (format 2), False: never, None: either."""
    two = True if nested_zones else draw(st.booleans())
    a, b, c = draw(st.lists(st.integers(1, 250), min_size=3, max_size=3, unique=True))
    zones: dict[str, tuple[str, str]] = {
        "dmz": (f"172.16.{a}.0/24", f"fd00:{a:x}::/64"),
        "core": (f"10.{b}.0.0/16", f"fd00:{b:x}:1::/64"),
    }
    nested = two and (draw(st.booleans()) if nested_zones is None else nested_zones)
    if nested:
        zones["campus"] = ("10.0.0.0/8", "fd00::/24")
    elif two:
        zones["campus"] = (f"10.{c}.0.0/16", f"fd00:{c:x}:2::/64")
    firewalls = (
        [
            {"name": "edge", "zones": ["internet", "dmz"]},
            {"name": "inner", "zones": ["dmz", "core", "campus"]},
        ]
        if two
        else [{"name": "fw", "zones": ["internet", "dmz", "core"]}]
    )
    # one choice for the site: hosts of different families would have flows no rule can
    # render ("no common address family"), which rules rightly refuses; an IPv6-only site
    # cannot reach the catalog's IPv4-only Internet ends (APNs 17.0.0.0/8)
    site_families = draw(st.sampled_from(((4,), (4, 6))))
    families = st.just(site_families)
    hosts: list[dict[str, object]] = []
    counter = iter(range(10, 250))

    def address(zone: str, family: int) -> str:
        v4, v6 = zones[zone]
        n = next(counter)
        if v4.endswith("/8"):  # the campus: 10.0.x and fd00::x lie in no nested zone
            return f"fd00::{n:x}" if family == 6 else f"10.0.1.{n}"
        if family == 6:
            return f"{v6.split('::')[0]}::{n:x}"
        if v4.endswith("/16"):
            return f"{v4.rsplit('.', 2)[0]}.1.{n}"
        return f"{v4.rsplit('.', 1)[0]}.{n}"

    def host(name: str, role: str, zone: str) -> None:
        chosen = draw(families)
        hosts.append({"name": name, "role": role, "addresses": [address(zone, f) for f in chosen]})

    vip_families = draw(families)
    hosts.append(
        {
            "name": "gw",
            "role": "netscaler-gateway",
            "netscaler": {
                "nsip": address("dmz", site_families[0]),
                "vip": [address("dmz", f) for f in vip_families],
                "snip": [address("dmz", f) for f in vip_families],
            },
        }
    )
    for index in range(draw(st.integers(1, 3))):
        host(f"xms{index + 1}", "xenmobile", "core")
    host("dns1", "dns-server", draw(st.sampled_from(["core", "dmz"])))
    features = {name: draw(st.booleans()) for name in FEATURES}
    if features["ldap"]:
        host("dc1", "ldap-server", "core")
    if features["smtp"]:
        host("mail", "smtp-server", "core")
    if features["syslog"]:
        host("logs", "syslog-server", "core")
    if features["admin-console"]:
        host("admin", "admin-browser", "campus" if two else "core")
    if features["remote-sql"]:
        host("sql", "sql-server", "core")
    if features["license-server"]:
        host("lic", "license-server", "core")
    if features["sms-relay"]:
        if draw(st.booleans()):
            hosts.append(
                {"name": "sms", "role": "sms-relay", "fqdn": "sms.example.net", "zone": "internet"}
            )
        else:
            hosts.append(
                {
                    "name": "sms",
                    "role": "sms-relay",
                    "addresses": [
                        {4: "198.51.100.7", 6: "2001:db8:51::7"}[f] for f in site_families
                    ],
                    "zone": "internet",
                }
            )
    if two and draw(st.booleans()):
        hosts.append(
            {
                "name": "campus-devices",
                "role": "devices-lan",
                "addresses": [
                    (("10.0.0.0/16", "fd00:0:1::/64") if nested else zones["campus"])[
                        0 if f == 4 else 1
                    ]
                    for f in site_families
                ],
            }
        )
    if nested:  # format 2 writes a host's roles as a list
        for item in hosts:
            item["roles"] = [item.pop("role")]
    if nested and draw(st.booleans()):  # format 2: the gateway published through NAT
        published: dict[str, object] = {
            "public": f"203.0.113.{draw(st.integers(1, 99))}",
            "to": hosts[0]["netscaler"]["vip"][0],  # type: ignore[index]
        }
        if draw(st.booleans()):
            published["ports"] = [443, 8443]
        nat: dict[str, object] = {"destination": [published]}
        if draw(st.booleans()):
            leaves = draw(st.sampled_from(["203.0.113.200", "masquerade"]))
            nat["source"] = [{"from": "core", "as": leaves}]
        firewalls[0]["nat"] = nat
    return {
        "version": 2 if nested else 1,
        "name": "random site",
        "zones": [{"name": "internet", "internet": True}]
        + [{"name": name, "cidrs": list(cidrs)} for name, cidrs in zones.items()],
        "firewalls": firewalls,
        "hosts": hosts,
        "features": {**features, "xenapp": False, "storefront": False, "intranet-vpn": False},
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(site=sites())
def test_random_sites_round_trip(
    tmp_path_factory: pytest.TempPathFactory, site: dict[str, object]
) -> None:
    _round_trip(tmp_path_factory, site)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(site=sites(nested_zones=True))
def test_random_sites_with_nested_zones_round_trip(
    tmp_path_factory: pytest.TempPathFactory, site: dict[str, object]
) -> None:
    assert site["version"] == 2
    _round_trip(tmp_path_factory, site)


def _round_trip(tmp_path_factory: pytest.TempPathFactory, site: dict[str, object]) -> None:
    folder = tmp_path_factory.mktemp("site")
    path = folder / "site.yaml"
    path.write_text(json.dumps(site), "utf-8")  # JSON is YAML
    plan = load_plan(path)
    flows = {f.id: f for f in plan.flows}
    for firewall in plan.site.firewalls:
        allowed: set[tuple[str, int]] = set()
        for target in ("nftables", "iptables", "ip6tables"):
            out = generate(plan, Scope("firewall", firewall.name), target)
            assert not out.errors, (target, out.errors)
            rules = folder / f"{firewall.name}.{target}"
            rules.write_text(out.text, "utf-8")
            report = audit(
                None, ruleset=rules, firewall=firewall.name, plan=plan, nft_reader="text"
            )
            assert not report.problems
            for result in report.flows:
                where = (firewall.name, target, result.flow_id, result.port, result.status)
                if result.status == "unresolved":
                    assert target in FAMILY, where
                    continue
                assert result.status == (
                    "allowed" if flows[result.flow_id].requested else "blocked"
                ), where
                if result.status == "allowed":
                    allowed.add((result.flow_id, result.port))
            assert [(w.rule.where, w.reasons) for w in report.wide_rules] == [], target
            assert [u.where for u in report.unused_rules] == [], target
            assert [(d.rule.where, d.reason) for d in report.dead_rules] == [], target
        wanted = {
            (f.id, port)
            for f in plan.flows_through(firewall.name)
            if f.requested
            for port in f.ports
        }
        assert wanted <= allowed, firewall.name
