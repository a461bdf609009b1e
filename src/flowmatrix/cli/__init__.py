"""Command-line interface: parse, call the API, render. No logic lives here.

Each command lives in its own module and registers itself on ``app``; the options that
several commands share are in ``options``, the output and exit-code glue in ``common``.
Heavy imports stay inside the command functions so that ``flowmatrix --help`` starts fast,
and a run of one command imports (and has Typer build) that command's module only:
``COMMANDS`` says which module registers which command.

Imports: every package; no module outside ``cli`` imports it (but ``__main__``).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

from flowmatrix.errors import ExitCode, UserError

if TYPE_CHECKING:
    from typer._click import Command

    from flowmatrix.i18n import Lang

#: The option that names the file a command writes.
OUTPUT_FLAGS = ("--output", "-o")

#: Command modules, in the order their commands appear in ``--help``.
COMMAND_MODULES = (
    "catalog_cmd",
    "plan_cmd",
    "rules_cmd",
    "verify_cmd",
    "watch_cmd",
    "journeys_cmd",
    "listen_cmd",
    "audit_cmd",
    "lab_cmd",
    "report_cmd",
    "certs_cmd",
    "ads_cmd",
    "fleet_cmd",
    "merge_cmd",
    "import_cmd",
    "matrix_cmd",
    "site_cmd",
)


#: Command (or command group) name -> the module that registers it.
COMMANDS = {
    "catalog": "catalog_cmd",
    "plan": "plan_cmd",
    "schema": "plan_cmd",
    "example": "plan_cmd",
    "rules": "rules_cmd",
    "verify": "verify_cmd",
    "watch": "watch_cmd",
    "journeys": "journeys_cmd",
    "listen": "listen_cmd",
    "audit": "audit_cmd",
    "lab": "lab_cmd",
    "report": "report_cmd",
    "certs": "certs_cmd",
    "ads": "ads_cmd",
    "fleet": "fleet_cmd",
    "merge": "merge_cmd",
    "import": "import_cmd",
    "matrix": "matrix_cmd",
    "site": "site_cmd",
}


def _load_commands(argv: list[str] | None = None) -> None:
    """Import the module of the command ``argv`` runs, or every one (``--help``, a
    mistyped command: the listing and the suggestions need them all)."""
    import importlib

    from flowmatrix.cli.app import app

    args = sys.argv[1:] if argv is None else argv
    wanted = COMMANDS.get(args[0]) if args else None
    for module in (wanted,) if wanted else COMMAND_MODULES:
        importlib.import_module(f"flowmatrix.cli.{module}")
    # listed in COMMAND_MODULES' order, whichever module a process imported first
    place = {f"flowmatrix.cli.{name}": i for i, name in enumerate(COMMAND_MODULES)}
    app.registered_commands.sort(key=lambda c: place.get(c.callback.__module__, 0))
    app.registered_groups.sort(key=lambda g: COMMAND_MODULES.index(COMMANDS[g.name or ""]))


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit 2, never a traceback.

    Typer (in standalone mode) turns usage errors into exit 2 and ``typer.Exit`` into
    the process exit code itself; what reaches here is the tool's own ``UserError``.
    Run as the program (``argv`` None), the process then ends at once (:func:`_leave`).
    """
    if argv is not None:
        _run(argv)
        return
    try:
        _run(None)
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: object) -> NoReturn:
    """End the process once the command is done, without the interpreter's teardown.

    Everything the command writes is written and closed by then (outputs atomically);
    what is left is freeing every object of the run one by one, which takes longer than
    reading a big site's plan back from the cache. Standard output and error are flushed
    first; a flush that fails gives exit status 120, as Python's own exit would. Under a
    profiler, a tracer or a coverage tool, the usual exit runs instead: they write their
    findings at exit.
    """
    status = code if isinstance(code, int) else 0 if code is None else 1
    if not isinstance(code, int) and code is not None:
        sys.stderr.write(f"{code}\n")
    if _observed():
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = 120
    os._exit(status)


def _observed() -> bool:
    """A profiler, tracer or monitoring tool (coverage, cProfile, a debugger) is running."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+
    return monitoring is not None and any(monitoring.get_tool(i) for i in range(6))


def _language_asked(argv: list[str]) -> Lang | None:
    """The language ``--lang X`` / ``--lang=X`` / ``-l X`` asks for (the last one), if valid."""
    from flowmatrix.i18n import LANGUAGES

    asked = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        name, equals, value = arg.partition("=")
        if name == "--lang" and equals:
            asked = value
        elif arg in ("--lang", "-l") and i + 1 < len(argv):
            asked = argv[i + 1]
    return next((lang for lang in LANGUAGES if lang == asked), None)


def _speak_typer(command: Command, lang: str) -> None:
    """Typer's values converted directly, and its help in ``lang``: both rebind
    internals of Typer 0.29 (``param_coercion``, ``help_language``). Another Typer, whose
    internals they do not find, keeps its own coercion and English help."""
    try:
        from flowmatrix.cli import param_coercion
    except (ImportError, AttributeError):
        pass
    else:
        param_coercion.install()
    if lang == "en":
        return
    try:
        from flowmatrix.cli import help_language
    except (ImportError, AttributeError):
        return
    help_language.install()
    help_language.translate_tree(command)


def _run(argv: list[str] | None) -> None:
    from flowmatrix import i18n
    from flowmatrix.i18n import _

    # the environment's language, or --lang's: the eager option sets it too, but the help
    # option may come first on the command line (``plan --help --lang fr``)
    i18n.use(_language_asked(sys.argv[1:] if argv is None else argv) or i18n.from_environment())
    try:
        import typer.main

        from flowmatrix.cli.app import app

        _load_commands(argv)
        # what ``app(...)`` does (its exception hook only shows pretty tracebacks, which
        # the application turns off), with the tree built once so that it can be translated
        command = typer.main.get_command(app)
        _speak_typer(command, i18n.current())
        command(args=argv, prog_name="flowmatrix")
    except UserError as exc:
        from flowmatrix.textsafe import visible

        # One line, whatever the message quotes: control characters are shown as escapes.
        message = visible(str(exc), line_breaks=False)
        sys.stderr.write(_("flowmatrix: error: {message}").format(message=message) + "\n")
        sys.exit(ExitCode.USAGE)
    except KeyboardInterrupt:
        sys.stderr.write(_("flowmatrix: interrupted") + "\n")
        sys.exit(130)
    except RecursionError:  # a reader missed a bound: still one line, never a traceback
        sys.stderr.write(_("flowmatrix: error: the input is nested too deeply to process") + "\n")
        sys.exit(ExitCode.USAGE)
    except MemoryError:
        sys.stderr.write(
            _("flowmatrix: error: out of memory (is an input far larger than usual?)") + "\n"
        )
        sys.exit(ExitCode.USAGE)
    except OSError as exc:  # a read or write the command did not expect to fail
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
        sys.stderr.write(_("flowmatrix: error: {message}").format(message=message) + "\n")
        sys.exit(ExitCode.USAGE)
