"""``flowmatrix audit``: an existing firewall ruleset judged against the plan."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit_as, exit_findings, load_plan_for, note

if TYPE_CHECKING:
    from flowmatrix.audit.result import AuditReport

T = TypeVar("T")
AuditFormat = StrEnum("AuditFormat", ["table", "json", "csv", "sarif"])


class RulesetFormat(StrEnum):
    auto = "auto"
    iptables = "iptables"
    ip6tables = "ip6tables"
    nft = "nft"
    nft_json = "nft-json"
    fortigate = "fortigate"
    paloalto = "paloalto"
    ciscoasa = "ciscoasa"
    srx = "srx"


class NftReaderChoice(StrEnum):
    auto = "auto"
    kernel = "kernel"
    text = "text"


@app.command("audit")
def audit_command(
    site: opt.SiteArg = None,
    ruleset: Annotated[
        Path,
        typer.Option(
            "--ruleset",
            "-r",
            metavar="FILE",
            help="The ruleset: iptables-save / ip6tables-save output, 'nft list ruleset' or "
            "'nft -j list ruleset' output, or a FortiGate, PAN-OS, Cisco ASA or Juniper SRX "
            "configuration.",
        ),
    ] = ...,  # type: ignore[assignment]
    firewall: Annotated[
        str | None,
        opt.firewall_option(
            "The site's firewall this ruleset belongs to: its planned flows are judged "
            "on the forward path."
        ),
    ] = None,
    host: Annotated[
        str | None,
        opt.host_option(
            "A host whose own ruleset this is: flows to it (input) and from it (output)."
        ),
    ] = None,
    ipassmt: Annotated[
        Path | None,
        typer.Option(
            "--ipassmt",
            metavar="FILE",
            help="Interface-to-prefix map ('eth0 = [10.0.0.0/8]' lines, or YAML): gives each "
            "packet its input and output interface from its addresses.",
        ),
    ] = None,
    ipset: Annotated[
        Path | None,
        typer.Option(
            "--ipset",
            metavar="FILE",
            help="'ipset save' output, for -m set matches.",
        ),
    ] = None,
    fmt: opt.FormatOpt[AuditFormat] = AuditFormat.table,
    strict: Annotated[
        bool,
        opt.strict_option(
            "Exit 1 also when a required flow's verdict depends on a condition "
            "the audit cannot evaluate."
        ),
    ] = False,
    ruleset_format: Annotated[
        RulesetFormat,
        typer.Option(
            "--ruleset-format",
            help="Ruleset dialect (default: detected).",
        ),
    ] = RulesetFormat.auto,
    nft_reader: Annotated[
        NftReaderChoice,
        typer.Option(
            "--nft-reader",
            help="nftables text: read by nft in a throwaway network namespace "
            "(kernel, needs root), by flowmatrix (text), or the first that works (auto).",
        ),
    ] = NftReaderChoice.auto,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            metavar="NAME",
            help="The VDOM (FortiGate) or vsys (PAN-OS) to audit when the configuration "
            "holds several (default: the one named like the firewall, or the only one).",
        ),
    ] = None,
    source_ports: Annotated[
        str,
        typer.Option(
            "--source-ports",
            metavar="LOW-HIGH",
            help="Client source ports assumed for requests.",
        ),
    ] = "1024-65535",
    parts: Annotated[
        int,
        typer.Option(
            "--parts",
            metavar="N",
            min=0,
            help="Parts listed per flow, the blocked first (0: all). A ruleset of host "
            "rules cuts a flow into thousands; its status counts them all.",
        ),
    ] = 64,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Audit an existing ruleset against the plan: blocked flows (and the rule that blocks
    them, with a fix), rules wider than needed, rules that can never match.

    Exit 1 when a required flow is blocked (wholly or partly), 0 otherwise.
    """
    from functools import partial

    from flowmatrix.audit.formats import CSV_COLUMNS, csv_rows, to_document, to_text
    from flowmatrix.audit.from_files import audit
    from flowmatrix.audit.sarif import to_sarif
    from flowmatrix.collector import collector_paused
    from flowmatrix.journeys import audit_summaries
    from flowmatrix.render import to_csv, to_json_bytes

    # what an output is made from (a document, rows) stays until the command ends: the
    # process then exits without freeing it object by object (``cli._leave``)
    made: list[object] = []

    def kept(value: T) -> T:
        made.append(value)
        return value

    # the plan, the audit, its outputs and summaries: millions of small objects, which
    # the collector need not walk once the command has answered (``aged``)
    with collector_paused(aged=True):
        plan = load_plan_for(site, lang, catalog)
        report = audit(
            site,
            plan=plan,
            ruleset=ruleset,
            firewall=firewall,
            host=host,
            ipassmt=ipassmt,
            ipset=ipset,
            lang=lang.value,
            catalog=catalog,
            ruleset_format=ruleset_format.value,
            nft_reader=nft_reader.value,
            source_ports=source_ports,
            context=context,
            parts_listed=parts,
        )
        emit_as(
            fmt,
            output,
            table=partial(to_text, report),
            json=lambda: to_json_bytes(kept(to_document(report)), string_keys=True),
            csv=lambda: to_csv(kept(csv_rows(report)), CSV_COLUMNS),
            sarif=lambda: to_json_bytes(kept(to_sarif(report)), string_keys=True),
        )
        if fmt is not AuditFormat.table or output is not None:
            note(_summary_line(report))
        for line in audit_summaries(report, plan):
            note(line)
    undecided = any(f.required and f.status == "depends" for f in report.flows)
    exit_findings(bool(report.findings or (strict and undecided)))


def _summary_line(report: AuditReport) -> str:
    """``10 flow ports: 8 allowed, 2 blocked, 0 partly blocked, 0 undecided; 2 required
    flow(s) blocked`` (on stderr when the report goes elsewhere than the terminal)."""
    from flowmatrix.audit.result import status_count
    from flowmatrix.i18n import _, ngettext

    counts = report.counts()
    flows, findings = len(report.flows), len(report.findings)
    summary = ", ".join(
        [
            status_count("allowed", counts["allowed"]),
            status_count("blocked", counts["blocked"]),
            ngettext("{n} partly blocked", "{n} partly blocked", counts["partial"]).format(
                n=counts["partial"]
            ),
            ngettext("{n} undecided", "{n} undecided", counts["depends"]).format(
                n=counts["depends"]
            ),
        ]
    )
    ports = ngettext("{n} flow ports: {summary}", "{n} flow ports: {summary}", flows)
    blocked = ngettext("{n} required flow(s) blocked", "{n} required flow(s) blocked", findings)
    return _("{flow_ports}; {blocked}").format(
        flow_ports=ports.format(n=flows, summary=summary), blocked=blocked.format(n=findings)
    )
