"""Firewall rules from the plan: nftables, iptables-restore, and other vendors via aerleon.

>>> from flowmatrix.api import load_plan
>>> from flowmatrix.rules import Scope, generate
>>> out = generate(load_plan(None), Scope("firewall", "fw-front"), "nftables")
>>> out.text.splitlines()[0]
'#!/usr/sbin/nft -f'

Imports: the top-level modules only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flowmatrix.collector import collector_paused
from flowmatrix.rules import registry
from flowmatrix.rules.registry import TARGETS, load

if TYPE_CHECKING:
    from flowmatrix.model import Plan
    from flowmatrix.rules.firewall_view import Finding, FlowCounts, RulesOutput, RuleSpec, Scope
    from flowmatrix.rules.registry import Target

__all__ = ["TARGETS", "Finding", "RulesOutput", "Scope", "generate"]
_MODEL_NAMES = ("Finding", "RulesOutput", "Scope")


def __getattr__(name: str) -> object:
    # The model is imported on first use: 'flowmatrix --help' only needs the registry.
    if name in _MODEL_NAMES:
        from flowmatrix.rules import firewall_view

        return getattr(firewall_view, name)
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
    from flowmatrix.rules.firewall_view import RulesOutput

    entry = registry.entry(target)
    if entry.plan_wide:
        output = load(entry.render)(plan)
        assert isinstance(output, RulesOutput)
        return output
    with collector_paused():
        return _generate(plan, scope, entry, interfaces, resolve, resolver)


def _generate(
    plan: Plan,
    scope: Scope,
    entry: Target,
    interfaces: Mapping[str, str] | None,
    resolve: bool,
    resolver: str | None,
) -> RulesOutput:
    from flowmatrix.i18n import _
    from flowmatrix.rules import named_ends
    from flowmatrix.rules.firewall_view import Finding, RulesOutput
    from flowmatrix.rules.outputs import Rendered, RenderJob
    from flowmatrix.rules.select import select

    selection = select(plan, scope, interfaces)
    findings: list[Finding] = list(selection.findings)
    answers = None
    unresolved: list[str] = []
    if resolve:
        from flowmatrix.rules.dns_pins import resolve as resolve_names

        answers, failures = resolve_names(named_ends.name_needs(selection.specs), resolver)
        for failure in failures:
            unresolved.append(failure.name)
            for flow_id in _flows_naming(selection.specs, failure.name):
                message = _("name {name} does not resolve: {reason}").format(
                    name=failure.name, reason=failure.reason
                )
                findings.append(Finding("error", message, flow_id))
    selection, problems = named_ends.prepare(selection, entry.name, answers if resolve else None)
    findings.extend(problems)
    job = RenderJob(entry, scope, selection, plan.catalog.catalog.id, plan.site.name, answers)
    rendered = load(entry.render)(job)
    assert isinstance(rendered, Rendered)
    findings.extend(rendered.findings)
    flows = len({spec.flow.id for spec in selection.specs})
    return RulesOutput(
        entry.name,
        scope,
        rendered.text,
        tuple(findings),
        rendered.rules,
        flows,
        _counts(selection.specs, findings),
        rendered.side_files,
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
    from flowmatrix.rules.firewall_view import FlowCounts

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
