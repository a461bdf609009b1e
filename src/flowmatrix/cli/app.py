"""The Typer application object; command modules attach themselves to it."""

from __future__ import annotations

import typer

from flowmatrix.cli.options import LangOpt, Language

app = typer.Typer(
    name="flowmatrix",
    help="Vendor port requirements turned into flow matrices, firewall rules, live checks, "
    "audits and reports (reference catalog: Citrix XenMobile / NetScaler Gateway).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _commands(lang: LangOpt = Language.en) -> None:
    # a callback keeps the application a group of commands even when a run has loaded
    # the one command it needs (Typer runs a lone command without its name otherwise);
    # its --lang (flowmatrix --lang fr plan) is every command's
    pass
