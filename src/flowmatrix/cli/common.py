"""Options and output helpers shared by the commands."""

from __future__ import annotations

import os
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from flowmatrix.model import Plan


class Language(StrEnum):
    en = "en"
    fr = "fr"


class TableFormat(StrEnum):
    """The formats every listing command offers."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


SiteArg = Annotated[
    str | None,
    typer.Argument(
        help="Site file (YAML). Default: the embedded example; 'example:NAME' for another.",
        show_default=False,
    ),
]
LangOpt = Annotated[Language, typer.Option("--lang", "-l", help="Language of texts and headers.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
]
CatalogOpt = Annotated[
    str | None,
    typer.Option("--catalog", help="Catalog id or file (default: the one the site names)."),
]


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def terminal_width() -> int:
    return shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() else 200


def emit(text: str | bytes, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is not None:
        from flowmatrix.atomic import write_atomic

        write_atomic(output, text)
        return
    if isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)
    sys.stdout.flush()


def note(message: str) -> None:
    """A line for the human on stderr (summaries, skipped requirements)."""
    sys.stderr.write(message + "\n")


def load_plan_for(site: str | None, lang: Language, catalog: str | None = None) -> Plan:
    from flowmatrix.api import load_plan

    return load_plan(site, lang=lang.value, catalog=catalog)
