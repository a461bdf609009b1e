"""The read-back check catches flows missing from an output, including aerleon's silent
drops: the ASA generator's IPv6, a mixed Arista ACL, Palo Alto without 'mixed'."""

from __future__ import annotations

from dataclasses import replace

from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.coverage import check_addresses, check_nftables, check_vendor
from flowmatrix.rules.select import select
from flowmatrix.rules.vendors import VENDOR_TARGETS, build_policy, run_aerleon


def test_a_removed_nft_rule_is_an_error(default_plan: Plan) -> None:
    selection = select(default_plan, Scope("firewall", "fw-back"))
    text = generate(default_plan, Scope("firewall", "fw-back"), "nftables").text
    assert check_nftables(text, selection.specs) == []
    broken = "\n".join(x for x in text.splitlines() if 'comment "XM-APP-16.1:' not in x)
    errors = check_nftables(broken, selection.specs)
    assert [(e.flow, e.severity) for e in errors] == [("XM-APP-16.1", "error")]


def test_a_missing_family_is_an_error(dual_plan: Plan) -> None:
    selection = select(dual_plan, Scope("firewall", "edge"))
    text = generate(dual_plan, Scope("firewall", "edge"), "nftables").text
    no_v6 = "\n".join(
        x
        for x in text.splitlines()
        if " ip6 daddr @" not in x and not x.strip().startswith("ip6 daddr @")
    )
    errors = check_nftables(no_v6, selection.specs)
    assert errors and all("IPv6 rule missing" in e.message for e in errors)


def test_aerleon_asa_generator_drops_ipv6_and_the_check_sees_it(dual_plan: Plan) -> None:
    """The plain aerleon ASA generator (api.Generate) renders IPv4 terms only."""
    from aerleon import api
    from aerleon.lib import naming

    target = VENDOR_TARGETS["ciscoasa"]
    policy = build_policy(select(dual_plan, Scope("firewall", "edge")), target)
    definitions = naming.Naming()
    definitions.ParseDefinitionsObject(policy.definitions, "")
    plain = next(iter(api.Generate([policy.policy], definitions).values()))  # type: ignore[union-attr, list-item]
    errors = check_vendor(plain, target, policy.terms)
    assert errors and all(e.message.startswith("IPv6 ") for e in errors)
    # each IPv6 term is reported: the permit terms, and the deny terms before them
    assert len(errors) == sum(t.family == 6 for t in policy.terms)
    assert any(e.message.startswith("IPv6 deny term ") for e in errors)
    # flowmatrix's own rendering of the same policy has them all
    assert check_vendor(run_aerleon(policy, "ciscoasa")[0], target, policy.terms) == []


def test_mixed_arista_acl_loses_ipv6_addresses_and_the_check_sees_it(dual_plan: Plan) -> None:
    mixed = replace(VENDOR_TARGETS["arista"], split_families=False)
    policy = build_policy(select(dual_plan, Scope("firewall", "edge")), mixed)
    text, _ = run_aerleon(policy, "arista")
    errors = check_addresses(text, mixed, policy.addresses)
    assert errors and all(":" in e.message.split()[1] for e in errors)


def test_paloalto_without_mixed_loses_ipv6_and_the_check_sees_it(dual_plan: Plan) -> None:
    target = VENDOR_TARGETS["paloalto"]
    policy = build_policy(select(dual_plan, Scope("firewall", "edge")), target)
    for block in policy.policy["filters"]:
        options = block["header"]["targets"]["paloalto"]
        block["header"]["targets"]["paloalto"] = options.removesuffix(" mixed")
    text, _ = run_aerleon(policy, "paloalto")
    errors = check_addresses(text, target, policy.addresses)
    assert errors and all("fd00:" in e.message for e in errors)


def test_a_term_without_permit_is_missing(default_plan: Plan) -> None:
    target = VENDOR_TARGETS["cisco"]
    policy = build_policy(select(default_plan, Scope("firewall", "fw-back")), target)
    text, _ = run_aerleon(policy, "cisco")
    victim = policy.terms[3].name
    lines = text.splitlines()
    start = lines.index(f" remark {victim}")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].strip())
    broken = "\n".join(
        lines[: start + 1] + [x for x in lines[start + 1 : end] if "permit" not in x] + lines[end:]
    )
    errors = check_vendor(broken, target, policy.terms)
    assert [e.flow for e in errors] == [policy.terms[3].flow]


def test_a_windows_block_rule_is_refused(default_plan: Plan) -> None:
    target = VENDOR_TARGETS["windows_advfirewall"]
    policy = build_policy(select(default_plan, Scope("host", "xms1")), target)
    text, _ = run_aerleon(policy, "windows_advfirewall")
    assert check_vendor(text, target, policy.terms) == []
    blocked = text + (
        "netsh advfirewall firewall add rule name=i_deny enable=yes "
        "interfacetype=any dir=in action=block\n"
    )
    assert any("block rule" in e.message for e in check_vendor(blocked, target, policy.terms))


def test_a_gce_rule_split_by_aerleon_still_counts(default_plan: Plan) -> None:
    """More than 256 ranges: aerleon writes NAME-1, NAME-2... instead of NAME."""
    import json

    target = VENDOR_TARGETS["gce"]
    selection = select(default_plan, Scope("firewall", "fw-back"))
    policy = build_policy(selection, target)
    rules = json.loads(run_aerleon(policy, "gce")[0])
    name = "default-xm-app-10-1-v4"
    whole = next(r for r in rules if r["name"] == name)
    ranges = whole["sourceRanges"]
    halves = [dict(whole, name=f"{name}-{i + 1}", sourceRanges=ranges[i::2]) for i in (0, 1)]
    split = [r for r in rules if r["name"] != name] + halves
    assert check_vendor(json.dumps(split), target, policy.terms) == []
    lost = [r for r in rules if r["name"] != name]
    errors = check_vendor(json.dumps(lost), target, policy.terms)
    # the rule also serves XM-DEV-06.1 (the same ends and port): both flows are missing
    assert [e.flow for e in errors] == ["XM-APP-10.1", "XM-DEV-06.1"]
