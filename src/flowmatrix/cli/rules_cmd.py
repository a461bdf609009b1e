"""``flowmatrix rules``: firewall rules for one firewall or one host of the site."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, exit_findings, load_plan_for, note
from flowmatrix.rules.targets import TARGETS

if TYPE_CHECKING:
    from flowmatrix.model import Plan
    from flowmatrix.rules.model import Scope

#: The targets as a choice for the command line.
Target = Enum("Target", {name: name for name in TARGETS}, type=str)  # type: ignore[misc]


@app.command("rules")
def rules_command(
    site: opt.SiteArg = None,
    target: Annotated[
        Target,
        typer.Option(
            "--target",
            "-t",
            help="nftables, iptables (IPv4), ip6tables (IPv6), or a vendor through aerleon "
            "(ciscoasa, srx, paloalto, fortigate, cisco, arista, gce, k8s, windows_advfirewall).",
        ),
    ] = Target["nftables"],
    firewall: Annotated[
        str | None,
        opt.firewall_option(
            "Rules for this firewall's forward path (the flows that cross it). "
            "Default: the site's only firewall."
        ),
    ] = None,
    host: Annotated[
        str | None, opt.host_option("Rules for this host's own firewall (input and output).")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Validate with nft / iptables-restore in a throwaway network namespace (root).",
        ),
    ] = False,
    strict: Annotated[
        bool, opt.strict_option("Exit 1 on warnings too (flows that cannot be rendered...).")
    ] = False,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Firewall rules from the plan: nftables, iptables, and other vendors through aerleon.

    Every output is read back: a planned flow missing from it is an error (exit 1).
    Flows that cannot be rendered (an end known only by name) are kept as comments and
    reported as warnings.
    """
    from flowmatrix.errors import UserError
    from flowmatrix.rules import generate
    from flowmatrix.rules.validate import can_validate, validate

    plan = load_plan_for(site, lang, catalog)
    scope = _scope(plan, firewall, host)
    name = str(target.value)
    if check and not can_validate(name):
        raise UserError(
            f"--check has no validator for {name}",
            hint="it works with nftables, iptables and ip6tables",
        )
    result = generate(plan, scope, name)
    emit(result.text, output)
    for finding in result.findings:
        note(str(finding))
    failed = bool(result.errors) or (strict and bool(result.warnings))
    if check:
        problem = validate(name, result.text)
        if problem is None:
            note(f"check: {name} accepts the rules (throwaway network namespace)")
        else:
            note(f"check: {name} rejects the rules: {problem}")
            failed = True
    note(
        f"{scope.describe()}: {result.flows} flows, {result.rules} rules ({name}), "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    exit_findings(failed)


def _scope(plan: Plan, firewall: str | None, host: str | None) -> Scope:
    from flowmatrix.errors import UserError
    from flowmatrix.rules import Scope

    if firewall and host:
        raise UserError("give --firewall or --host, not both")
    if host:
        return Scope("host", host)
    if firewall:
        return Scope("firewall", firewall)
    firewalls = [f.name for f in plan.site.firewalls]
    if len(firewalls) == 1:
        return Scope("firewall", firewalls[0])
    raise UserError(
        "which firewall?",
        hint=f"give --firewall NAME ({', '.join(firewalls) or 'the site has none'}) or --host NAME",
    )
