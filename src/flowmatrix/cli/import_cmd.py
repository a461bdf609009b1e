"""``flowmatrix import netscaler``: start a site from a NetScaler's ns.conf."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.common import command_group, emit, note

group = command_group("import", "Start a site from what the team has: a NetScaler ns.conf.")


class ImportFormat(StrEnum):
    yaml = "yaml"
    json = "json"


@group.command("netscaler")
def netscaler_command(
    config: Annotated[
        Path,
        typer.Argument(help="The NetScaler's saved configuration (ns.conf).", show_default=False),
    ],
    output: opt.OutputOpt = None,
    merge: Annotated[
        Path | None,
        typer.Option(
            "--merge",
            metavar="SITE.yaml",
            help="Fill this site's NetScaler and back-end hosts instead of writing a new draft; "
            "the rest and its comments are kept (write with -o, e.g. -o SITE.yaml).",
        ),
    ] = None,
    fmt: opt.FormatOpt[ImportFormat] = ImportFormat.yaml,
    lang: opt.LangOpt = opt.Language.en,
) -> None:
    """Read an ns.conf and write a site draft (each item names its ns.conf line)."""
    from flowmatrix.importers.netscaler.convert import (
        import_netscaler,
        import_to_dict,
        summary_lines,
    )
    from flowmatrix.render import to_json

    imported = import_netscaler(config, merge)
    emit(to_json(import_to_dict(imported)) if fmt is ImportFormat.json else imported.text, output)
    for line in summary_lines(imported):
        note(line)
