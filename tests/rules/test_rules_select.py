"""From the plan to the rule specs of a firewall or a host."""

from __future__ import annotations

import pytest

from flowmatrix.errors import UserError
from flowmatrix.model import Plan
from flowmatrix.rules.firewall_view import Scope
from flowmatrix.rules.select import select
from flowmatrix.topology import zone_walk


def test_forward_path_takes_the_flows_crossing_the_firewall(default_plan: Plan) -> None:
    selection = select(default_plan, Scope("firewall", "fw-front"))
    crossing = {f.id for f in default_plan.flows if "fw-front" in f.firewalls}
    assert {s.flow.id for s in selection.specs} == crossing
    assert all(s.chain == "forward" for s in selection.specs)


def test_multi_firewall_path_gets_the_interfaces_of_each_hop(default_plan: Plan) -> None:
    # Internet -> fw-front -> dmz -> fw-back -> servers: fw-back sees it enter from the dmz.
    flow = default_plan.flow("XM-APP-10.1")
    assert flow.firewalls == ("fw-front", "fw-back")
    front = next(
        s for s in select(default_plan, Scope("firewall", "fw-front")).specs if s.flow.id == flow.id
    )
    back = next(
        s for s in select(default_plan, Scope("firewall", "fw-back")).specs if s.flow.id == flow.id
    )
    assert (front.in_zone, front.out_zone) == ("internet", "dmz")
    assert (front.in_interface, front.out_interface) == ("eth0", "eth1")
    assert (back.in_zone, back.out_zone) == ("dmz", "servers")
    assert (back.in_interface, back.out_interface) == ("eth0", "eth1")


def test_zone_walk_follows_the_planned_firewalls(default_plan: Plan) -> None:
    site = default_plan.site
    assert zone_walk(site, "internet", "servers", ("fw-front", "fw-back")) == [
        "internet",
        "dmz",
        "servers",
    ]
    assert zone_walk(site, "internet", "servers", ("fw-back",)) is None


def test_internet_any_has_no_address_match(default_plan: Plan) -> None:
    spec = next(
        s
        for s in select(default_plan, Scope("firewall", "fw-front")).specs
        if s.flow.id == "XM-APP-08.1"
    )
    assert spec.source.any and not spec.source.has_addresses
    assert spec.families == (4,)
    assert [str(n) for n in spec.destination.v4] == ["172.16.10.10/32"]


def test_netscaler_sets_are_named_after_the_address_used(default_plan: Plan) -> None:
    specs = {s.flow.id: s for s in select(default_plan, Scope("firewall", "fw-back")).specs}
    assert specs["XM-APP-16.1"].source.key.endswith("_snip")
    assert specs["XM-APP-06.1"].source.key.endswith("_nsip")
    assert specs["XM-APP-13.1"].destination.key.endswith("_vip")


def test_fqdn_only_destination_matches_its_names(dual_plan: Plan) -> None:
    selection = select(dual_plan, Scope("firewall", "edge"))
    spec = next(s for s in selection.specs if s.flow.id == "XM-DEV-03.1")
    assert spec.renderable and spec.destination.names == ("rest.nexmo.com",)
    assert spec.families == (4, 6) and not spec.destination.any
    assert not [f for f in selection.findings if f.flow == "XM-DEV-03.1"]


def test_obsolete_flows_are_left_out_not_rendered(default_plan: Plan) -> None:
    selection = select(default_plan, Scope("firewall", "fw-front"))
    spec = next(s for s in selection.specs if s.flow.id == "XM-DEV-08.1")
    assert not spec.renderable and spec.problem is None
    assert (spec.left_out or "").startswith("obsolete: not requested")


def test_host_scope_restricts_its_own_side(default_plan: Plan) -> None:
    selection = select(default_plan, Scope("host", "xms1"))
    inputs = [s for s in selection.specs if s.chain == "input"]
    outputs = [s for s in selection.specs if s.chain == "output"]
    assert inputs and outputs
    assert all([str(n) for n in s.destination.v4] == ["10.10.20.11/32"] for s in inputs)
    assert all([str(n) for n in s.source.v4] == ["10.10.20.11/32"] for s in outputs)
    # the cluster flow names xms1 on both sides: one input and one output spec
    cluster = [s.chain for s in selection.specs if s.flow.id == "XM-APP-23.1"]
    assert sorted(cluster) == ["input", "output"]


def test_dual_stack_flows_get_one_spec_with_both_families(dual_plan: Plan) -> None:
    specs = select(dual_plan, Scope("firewall", "edge")).specs
    spec = next(s for s in specs if s.flow.id == "XM-APP-10.1")
    assert spec.families == (4, 6)
    # NSIP is IPv4 only: the LDAP flow from it has one family
    assert all(s.families for s in specs if s.renderable)


def test_unknown_firewall_and_host_are_user_errors(default_plan: Plan) -> None:
    with pytest.raises(UserError, match="unknown firewall") as error:
        select(default_plan, Scope("firewall", "fw-middle"))
    assert "fw-front" in (error.value.hint or "")
    with pytest.raises(UserError, match="unknown host"):
        select(default_plan, Scope("host", "nobody"))


def test_hostile_interface_name_is_refused(default_plan: Plan) -> None:
    with pytest.raises(UserError, match="interface name"):
        select(
            default_plan,
            Scope("firewall", "fw-front"),
            interfaces={"internet": 'eth0" accept', "dmz": "eth1"},
        )
