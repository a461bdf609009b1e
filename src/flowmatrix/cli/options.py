"""Arguments, options and ``--format`` choices that several commands share.

Command modules import this one as ``opt``; each alias is an ``Annotated`` type:
``lang: opt.LangOpt = opt.Language.en``. Options whose help or limits differ from one
command to the next are built by a small factory instead, so that the flag itself is
still spelled once.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from flowmatrix.cli import OUTPUT_FLAGS

F = TypeVar("F", bound=StrEnum)


class Language(StrEnum):
    en = "en"
    fr = "fr"


#: The formats every listing command offers.
TableFormat = StrEnum("TableFormat", ["table", "json", "csv", "markdown"])
#: A report for people (table) or for programs (JSON).
TableJsonFormat = StrEnum("TableJsonFormat", ["table", "json"])


#: The site a command reads when given none, as every site argument's help says it.
SITE_DEFAULT = "the embedded example; 'example:NAME' for another"

SiteArg = Annotated[
    str | None,
    typer.Argument(help=f"Site file (YAML). Default: {SITE_DEFAULT}.", show_default=False),
]


def _language(ctx: typer.Context, param: typer.CallbackParam, value: Language) -> Language:
    """The language asked for, or the run's when not given (the CLI sets it first, from
    the environment or a ``--lang`` anywhere on the line); it becomes the run's."""
    from flowmatrix import i18n

    source = ctx.get_parameter_source(param.name) if param.name else None
    if getattr(source, "name", None) == "DEFAULT":  # Typer bundles its own Click
        value = Language(i18n.current())
    i18n.use(value.value)
    return value


LangOpt = Annotated[
    Language,
    typer.Option(
        "--lang",
        "-l",
        help="Language of texts and headers (default: LANGUAGE, LC_ALL, LC_MESSAGES or "
        "LANG; English unless they ask for French).",
        show_default=False,
        is_eager=True,
        callback=_language,
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        *OUTPUT_FLAGS,
        help="Write to this file (atomically; a device or FIFO is written through; "
        "'-' is stdout) instead of stdout.",
    ),
]
CatalogOpt = Annotated[
    str | None,
    typer.Option("--catalog", help="Catalog id or file (default: the one the site names)."),
]
ResolverOpt = Annotated[
    str | None,
    typer.Option(
        "--resolver",
        metavar="ADDRESS[:PORT]",
        help="Resolve names with this DNS server instead of this host's resolver.",
    ),
]


def format_option(help: str = "Output format.") -> Any:
    """``--format`` / ``-f``; the choices come from the annotated enum."""
    return typer.Option("--format", "-f", help=help)


#: ``fmt: FormatOpt[SomeFormat] = SomeFormat.table``
FormatOpt = Annotated[F, format_option()]
#: The merged flow matrix: a format, or the one the ``-o`` suffix says.
MatrixFormatOpt = Annotated[
    TableFormat | None,
    format_option("Output format (default: from the -o suffix, else table)."),
]


def timeout_option(help: str, *, min: float = 0.1, max: float | None = None) -> Any:
    """``--timeout`` in seconds; what it bounds (and how far) differs by command."""
    return typer.Option("--timeout", min=min, max=max, help=help)


def ca_file_option(**checks: Any) -> Any:
    """``--ca-file``; ``checks`` are Typer's path checks, for commands that want them early."""
    return typer.Option(
        "--ca-file",
        help="PEM file of CA certificates to judge the servers' chains (default: system store).",
        **checks,
    )


def firewall_option(help: str) -> Any:
    """``--firewall`` / ``-F NAME``: one of the site's firewalls."""
    return typer.Option("--firewall", "-F", metavar="NAME", help=help)


def host_option(help: str) -> Any:
    """``--host`` / ``-H NAME``: one of the site's hosts."""
    return typer.Option("--host", "-H", metavar="NAME", help=help)


def role_option(help: str) -> Any:
    """``--role`` / ``-r``: a role of the catalog, by id or name."""
    return typer.Option("--role", "-r", help=help)


def strict_option(help: str) -> Any:
    """``--strict``: what else fails the command differs by command."""
    return typer.Option("--strict", help=help)
