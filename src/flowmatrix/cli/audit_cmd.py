"""``flowmatrix audit``: an existing firewall ruleset judged against the plan."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli.app import app
from flowmatrix.cli.common import (
    CatalogOpt,
    LangOpt,
    Language,
    OutputOpt,
    SiteArg,
    emit,
    note,
    stdout_is_terminal,
    terminal_width,
)


class AuditFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    sarif = "sarif"


class RulesetFormat(StrEnum):
    auto = "auto"
    iptables = "iptables"
    ip6tables = "ip6tables"
    nft = "nft"
    nft_json = "nft-json"


class NftReaderChoice(StrEnum):
    auto = "auto"
    kernel = "kernel"
    text = "text"


@app.command("audit")
def audit_command(
    site: SiteArg = None,
    ruleset: Annotated[
        Path,
        typer.Option(
            "--ruleset",
            "-r",
            metavar="FILE",
            help="The ruleset: iptables-save / ip6tables-save output, 'nft list ruleset' or "
            "'nft -j list ruleset' output.",
        ),
    ] = ...,  # type: ignore[assignment]
    firewall: Annotated[
        str | None,
        typer.Option(
            "--firewall",
            "-F",
            metavar="NAME",
            help="The site's firewall this ruleset belongs to: its planned flows are judged "
            "on the forward path.",
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            "-H",
            metavar="NAME",
            help="A host whose own ruleset this is: flows to it (input) and from it (output).",
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
    fmt: Annotated[AuditFormat, typer.Option("--format", "-f", help="Output format.")] = (
        AuditFormat.table
    ),
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 also when a required flow's verdict depends on a condition "
            "the audit cannot evaluate.",
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
    source_ports: Annotated[
        str,
        typer.Option(
            "--source-ports",
            metavar="LOW-HIGH",
            help="Client source ports assumed for requests.",
        ),
    ] = "1024-65535",
    lang: LangOpt = Language.en,
    catalog: CatalogOpt = None,
    output: OutputOpt = None,
) -> None:
    """Audit an existing ruleset against the plan: blocked flows (and the rule that blocks
    them, with a fix), rules wider than needed, rules that can never match.

    Exit 1 when a required flow is blocked (wholly or partly), 0 otherwise.
    """
    from flowmatrix.audit.api import audit
    from flowmatrix.audit.render import CSV_COLUMNS, csv_rows, to_document, to_text
    from flowmatrix.audit.sarif import to_sarif
    from flowmatrix.errors import ExitCode
    from flowmatrix.render import to_csv, to_json

    report = audit(
        site,
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
    )
    if fmt is AuditFormat.json:
        emit(to_json(to_document(report)), output)
    elif fmt is AuditFormat.csv:
        emit(to_csv(csv_rows(report), CSV_COLUMNS), output)
    elif fmt is AuditFormat.sarif:
        emit(to_json(to_sarif(report)), output)
    else:
        color = output is None and stdout_is_terminal()
        emit(to_text(report, width=terminal_width(), color=color), output)
    counts = report.counts()
    undecided = [f for f in report.flows if f.required and f.status == "depends"]
    if fmt is not AuditFormat.table or output is not None:
        note(
            f"{len(report.flows)} flow ports: {counts['allowed']} allowed, "
            f"{counts['blocked']} blocked, {counts['partial']} partly blocked, "
            f"{counts['depends']} undecided; {len(report.findings)} required flow(s) blocked"
        )
    if report.findings or (strict and undecided):
        raise typer.Exit(int(ExitCode.FINDINGS))
