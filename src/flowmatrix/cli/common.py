"""Output, exit-code and loading helpers shared by the commands.

The arguments and options that several commands share are in :mod:`flowmatrix.cli.options`.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, NoReturn, Protocol

import typer

from flowmatrix.cli.app import app
from flowmatrix.errors import ExitCode
from flowmatrix.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from flowmatrix.cli.options import Language, TableFormat
    from flowmatrix.fleet.merge import Matrix
    from flowmatrix.model import Plan


class TableRenderer(Protocol):
    """Text for people, told how wide it may be and whether to colour it."""

    def __call__(self, *, width: int, color: bool) -> str: ...


def command_group(name: str, help: str) -> typer.Typer:
    """A group of subcommands (``flowmatrix NAME ...``), listed in the main ``--help``."""
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def terminal_width() -> int:
    return shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() else 200


def emit(text: str | bytes | bytearray, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is not None:
        from flowmatrix.atomic import write_atomic

        write_atomic(output, text)
        return
    if not isinstance(text, str):  # bytes, or a document's buffer (a bytearray)
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text)
    sys.stdout.flush()


def emit_table(table: TableRenderer, output: Path | None) -> None:
    """Emit text for people: as wide as the terminal, coloured only when it goes to one."""
    color = output is None and stdout_is_terminal()
    emit(table(width=terminal_width(), color=color), output)


def emit_as(
    fmt: str,
    output: Path | None,
    table: TableRenderer,
    **formats: Callable[[], str | bytes | bytearray],
) -> None:
    """Emit the report in format ``fmt``: one of ``formats`` (``json=...``), else the table."""
    render = formats.get(fmt)
    if render is None:
        emit_table(table, output)
    else:
        emit(render(), output)


def note(message: str) -> None:
    """A line for the human on stderr (summaries, skipped requirements); control
    characters from the data are shown as escapes, never sent to the terminal."""
    from flowmatrix.textsafe import visible

    sys.stderr.write(visible(message) + "\n")


def warn(warnings: Iterable[str]) -> None:
    """Each warning as a ``warning: ...`` line on stderr."""
    for warning in warnings:
        note(_("warning: {warning}").format(warning=warning))


def exit_with(code: int) -> NoReturn:
    """End the command with this exit code (an ``ExitCode``, or a report's own)."""
    raise typer.Exit(int(code))


def exit_findings(found: bool) -> NoReturn:
    """Exit 1 (findings) when something was found, else 0."""
    exit_with(ExitCode.FINDINGS if found else ExitCode.OK)


def load_plan_for(site: str | None, lang: Language, catalog: str | None = None) -> Plan:
    from flowmatrix.api import load_plan

    return load_plan(site, lang=lang.value, catalog=catalog)


def emit_matrix(
    matrix: Matrix, fmt: TableFormat | None, lang: Language, output: Path | None
) -> None:
    """The merged flow matrix in the format asked for (or that ``-o``'s suffix says), its
    warnings and its summary line on stderr."""
    from functools import partial

    from flowmatrix.fleet.matrixdoc import format_for, render_matrix, summary_line

    chosen = format_for(str(output) if output else None, fmt.value if fmt else None)
    emit_table(partial(render_matrix, matrix, chosen, lang.value), output)
    warn(matrix.warnings)
    note(summary_line(matrix))
