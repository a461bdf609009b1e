"""Firewall rules from the plan: nftables, iptables-restore, and other vendors via aerleon.

>>> from flowmatrix.api import load_plan
>>> from flowmatrix.rules import Scope, generate
>>> out = generate(load_plan(None), Scope("firewall", "fw-front"), "nftables")
>>> out.text.splitlines()[0]
'#!/usr/sbin/nft -f'
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flowmatrix.errors import UserError
from flowmatrix.rules.targets import TARGETS

if TYPE_CHECKING:
    from flowmatrix.model import Plan
    from flowmatrix.rules.model import Family, Finding, RulesOutput, Scope

__all__ = ["TARGETS", "Finding", "RulesOutput", "Scope", "generate"]
_MODEL_NAMES = ("Finding", "RulesOutput", "Scope")


def __getattr__(name: str) -> object:
    # The model is imported on first use: 'flowmatrix --help' only needs TARGETS.
    if name in _MODEL_NAMES:
        from flowmatrix.rules import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rules are built.

    A large plan is hundreds of thousands of small objects without cycles; full
    collections triggered by the allocations would walk all of them, again and again,
    and cost more than the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def generate(
    plan: Plan,
    scope: Scope,
    target: str,
    *,
    interfaces: Mapping[str, str] | None = None,
) -> RulesOutput:
    """Rules of ``scope`` for ``target``, read back and checked against the plan.

    ``interfaces`` (zone -> interface) replaces the firewall's own mapping.
    Findings of severity 'error' mean the output misses planned flows.
    """
    if target not in TARGETS:
        raise UserError(f"unknown target {target!r}", hint=f"targets: {', '.join(TARGETS)}")
    with _collector_paused():
        return _generate(plan, scope, target, interfaces)


def _generate(
    plan: Plan, scope: Scope, target: str, interfaces: Mapping[str, str] | None
) -> RulesOutput:
    from flowmatrix.rules import coverage
    from flowmatrix.rules.model import RulesOutput
    from flowmatrix.rules.select import select

    selection = select(plan, scope, interfaces)
    findings: list[Finding] = list(selection.findings)
    catalog = plan.catalog.catalog.id
    if target == "nftables":
        from flowmatrix.rules import nftables

        text, rules = nftables.render(selection, catalog=catalog)
        findings.extend(coverage.check_nftables(text, selection.specs))
    elif target in ("iptables", "ip6tables"):
        from flowmatrix.rules import iptables

        family: Family = 4 if target == "iptables" else 6
        text, rules, notes = iptables.render(selection, family, catalog=catalog)
        findings.extend(notes)
        findings.extend(
            coverage.check_iptables(text, selection.specs, family, iptables.chain_names(scope))
        )
    else:
        from flowmatrix.rules import vendors

        vendor = vendors.VENDOR_TARGETS[target]
        text, policy, notes = vendors.render(selection, vendor)
        rules = len(policy.terms)
        findings.extend(notes)
        findings.extend(coverage.check_vendor(text, vendor, policy.terms))
        findings.extend(coverage.check_addresses(text, vendor, policy.addresses))
    flows = len({spec.flow.id for spec in selection.specs})
    return RulesOutput(target, scope, text, tuple(findings), rules, flows)
