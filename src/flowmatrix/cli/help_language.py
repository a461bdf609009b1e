"""``--help`` and usage errors in the run's language: the one module that speaks for Typer
and its bundled Click.

Typer builds every help text of the CLI at import (command docstrings, the ``help=`` of
options and arguments, the application's help), in English; its bundled Click writes its
own words ("Usage:", "Error:", "Try ... for help.", "No such option: ...") as plain
f-strings, and only ``typer.core`` looks its words ("Options", "Commands", "default: ...")
up, through a module global ``_`` bound to the standard library's ``gettext``. None of
them knows flowmatrix's catalog. So, for a run that is not in English, the CLI:

* translates the command tree's texts in place before anything is formatted
  (:func:`translate_tree`);
* rebinds, once (:func:`install`), three globals of the libraries: ``typer.core._``,
  ``typer._click.exceptions.echo`` (the usage errors are read back line by line against
  Click's templates, :data:`CLICK_TEMPLATES`) and the formatter class of Click's contexts
  ("Usage:" and the headings). ``typer.rich_utils`` is not used (no Rich markup).

Everything goes through :func:`flowmatrix.i18n._`, so the current language decides at each
call: an English run (the hooks stay installed in a process that ran a French one) gets
the source texts back unchanged. The same walk (:func:`help_texts`) gives
``scripts/i18n.py`` the texts to put in the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import typer.core
from typer import _click
from typer._click import exceptions as _click_exceptions
from typer._click.formatting import HelpFormatter
from typer._click.utils import echo as _click_echo

from flowmatrix.i18n import N_, _

#: Click's (and Typer's) own messages, as their code composes them; a usage error is
#: matched against these, its ``{message}`` parts in turn, and told in the catalog's words.
CLICK_TEMPLATES: tuple[str, ...] = (
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("No such option: {name} (Possible options: {possibilities})"),
    N_("No such option: {name}"),
    N_("Option {name} does not take a value."),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {n} arguments."),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("Missing argument {param_hint}."),
    N_("Missing option {param_hint}."),
    N_("Missing parameter {param_hint}."),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("{message}. Did you mean {suggestions}?"),
    N_("Value error, {value} is not one of {choices}."),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be greater than or equal to {limit}"),
    N_("Input should be less than or equal to {limit}"),
    N_("Input should be greater than {limit}"),
    N_("Input should be less than {limit}"),
    N_("File {path} does not exist."),
    N_("Directory {path} does not exist."),
    N_("Path {path} does not exist."),
    N_("File {path} is a directory."),
    N_("Directory {path} is a file."),
    N_("File {path} is not readable."),
)
#: Typer's words, looked up through ``typer.core._``, and the help option Click adds.
TYPER_TEXTS: tuple[str, ...] = (
    N_("Arguments"),
    N_("Options"),
    N_("Commands"),
    N_("default: {default}"),
    N_("required"),
    N_("env var: {var}"),
    N_("(dynamic)"),
    N_("Aborted!"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Show this message and exit."),
    N_("Usage: "),
    N_("{heading}:"),
)

_FIELD = re.compile(r"\{(\w+)\}")


class LocalizedFormatter(HelpFormatter):
    """Click's help formatter, its "Usage:" and headings in the current language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_('{heading}:').format(heading=heading)}\n")


def commands(root: _click.Command) -> Iterator[_click.Command]:
    """``root`` and every command under it, depth first, in listing order."""
    yield root
    for sub in getattr(root, "commands", {}).values():
        yield from commands(sub)


def _params(command: _click.Command, help_names: list[str]) -> list[Any]:
    """The command's parameters and its help option (which Click makes on first use)."""
    names = command.context_settings.get("help_option_names", help_names)
    helper = command.get_help_option(_click.Context(command, help_option_names=names))
    return [*command.params, *([helper] if helper is not None else [])]


def _walk(root: _click.Command) -> Iterator[tuple[_click.Command, Any, str]]:
    """(command, owner, attribute) for every help text of the tree: the owner is the
    command (help, short_help, epilog) or one of its parameters (help)."""
    pending = [(root, root.context_settings.get("help_option_names", ["--help"]))]
    while pending:
        command, names = pending.pop(0)
        names = command.context_settings.get("help_option_names", names)
        for attribute in ("help", "short_help", "epilog"):
            yield command, command, attribute
        for param in _params(command, names):
            yield command, param, "help"
        pending.extend((sub, names) for sub in getattr(command, "commands", {}).values())


def help_texts(root: _click.Command) -> Iterator[tuple[_click.Command, str]]:
    """Every help text of the tree, with the command it belongs to (exactly as the click
    objects hold them: the catalog's msgids)."""
    for command, owner, attribute in _walk(root):
        text = getattr(owner, attribute, None)
        if isinstance(text, str) and text:
            yield command, text


def translate_tree(root: _click.Command) -> None:
    """Put the current language's help texts in the tree, in place."""
    for _command, owner, attribute in _walk(root):
        text = getattr(owner, attribute, None)
        if isinstance(text, str) and text:
            setattr(owner, attribute, _(text))


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    found = []
    for template in CLICK_TEMPLATES:
        pieces = _FIELD.split(template)  # literal, field, literal, field, ..., literal
        regex = "".join(
            re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>.+?)"
            for i, piece in enumerate(pieces)
        )
        found.append((template, re.compile(regex, re.DOTALL)))
    return tuple(found)


def translate_message(text: str) -> str:
    """One line Click composed, in the current language: the first of
    :data:`CLICK_TEMPLATES` it matches, told with the catalog's template (its
    ``{message}`` parts translated the same way); else the line as a text of the catalog."""
    for template, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match is not None:
            fields = {
                name: translate_message(value) if name == "message" else value
                for name, value in match.groupdict().items()
            }
            return _(template).format(**fields)
    return _(text) if text else text


def translate_lines(text: str) -> str:
    """Each line of ``text`` through :func:`translate_message`."""
    return "\n".join(translate_message(line) for line in text.split("\n"))


def _echo(message: Any = None, *args: Any, **kwargs: Any) -> None:
    """Click's ``echo`` for its exceptions' messages, in the current language."""
    if isinstance(message, str):
        message = translate_lines(message)
    _click_echo(message, *args, **kwargs)


def install() -> None:
    """Route Typer's and Click's words through the catalog (idempotent; once per process)."""
    typer.core._ = _  # type: ignore[attr-defined]
    _click_exceptions.echo = _echo  # type: ignore[attr-defined]
    _click.Context.formatter_class = LocalizedFormatter
