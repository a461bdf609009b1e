"""Firewall rules from the plan: nftables, iptables-restore, and other vendors via aerleon.

>>> from flowmatrix.api import load_plan
>>> from flowmatrix.rules import Scope, generate
>>> out = generate(load_plan(None), Scope("firewall", "fw-front"), "nftables")
>>> out.text.splitlines()[0]
'#!/usr/sbin/nft -f'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flowmatrix.collector import collector_paused
from flowmatrix.errors import UserError
from flowmatrix.rules.targets import TARGETS

if TYPE_CHECKING:
    from flowmatrix.model import Plan
    from flowmatrix.rules.model import Family, Finding, FlowCounts, RulesOutput, RuleSpec, Scope

__all__ = ["TARGETS", "Finding", "RulesOutput", "Scope", "generate"]
_MODEL_NAMES = ("Finding", "RulesOutput", "Scope")


def __getattr__(name: str) -> object:
    # The model is imported on first use: 'flowmatrix --help' only needs TARGETS.
    if name in _MODEL_NAMES:
        from flowmatrix.rules import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def generate(
    plan: Plan,
    scope: Scope,
    target: str,
    *,
    interfaces: Mapping[str, str] | None = None,
    resolve: bool = False,
    resolver: str | None = None,
) -> RulesOutput:
    """Rules of ``scope`` for ``target``, read back and checked against the plan.

    ``interfaces`` (zone -> interface) replaces the firewall's own mapping. ``resolve``
    pins today's DNS answers for the names the rules match (``resolver``: ``ADDR[:PORT]``,
    default the system's). Findings of severity 'error' mean the output misses planned
    flows; ``unresolved`` lists names that did not resolve (write nothing then).
    """
    if target not in TARGETS:
        raise UserError(f"unknown target {target!r}", hint=f"targets: {', '.join(TARGETS)}")
    if target == "squid":
        from flowmatrix.rules import squid

        return squid.generate(plan)
    with collector_paused():
        return _generate(plan, scope, target, interfaces, resolve, resolver)


def _generate(
    plan: Plan,
    scope: Scope,
    target: str,
    interfaces: Mapping[str, str] | None,
    resolve: bool,
    resolver: str | None,
) -> RulesOutput:
    from flowmatrix.rules import coverage, names
    from flowmatrix.rules.model import Finding, RulesOutput
    from flowmatrix.rules.select import select

    selection = select(plan, scope, interfaces)
    findings: list[Finding] = list(selection.findings)
    answers = None
    unresolved: list[str] = []
    if resolve:
        from flowmatrix.rules.resolve import resolve as resolve_names

        answers, failures = resolve_names(names.name_needs(selection.specs), resolver)
        for failure in failures:
            unresolved.append(failure.name)
            for flow_id in _flows_naming(selection.specs, failure.name):
                findings.append(
                    Finding(
                        "error", f"name {failure.name} does not resolve: {failure.reason}", flow_id
                    )
                )
    selection, problems = names.prepare(selection, target, answers if resolve else None)
    findings.extend(problems)
    catalog = plan.catalog.catalog.id
    side_files: dict[str, str] = {}
    describe = scope.describe()
    if target == "nftables":
        from flowmatrix.rules import nftables

        text, rules = nftables.render(selection, catalog=catalog, answers=answers)
        findings.extend(coverage.check_nftables(text, selection.specs))
        sets = names.name_sets(selection.specs)
        findings.extend(coverage.check_name_sets(text, [(s.set_name, s.name) for s in sets]))
        side_files["dnsmasq"] = names.dnsmasq_lines(
            sets, nft_table=nftables.table_name(scope.name), scope=describe, site=plan.site.name
        )
    elif target in ("iptables", "ip6tables"):
        from flowmatrix.rules import iptables

        family: Family = 4 if target == "iptables" else 6
        text, rules, notes = iptables.render(selection, family, catalog=catalog)
        findings.extend(notes)
        findings.extend(
            coverage.check_iptables(text, selection.specs, family, iptables.chain_names(scope))
        )
        sets = names.name_sets(selection.specs)
        side_files["dnsmasq"] = names.dnsmasq_lines(
            sets, nft_table=None, scope=describe, site=plan.site.name
        )
        side_files["ipset"] = names.ipset_restore(
            sets, answers, scope=describe, site=plan.site.name
        )
    else:
        from flowmatrix.rules import vendors

        vendor = vendors.VENDOR_TARGETS[target]
        text, policy, notes = vendors.render(selection, vendor)
        rules = len(policy.terms)
        findings.extend(notes)
        findings.extend(coverage.check_vendor(text, vendor, policy.terms))
        findings.extend(coverage.check_addresses(text, vendor, policy.addresses))
        findings.extend(coverage.check_fqdn_objects(text, vendor, policy.fqdns))
    flows = len({spec.flow.id for spec in selection.specs})
    return RulesOutput(
        target,
        scope,
        text,
        tuple(findings),
        rules,
        flows,
        _counts(selection.specs, findings),
        side_files,
        resolved=resolve,
        unresolved=tuple(unresolved),
    )


def _flows_naming(specs: Sequence[RuleSpec], name: str) -> list[str]:
    return list(
        dict.fromkeys(
            spec.flow.id
            for spec in specs
            if name in spec.source.names or name in spec.destination.names
        )
    )


def _counts(specs: Sequence[RuleSpec], findings: Sequence[Finding]) -> FlowCounts:
    from flowmatrix.rules.model import FlowCounts

    failed = {f.flow for f in findings if f.severity == "error" and f.flow}
    by_flow: dict[str, list[RuleSpec]] = {}
    for spec in specs:
        by_flow.setdefault(spec.flow.id, []).append(spec)
    left_out = missing = explicit = 0
    for flow_id, flow_specs in by_flow.items():
        if all(s.left_out is not None for s in flow_specs):
            left_out += 1
        elif flow_id in failed or any(s.problem is not None for s in flow_specs):
            missing += 1
        elif any(
            side.any and side.any_reason for s in flow_specs for side in (s.source, s.destination)
        ):
            explicit += 1
    return FlowCounts(len(by_flow) - left_out - missing, missing, left_out, explicit)
