"""``flowmatrix rules``: firewall rules for one firewall or one host of the site."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, exit_findings, load_plan_for, note, warn
from flowmatrix.i18n import N_, _, ngettext, pgettext
from flowmatrix.rules import registry
from flowmatrix.rules.registry import TARGETS

if TYPE_CHECKING:
    from flowmatrix.model import Plan
    from flowmatrix.rules.firewall_view import Scope

#: Why a companion file goes with some targets only (None: no hint).
_SIDE_FILE_HINTS: dict[str, str | None] = {
    "ipset": None,
    "dnsmasq": N_("the other platforms resolve their FQDN objects themselves"),
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
            _("--check has no validator for {target}").format(target=name),
            hint=_("it works with {targets}").format(
                targets=registry.either(registry.checkable(), pgettext("list", "and"))
            ),
        )
    side_files: tuple[tuple[registry.SideFile, Path | None], ...] = (
        ("ipset", ipset),
        ("dnsmasq", dnsmasq),
    )
    for kind, path in side_files:
        if path is not None and kind not in entry.side_files:
            hint = _SIDE_FILE_HINTS[kind]
            raise UserError(
                _("--{option} goes with --target {targets}").format(
                    option=kind,
                    targets=registry.either(registry.with_side_file(kind), pgettext("list", "or")),
                ),
                hint=_(hint) if hint is not None else None,
            )
    if resolver is not None and not resolve:
        raise UserError(_("--resolver goes with --resolve"))
    result = generate(plan, scope, name, resolve=resolve, resolver=resolver)
    for finding in result.findings:
        note(str(finding))
    if result.unresolved:
        count = len(result.unresolved)
        note(
            ngettext(
                "{scope}: nothing written: {n} name(s) did not resolve ({names})",
                "{scope}: nothing written: {n} name(s) did not resolve ({names})",
                count,
            ).format(scope=scope.said(), n=count, names=", ".join(result.unresolved))
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
            note(
                _("check: {target} accepts the rules (throwaway network namespace)").format(
                    target=name
                )
            )
        else:
            note(
                _("check: {target} rejects the rules: {problem}").format(
                    target=name, problem=problem
                )
            )
            failed = True
    flows = ngettext("{n} flows", "{n} flows", result.flows).format(n=result.flows)
    rules = ngettext("{n} rules ({target})", "{n} rules ({target})", result.rules).format(
        n=result.rules, target=name
    )
    errors = ngettext("{n} errors", "{n} errors", len(result.errors)).format(n=len(result.errors))
    warnings = ngettext("{n} warnings", "{n} warnings", len(result.warnings)).format(
        n=len(result.warnings)
    )
    note(
        _("{scope}: {flows}: {counts}; {rules}, {errors}, {warnings}").format(
            scope=scope.said(),
            flows=flows,
            counts=result.counts.text(),
            rules=rules,
            errors=errors,
            warnings=warnings,
        )
    )
    exit_findings(failed)


def _scope(plan: Plan, firewall: str | None, host: str | None, target: registry.Target) -> Scope:
    from flowmatrix.errors import UserError
    from flowmatrix.rules import Scope

    if firewall and host:
        raise UserError(_("give --firewall or --host, not both"))
    if target.plan_wide:
        if firewall or host:
            raise UserError(
                _(
                    "--target {target} writes the site's proxy allow-list: no --firewall or --host"
                ).format(target=target.name)
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
        _("which firewall?"),
        hint=_("give --firewall NAME ({firewalls}) or --host NAME").format(
            firewalls=", ".join(firewalls) or _("the site has none")
        ),
    )
