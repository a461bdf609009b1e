"""Other vendors through aerleon, with its known faults guarded."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from ruamel.yaml import YAML
from tests.rules.dnsserver import dns_server

from flowmatrix.api import example_names, load_plan
from flowmatrix.errors import UserError
from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.named_ends import support
from flowmatrix.rules.select import select
from flowmatrix.rules.target_views import FIREWALL_TARGETS, NATIVE_TARGETS
from flowmatrix.rules.vendors import VENDOR_TARGETS, AerleonPolicy, run_aerleon

VENDORS = [t for t in FIREWALL_TARGETS if t not in NATIVE_TARGETS]


def scopes(plan: Plan, target: str) -> list[Scope]:
    found = [Scope("host", h.name) for h in plan.site.hosts[:4]]
    if not VENDOR_TARGETS[target].host_only:
        found += [Scope("firewall", f.name) for f in plan.site.firewalls]
    return found


def test_vendor_table_matches_the_target_list() -> None:
    assert set(VENDOR_TARGETS) == set(VENDORS)


#: What the local DNS responder answers for every name the shipped examples match.
ANSWERS = {"rest.nexmo.com": ["198.51.100.25", "2001:db8:51::25"]}


def _plan_names(plan: Plan) -> set[str]:
    return {
        name
        for flow in plan.flows
        if flow.requested
        for end in (flow.source, flow.destination)
        if not end.any_address
        for name in end.names
    }


@pytest.mark.parametrize("target", VENDORS)
def test_every_planned_flow_is_in_every_output(target: str) -> None:
    """Every example, every scope: every requested flow is in the output, names as the
    platform's FQDN objects (read back); a platform without them misses exactly the
    flows to names, and gets them with --resolve."""
    fqdn = support(target) != "none"
    for example in example_names():
        plan = load_plan(None if example == "default" else f"example:{example}")
        assert _plan_names(plan) <= set(ANSWERS), example
        for scope in scopes(plan, target):
            out = generate(plan, scope, target)
            named = {
                s.flow.id
                for s in select(plan, scope).specs
                if s.renderable and (s.source.names or s.destination.names)
            }
            if fqdn or not named:
                assert not out.errors, (example, scope, out.errors)
            else:
                assert {f.flow for f in out.errors} == named, (example, scope)
                assert all("has no FQDN objects" in f.message for f in out.errors)
                with dns_server(ANSWERS) as resolver:
                    out = generate(plan, scope, target, resolve=True, resolver=resolver)
                assert not out.errors, (example, scope, out.errors)
                assert "198.51.100.25" in out.text or target in ("gce", "k8s")
            if fqdn and named:
                assert "rest.nexmo.com" in out.text, (example, scope)
            renderable = {s for s in out.findings if s.severity == "warning"}
            assert out.rules > 0 or renderable, (example, scope)


@pytest.mark.parametrize("target", VENDORS)
def test_same_input_same_bytes_and_no_revision_keywords(dual_plan: Plan, target: str) -> None:
    scope = scopes(dual_plan, target)[0]
    first = generate(dual_plan, scope, target).text
    assert generate(dual_plan, scope, target).text == first
    assert "$Id:" not in first and "$Date:" not in first and "$Revision:" not in first
    assert str(dt.date.today().year) not in first


def test_asa_ipv6_is_rendered(dual_plan: Plan) -> None:
    out = generate(dual_plan, Scope("firewall", "edge"), "ciscoasa")
    assert not out.errors
    lines = out.text.splitlines()
    deny = "access-list edge-v6 extended deny tcp fd00:40::/48 host fd00:20:1::10 eq https"
    permit = "access-list edge-v6 extended permit tcp any host fd00:20:1::10 eq https"
    assert lines.index(deny) < lines.index(permit)


def test_windows_is_split_per_family(dual_plan: Plan) -> None:
    out = generate(dual_plan, Scope("host", "xms1"), "windows_advfirewall")
    for line in out.text.splitlines():
        if "add rule" in line:
            addresses = [
                w.split("=", 1)[1] for w in line.split() if w.startswith(("localip=", "remoteip="))
            ]
            families = {":" in a for a in ",".join(addresses).split(",") if a != "any"}
            assert len(families) <= 1, line


def test_windows_is_host_only(default_plan: Plan) -> None:
    with pytest.raises(UserError, match="host firewall"):
        generate(default_plan, Scope("firewall", "fw-front"), "windows_advfirewall")


def test_structured_outputs_parse(dual_plan: Plan) -> None:
    ET.fromstring(generate(dual_plan, Scope("firewall", "edge"), "paloalto").text)
    rules = json.loads(generate(dual_plan, Scope("firewall", "edge"), "gce").text)
    assert {r["direction"] for r in rules} == {"INGRESS"}
    document = YAML(typ="safe", pure=True).load(
        generate(dual_plan, Scope("host", "xms1"), "k8s").text
    )
    assert document["kind"] == "NetworkPolicyList"


def test_zone_targets_use_the_hop_zones(default_plan: Plan) -> None:
    text = generate(default_plan, Scope("firewall", "fw-back"), "srx").text
    assert "from-zone dmz to-zone servers {" in text
    assert "from-zone servers to-zone dmz {" in text
    forti = generate(default_plan, Scope("firewall", "fw-back"), "fortigate").text
    assert 'set srcintf "eth3"' in forti  # the site's interface for lan-wifi


def test_aerleon_log_warnings_become_findings(default_plan: Plan) -> None:
    # an expired term makes aerleon log a warning and nothing else
    policy = AerleonPolicy(
        policy={
            "filename": "x",
            "filters": [
                {
                    "header": {"targets": {"cisco": "x extended"}},
                    "terms": [
                        {
                            "name": "old",
                            "protocol": "tcp",
                            "destination-port": "WEB",
                            "action": "accept",
                            "expiration": "2001-01-01",
                        }
                    ],
                }
            ],
        },
        definitions={"networks": {}, "services": {"WEB": [{"port": "443", "protocol": "tcp"}]}},
        terms=[],
        notes=[],
    )
    text, warnings = run_aerleon(policy, "cisco")
    # aerleon drops the term and says so only in its log
    assert "permit" not in text
    assert any("expired" in w for w in warnings)


def test_aerleon_errors_are_user_errors() -> None:
    policy = AerleonPolicy(
        policy={
            "filename": "x",
            "filters": [
                {
                    "header": {"targets": {"srx": "from-zone a"}},
                    "terms": [{"name": "t", "action": "accept"}],
                }
            ],
        },
        definitions={"networks": {}, "services": {}},
        terms=[],
        notes=[],
    )
    with pytest.raises(UserError, match="aerleon could not generate"):
        run_aerleon(policy, "srx")
