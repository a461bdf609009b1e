"""Site format version 2: several roles per host, a site's own roles, and the upgrade of a
version 1 file (comments and layout kept, the same plan)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audit.clean import assert_audits_clean, audit_generated
from flowmatrix.api import example_names, example_text, load_plan, site_from_text
from flowmatrix.export import plan_to_dict
from flowmatrix.fleet.inventory import inventory_document
from flowmatrix.fleet.sources import source_hosts
from flowmatrix.rules import Scope, generate
from flowmatrix.siteupgrade import upgrade_text

HOSPITAL = """\
version: 2
name: hospital
zones:
  - name: internet
    internet: true
  - name: dmz
    cidrs: [172.16.10.0/24]
  - name: srv
    cidrs: [10.31.8.0/23]
firewalls:
  - name: fw1
    zones: [internet, dmz, srv]
roles:
  - id: exchange-server      # ActiveSync behind the NetScaler
    name: {fr: Serveur Exchange, en: Exchange server}
hosts:
  - name: xms1
    roles: [xenmobile]
    addresses: [172.16.10.10]
  - name: ad-dc1
    roles: [ldap-server, dns-server]   # one box, two jobs
    addresses: [10.31.8.10]
  - name: exch1
    roles: [exchange-server]
    addresses: [10.31.8.20]
flows:
  - name: activesync
    source: xenmobile
    destination: exchange-server
    ports: [443]
"""

V1 = """\
# hospital site
version: 1   # format
name: hospital
zones:
  - name: internet
    internet: true
  - name: srv
    cidrs: [10.31.8.0/23]
firewalls:
  - {name: fw1, zones: [internet, srv]}
hosts:
  - name: xms1
    role: xenmobile        # the MDM
    addresses: [10.31.8.5]
  - {name: dc1, role: ldap-server, addresses: [10.31.8.10]}
  - name: dns1
    # the resolver
    role: "dns-server"
    addresses: [10.31.8.11]
"""


def _site_file(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def hospital(tmp_path: Path) -> Path:
    return _site_file(tmp_path, "hospital", HOSPITAL)


def _flows(plan_source: Any) -> list[dict[str, Any]]:
    flows: list[dict[str, Any]] = plan_to_dict(plan_source)["flows"]
    return flows


def test_a_host_in_two_roles_is_an_end_of_both(hospital: Path) -> None:
    plan = load_plan(hospital)
    to_dc = {f.requirement for f in plan.flows if "ad-dc1" in [h.name for h in f.destination.hosts]}
    assert {"XM-APP-02", "XM-APP-06"} <= to_dc  # DNS and LDAP to the same box
    rules = generate(plan, Scope("host", "ad-dc1"), "iptables").text
    assert "--dport 53 " in rules and "--dport 389 " in rules


def test_a_site_role_is_a_role_of_the_plan(hospital: Path, run_cli: Any) -> None:
    plan = load_plan(hospital, lang="fr")
    (activesync,) = [f for f in plan.flows if f.requirement == "SITE-activesync"]
    assert activesync.destination.role == "exchange-server"
    assert activesync.destination.role_name == "Serveur Exchange"
    assert [h.name for h in activesync.destination.hosts] == ["exch1"]
    shown = run_cli("catalog", "--roles", "--site", str(hospital), "-f", "json")
    assert shown.code == 0, shown
    assert {"id": "exchange-server", "name": "Exchange server"}.items() <= next(
        r for r in json.loads(shown.stdout) if r["id"] == "exchange-server"
    ).items()


def test_the_inventory_puts_a_host_in_each_of_its_roles(hospital: Path) -> None:
    two_jobs = hospital.read_text("utf-8").replace(
        "    roles: [xenmobile]\n", "    roles: [xenmobile, admin-browser]\n"
    )
    hospital.write_text(two_jobs, "utf-8")
    hosts = source_hosts(load_plan(hospital))
    assert next(h for h in hosts if h.name == "xms1").roles == ("xenmobile", "admin-browser")
    groups = inventory_document(hosts)["all"]["children"]
    children = next(iter(groups.values()))["children"]
    with_xms = sorted(name for name, group in children.items() if "xms1" in group["hosts"])
    assert with_xms == ["admin_browser", "xenmobile"]


def test_upgrade_changes_only_the_version_and_the_roles() -> None:
    upgraded = upgrade_text(V1, "v1.yaml")
    assert upgraded.changed and upgraded.old_version == 1 and upgraded.hosts == 3
    assert upgraded.text == (
        V1.replace("version: 1 ", "version: 2 ")
        .replace("    role: xenmobile        # the MDM", "    roles: [xenmobile]     # the MDM")
        .replace("{name: dc1, role: ldap-server,", "{name: dc1, roles: [ldap-server],")
        .replace('    role: "dns-server"', '    roles: ["dns-server"]')
    )
    assert upgrade_text(upgraded.text, "v2.yaml").changed is False


V1_EXAMPLES = [n for n in example_names() if "\nversion: 1\n" in example_text(n)]


def test_version_2_examples_need_no_upgrade() -> None:
    v2 = [n for n in example_names() if n not in V1_EXAMPLES]
    assert v2 == ["hospital"]
    assert not upgrade_text(example_text("hospital"), "hospital").changed


@pytest.mark.parametrize("name", V1_EXAMPLES)
def test_upgrading_each_example_gives_the_same_plan(name: str) -> None:
    text = example_text(name)
    upgraded = upgrade_text(text, name)
    before = site_from_text(text, name)
    after = site_from_text(upgraded.text, name)
    assert before.site.version == 1 and after.site.version == 2
    changed = [
        (a, b) for a, b in zip(text.splitlines(), upgraded.text.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1 + upgraded.hosts == 1 + len(before.site.hosts)
    assert all(b == a.replace("role: ", "roles: [", 1).rstrip() + "]" for a, b in changed[1:])
    old, new = load_plan(f"example:{name}"), load_plan_from_text(upgraded.text)
    assert _flows(old) == _flows(new)


def load_plan_from_text(text: str) -> Any:
    from flowmatrix.api import _plan_of

    return _plan_of(site_from_text(text, "upgraded"), "en")


def test_upgrade_on_the_command_line(tmp_path: Path, run_cli: Any) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(V1, "utf-8")
    result = run_cli("site", "upgrade", str(site), "-o", str(site))
    assert result.code == 0, result
    assert "version 1 -> 2; 3 host(s) now list their roles" in result.stderr
    assert site.read_text("utf-8").startswith("# hospital site\nversion: 2   # format\n")
    again = run_cli("site", "upgrade", str(site))
    assert again.code == 0 and again.stdout == site.read_text("utf-8")
    assert "already version 2, nothing to change" in again.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(V1.replace("role: xenmobile", "role: xenmobil"), "utf-8")
    refused = run_cli("site", "upgrade", str(bad), "-o", str(tmp_path / "out.yaml"))
    assert refused.code == 2
    assert "bad.yaml:13:5: unknown role 'xenmobil'" in refused.stderr
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize(
    ("address", "nearest"),
    [
        ("10.99.0.10", "srv (10.31.8.0/23)"),  # RFC 1918
        ("100.64.3.1", "srv (10.31.8.0/23)"),  # shared address space (CGNAT)
        ("172.16.11.5", "dmz (172.16.10.0/24)"),
    ],
)
def test_a_private_address_in_the_internet_zone_is_a_located_warning(
    hospital: Path, run_cli: Any, address: str, nearest: str
) -> None:
    hospital.write_text(HOSPITAL.replace("[10.31.8.10]", f"[{address}]"), "utf-8")
    plan = load_plan(hospital)
    (warning,) = plan.warnings
    assert warning == (
        f"{hospital}:22:17: host 'ad-dc1': private address {address} is in no declared "
        f"zone, so it counts as the Internet (internet) (hint: nearest zone: {nearest}; "
        "add its network to a zone's cidrs, or fix the address)"
    )
    assert run_cli("plan", str(hospital), "-o", str(hospital.with_suffix(".csv"))).code == 0
    strict = run_cli("plan", str(hospital), "--strict", "-o", str(hospital.with_suffix(".csv")))
    assert strict.code == 1 and f"warning: {warning}" in strict.stderr
    rules = run_cli("rules", str(hospital), "-F", "fw1", "--strict", "-o", str(hospital) + ".nft")
    assert rules.code == 1 and f"warning: {warning}" in rules.stderr


def test_public_and_declared_addresses_give_no_warning(hospital: Path) -> None:
    assert load_plan(hospital).warnings == ()
    hospital.write_text(HOSPITAL.replace("[10.31.8.10]", "[198.51.100.7]"), "utf-8")
    assert load_plan(hospital).warnings == ()  # a public address on the Internet is normal


def test_an_excluded_requirement_is_left_out_with_its_reason(
    hospital: Path, run_cli: Any, tmp_path: Path
) -> None:
    reason = "LDAPS only (XM-APP-15)"
    hospital.write_text(
        HOSPITAL.replace("flows:\n", f"exclude:\n  XM-APP-06: {reason}\nflows:\n", 1), "utf-8"
    )
    plan = load_plan(hospital)
    assert not [f for f in plan.flows if f.requirement == "XM-APP-06"]
    assert ("XM-APP-06", f"excluded by the site: {reason}") in [
        (s.requirement, s.reason) for s in plan.skipped
    ]
    explained = run_cli("plan", str(hospital), "--explain", "-o", str(tmp_path / "p.csv"))
    assert f"  left out XM-APP-06: excluded by the site: {reason}" in explained.stderr
    html = tmp_path / "r.html"
    assert run_cli("report", str(hospital), "-o", str(html)).code == 0
    assert f"XM-APP-06</span>: excluded by the site: {reason}" in html.read_text("utf-8")
    xlsx = tmp_path / "r.xlsx"
    assert run_cli("report", str(hospital), "-f", "xlsx", "-o", str(xlsx)).code == 0
    import openpyxl

    summary = openpyxl.load_workbook(xlsx).worksheets[0]
    cells = [str(c) for row in summary.iter_rows(values_only=True) for c in row if c]
    assert f"XM-APP-06: excluded by the site: {reason}" in cells
    without = load_plan_from_text(HOSPITAL)
    assert [f for f in without.flows if f.requirement == "XM-APP-06"]  # on by default


NETSCALER_SITE = """\
version: 2
name: ns sites
zones:
  - {name: internet, internet: true}
  - {name: dmz, cidrs: [172.16.10.0/24]}
  - {name: srv, cidrs: [10.31.8.0/23]}
  - {name: admin, cidrs: [10.40.0.0/24]}
firewalls:
  - {name: fw1, zones: [internet, dmz, srv, admin]}
roles:
  - id: exchange-server
    name: {fr: Serveur Exchange, en: Exchange server}
hosts:
  - name: nsg1
    roles: [netscaler-gateway]
    netscaler: {nsip: 172.16.10.5, vip: [172.16.10.10], snip: [172.16.10.20]}
  - name: exch1
    roles: [exchange-server]
    addresses: [10.31.8.20]
  - name: sf1
    roles: [storefront]
    addresses: [10.31.8.30]
  - name: admins
    roles: [admin-browser]
    addresses: [10.40.0.0/24]
flows:
  - {name: activesync, source: nsg1, destination: exchange-server, ports: [443]}
  - {name: admin-ns, source: admins, destination: nsg1, ports: [443, 22]}
  - {name: sf-callback, source: nsg1, destination: sf1, ports: [443], via: vip}
"""


def test_site_flows_use_the_netscaler_address_that_fits() -> None:
    plan = load_plan_from_text(NETSCALER_SITE)
    used = {
        f.requirement: (f.source.addresses, f.destination.addresses)
        for f in plan.flows
        if f.requirement.startswith("SITE-")
    }
    assert used == {
        "SITE-activesync": (("172.16.10.20",), ("10.31.8.20",)),  # from the SNIP
        "SITE-admin-ns": (("10.40.0.0/24",), ("172.16.10.5",)),  # admins to the NSIP
        "SITE-sf-callback": (("172.16.10.10",), ("10.31.8.30",)),  # 'via: vip' chosen
    }
    # version 1 keeps its meaning: a site flow uses the VIP
    v1 = NETSCALER_SITE.replace("version: 2", "version: 1").replace(", via: vip", "")
    v1 = v1.replace("roles:\n  - id: exchange-server\n", "").replace(
        "    name: {fr: Serveur Exchange, en: Exchange server}\n", ""
    )
    v1 = v1.replace("roles: [exchange-server]", "role: netscaler-connector")
    v1 = v1.replace("destination: exchange-server", "destination: exch1")
    for name, roles in (("nsg1", "netscaler-gateway"), ("sf1", "storefront")):
        v1 = v1.replace(
            f"  - name: {name}\n    roles: [{roles}]", f"  - name: {name}\n    role: {roles}"
        )
    v1 = v1.replace("roles: [admin-browser]", "role: admin-browser")
    old = load_plan_from_text(v1)
    assert {f.source.addresses for f in old.flows if f.requirement == "SITE-activesync"} == {
        ("172.16.10.10",)
    }


PUBLISHED = """\
version: 2
name: published through the NetScaler
zones:
  - {name: internet, internet: true}
  - {name: dmz, cidrs: [172.16.10.0/24]}
  - {name: srv, cidrs: [10.31.8.0/23]}
firewalls:
  - {name: fw-front, zones: [internet, dmz]}
  - {name: fw-back, zones: [dmz, srv]}
publish:
  xenmobile: netscaler-lb
hosts:
  - name: nsg1
    roles: [netscaler-gateway]
    netscaler: {nsip: 172.16.10.5, vip: [172.16.10.10], snip: [172.16.10.20]}
  - name: xms1
    roles: [xenmobile]
    addresses: [10.31.8.11]
  - name: xms2
    roles: [xenmobile]
    addresses: [10.31.8.12]
"""


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return _site_file(tmp_path, "published", PUBLISHED)


def test_publishing_through_the_load_balancer_makes_two_legs(published: Path) -> None:
    plan = load_plan(published)
    assert not [
        f for f in plan.flows if f.source.zone == "internet" and f.destination.role == "xenmobile"
    ]
    internet = [
        f
        for f in plan.flows
        if f.source.role == "internet" and any("load-balancing" in n for n in f.notes)
    ]
    assert internet and all(f.destination.addresses == ("172.16.10.10",) for f in internet)
    assert all(f.firewalls == ("fw-front",) for f in internet)  # never straight to XenMobile
    to_servers = [
        f for f in plan.flows if f.destination.role == "xenmobile" and f.source.zone == "dmz"
    ]
    for flow in internet:  # each Internet leg has its SNIP leg, serving the same requirement
        legs = [
            f for f in to_servers if f.requirement == flow.requirement and f.ports == flow.ports
        ]
        assert len(legs) == 1, flow.id
        assert legs[0].source.addresses == ("172.16.10.20",)
        assert legs[0].destination.addresses == ("10.31.8.11", "10.31.8.12")
    assert {f.requirement for f in internet} >= {"XM-APP-10", "XM-DEV-06", "XM-DEV-11"}
    direct = load_plan_from_text(PUBLISHED.replace("netscaler-lb", "direct"))
    assert any(
        f.source.role == "internet" and f.destination.role == "xenmobile" for f in direct.flows
    )


@pytest.mark.parametrize("target", ["nftables", "iptables"])
@pytest.mark.parametrize("firewall", ["fw-front", "fw-back"])
def test_published_rules_audit_clean(
    published: Path, tmp_path: Path, firewall: str, target: str
) -> None:
    plan = load_plan(published)
    assert_audits_clean(audit_generated(plan, firewall, target, tmp_path), plan, target)


@pytest.mark.kernel
def test_the_lab_rehearses_the_published_site(published: Path, run_cli: Any) -> None:
    result = run_cli("lab", str(published), "-f", "json", "--timeout", "0.5")
    assert result.code == 0, result
    document = json.loads(result.stdout)
    proved = {r["flow"] for r in document["results"] if r["ok"]}
    assert {"XM-APP-10.1", "XM-APP-10.2"} <= proved  # to the VIP, and from the SNIP


CITRIX_APPS = """\
version: 2
name: citrix apps
zones:
  - {name: internet, internet: true}
  - {name: dmz, cidrs: [172.16.10.0/24]}
  - {name: srv, cidrs: [10.31.8.0/23]}
firewalls:
  - {name: fw-front, zones: [internet, dmz]}
  - {name: fw-back, zones: [dmz, srv]}
features: {xenapp: true}
hosts:
  - name: nsg1
    roles: [netscaler-gateway]
    netscaler: {nsip: 172.16.10.5, vip: [172.16.10.10], snip: [172.16.10.20]}
  - name: sf1
    roles: [storefront]
    addresses: [10.31.8.30]
  - name: ddc1
    roles: [xenapp-xendesktop]
    kind: controller
    addresses: [10.31.8.40]
  - name: vdas
    roles: [xenapp-xendesktop]
    kind: vda
    addresses: [10.31.9.0/24]
  - name: xms1
    roles: [xenmobile]
    addresses: [10.31.8.11]
"""


def _xenapp_ends(text: str) -> dict[str, set[str]]:
    plan = load_plan_from_text(text)
    ends: dict[str, set[str]] = {}
    for flow in plan.flows:
        if flow.destination.role == "xenapp-xendesktop":
            ends.setdefault(flow.requirement, set()).update(h.name for h in flow.destination.hosts)
    return ends


def test_controllers_get_xml_and_sta_vdas_get_ica_and_cgp() -> None:
    assert _xenapp_ends(CITRIX_APPS) == {
        "XM-APP-04": {"ddc1"},  # XML and STA: the Delivery Controllers
        "XM-APP-16": {"vdas"},  # ICA: the session hosts
        "XM-APP-18": {"vdas"},  # session reliability (CGP)
    }
    both = CITRIX_APPS.replace("    kind: controller\n", "").replace("    kind: vda\n", "")
    assert _xenapp_ends(both) == {
        r: {"ddc1", "vdas"} for r in ("XM-APP-04", "XM-APP-16", "XM-APP-18")
    }
    no_vda = CITRIX_APPS.replace("    kind: vda\n", "    kind: controller\n")
    assert set(_xenapp_ends(no_vda)) == {"XM-APP-04"}
    plan = load_plan_from_text(no_vda)
    assert ("XM-APP-16", "no host has destination role 'xenapp-xendesktop' (vda)") in [
        (s.requirement, s.reason) for s in plan.skipped
    ]
