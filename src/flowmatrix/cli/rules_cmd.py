"""``flowmatrix rules``: firewall rules for one firewall or one host of the site."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, exit_findings, load_plan_for, note, warn
from flowmatrix.rules import registry
from flowmatrix.rules.registry import TARGETS

if TYPE_CHECKING:
    from flowmatrix.model import Plan
    from flowmatrix.rules.model import Scope

#: Why a companion file goes with some targets only (None: no hint).
_SIDE_FILE_HINTS: dict[str, str | None] = {
    "ipset": None,
    "dnsmasq": "the other platforms resolve their FQDN objects themselves",
}
#: The targets as a choice for the command line.
Target = Enum("Target", {name: name for name in TARGETS}, type=str)  # type: ignore[misc]


@app.command("rules", epilog=registry.epilog())
def rules_command(
    site: opt.SiteArg = None,
    target: Annotated[
        Target,
        typer.Option(
            "--target",
            "-t",
            help=registry.option_help(),
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
            help=registry.check_help(),
        ),
    ] = False,
    resolve: Annotated[
        bool,
        typer.Option(
            "--resolve",
            help="Resolve the names the rules match now and pin the answers into the output "
            "(name sets' elements; addresses on platforms without FQDN objects). A name that "
            "does not resolve: exit 1, nothing written.",
        ),
    ] = False,
    resolver: Annotated[
        str | None,
        typer.Option(
            "--resolver",
            metavar="ADDR[:PORT]",
            help="DNS server for --resolve (default: the system's resolvers).",
        ),
    ] = None,
    dnsmasq: Annotated[
        Path | None,
        typer.Option(
            "--dnsmasq",
            metavar="FILE",
            help="Also write the dnsmasq lines that fill the name sets on the firewall "
            "(nftset= for nftables, ipset= for iptables / ip6tables).",
        ),
    ] = None,
    ipset: Annotated[
        Path | None,
        typer.Option(
            "--ipset",
            metavar="FILE",
            help="iptables / ip6tables: also write the 'ipset restore' file creating the "
            "name sets the rules refer to (load it first).",
        ),
    ] = None,
    strict: Annotated[
        bool,
        opt.strict_option(
            "Exit 1 on warnings too (flows that cannot be rendered, the site's warnings...)."
        ),
    ] = False,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Firewall rules from the plan: nftables, iptables, and other vendors through aerleon.

    Every planned flow is rendered, or the command exits 1 naming the flow and why.
    Every output is read back: a planned flow missing from it is an error (exit 1).
    Obsolete and legacy flows the site does not keep are left out (and counted).
    """
    from flowmatrix.errors import UserError
    from flowmatrix.rules import generate

    plan = load_plan_for(site, lang, catalog)
    entry = registry.entry(str(target.value))
    name = entry.name
    scope = _scope(plan, firewall, host, entry)
    if check and name not in registry.checkable():
        raise UserError(
            f"--check has no validator for {name}",
            hint=f"it works with {registry.either(registry.checkable(), 'and')}",
        )
    side_files: tuple[tuple[registry.SideFile, Path | None], ...] = (
        ("ipset", ipset),
        ("dnsmasq", dnsmasq),
    )
    for kind, path in side_files:
        if path is not None and kind not in entry.side_files:
            raise UserError(
                f"--{kind} goes with --target {registry.either(registry.with_side_file(kind))}",
                hint=_SIDE_FILE_HINTS[kind],
            )
    if resolver is not None and not resolve:
        raise UserError("--resolver goes with --resolve")
    result = generate(plan, scope, name, resolve=resolve, resolver=resolver)
    for finding in result.findings:
        note(str(finding))
    if result.unresolved:
        note(
            f"{scope.describe()}: nothing written: {len(result.unresolved)} name(s) did not "
            f"resolve ({', '.join(result.unresolved)})"
        )
        exit_findings(True)
    emit(result.text, output)
    for kind, path in (("dnsmasq", dnsmasq), ("ipset", ipset)):
        if path is not None:
            emit(result.side_files[kind], path)
    warn(plan.warnings)
    failed = bool(result.errors) or (strict and bool(result.warnings or plan.warnings))
    if check:  # the validator runs the target's tool in a network namespace
        from flowmatrix.rules.validate import validate

        problem = validate(name, result.text, result.side_files.get("ipset"))
        if problem is None:
            note(f"check: {name} accepts the rules (throwaway network namespace)")
        else:
            note(f"check: {name} rejects the rules: {problem}")
            failed = True
    note(
        f"{scope.describe()}: {result.flows} flows: {result.counts.text()}; "
        f"{result.rules} rules ({name}), {len(result.errors)} errors, "
        f"{len(result.warnings)} warnings"
    )
    exit_findings(failed)


def _scope(plan: Plan, firewall: str | None, host: str | None, target: registry.Target) -> Scope:
    from flowmatrix.errors import UserError
    from flowmatrix.rules import Scope

    if firewall and host:
        raise UserError("give --firewall or --host, not both")
    if target.plan_wide:
        if firewall or host:
            raise UserError(
                f"--target {target.name} writes the site's proxy allow-list: "
                "no --firewall or --host"
            )
        proxy = plan.site.proxy
        return Scope("proxy", (proxy.host or proxy.address or "proxy") if proxy else "proxy")
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
