"""The commands the README and docs/*.md show are commands flowmatrix takes, and those
that need nothing but the repository run: the documentation cannot drift from the CLI.

Every ``flowmatrix ...`` line of a fenced block is read as the shell would (``\\``
continuations, ``# comments``, ``|`` and ``&&`` chains, a ``sudo`` or ``ip netns exec NS``
in front) and parsed by the real command tree: the command exists, every option is one of
its options, every value converts, nothing is missing or left over. A usage synopsis
(``[SITE]``, ``(--firewall NAME | --host NAME)``) and a printed result (a benchmark's
``flowmatrix audit (process)  median ...``) are not commands. The commands whose inputs
are all in the repository or shipped (``example:``), that need neither root nor the
network (catalog, plan, rules, journeys, audit, report, fleet export), also run, in a
scratch folder, and must end with 0 or 1 (findings), never 2.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer._click.exceptions import BadParameter

from flowmatrix.cli import COMMANDS, _load_commands
from flowmatrix.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[\w-]*\n(.*?)^```", re.M | re.S)
PREFIX = re.compile(r"^(?:\$ )?(?:sudo |ip netns exec \S+ )?(?=flowmatrix\s)")
SYNOPSIS = re.compile(r"\[[A-Z-]|\(--|\.\.\.|\(process\)")
#: What runs with nothing but the repository: no root, no network, no file of the reader's.
RUNNABLE = {"catalog", "plan", "rules", "journeys", "audit", "report", "fleet export"}
#: Options whose value is a file the command writes.
OUTPUTS = {"-o", "--output", "-a", "--annotated", "-w", "--workdir"}


ERROR_SHOWN = re.compile(r"^flowmatrix ?: (error|erreur) ?:")


def _lines(text: str) -> Iterator[tuple[str, bool]]:
    """Each line of the fenced blocks, and whether the block shows it failing (the next
    line is flowmatrix's error message)."""
    for block in FENCE.findall(text):
        lines = re.sub(r"\\\n\s*", " ", block).splitlines()
        for line, after in zip(lines, [*lines[1:], ""], strict=True):
            yield line, bool(ERROR_SHOWN.match(after.strip()))


def _commands(text: str, *, failing: bool = True) -> Iterator[list[str]]:
    """Each flowmatrix command of the fenced blocks, as its argument list (``failing``:
    with those the docs show failing)."""
    for line, fails in _lines(text):
        if fails and not failing:
            continue
        found = PREFIX.match(line.strip())
        if found is None:
            continue
        shell = line.strip()[found.end() :]
        if SYNOPSIS.search(shell):
            continue
        try:
            words = shlex.split(shell, comments=True)
        except ValueError:
            continue
        for part in _chain(words):
            if len(part) > 1 and part[0] == "flowmatrix" and part[1] in COMMANDS:
                yield part[1:]


def _chain(words: list[str]) -> Iterator[list[str]]:
    part: list[str] = []
    for word in words:
        if word in ("|", "&&", ";", "||"):
            yield part
            part = []
        else:
            part.append(word)
    yield part


def _documented(*, failing: bool = True) -> list[tuple[str, list[str]]]:
    found = []
    for path in DOCS:
        for args in _commands(path.read_text("utf-8"), failing=failing):
            found.append((f"{path.name}: flowmatrix {' '.join(args)}", args))
    return found


DOCUMENTED = _documented()


@cache
def _tree() -> Any:
    _load_commands([])
    return typer.main.get_command(app)


def parse(args: list[str]) -> tuple[str, dict[str, Any]]:
    """(command path, parameters) of ``flowmatrix ARGS`` as the CLI parses it, without
    running it (a UsageError when the tree refuses it)."""
    command = _tree()
    ctx = command.make_context("flowmatrix", list(args))
    rest = [*ctx._protected_args, *ctx.args]
    names = []
    while hasattr(command, "commands"):
        name, command, rest = command.resolve_command(ctx, rest)
        names.append(name)
        try:
            ctx = command.make_context(name, rest, parent=ctx)
        except BadParameter as exc:
            if "does not exist" not in exc.format_message():
                raise  # a file the reader has (certs check fullchain.pem): not the docs' fault
            return " ".join(names), {}
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
    return " ".join(names), dict(ctx.params)


def test_the_docs_show_commands() -> None:
    assert len(DOCUMENTED) >= 60
    assert {path.name for path in DOCS} >= {"README.md", "audit.md", "verify.md", "lab.md"}


def test_a_synopsis_and_a_result_are_not_commands() -> None:
    text = (
        "```\nflowmatrix audit [SITE] --ruleset FILE (--firewall NAME | --host NAME)\n"
        "flowmatrix audit (process)   median 4.7 s\nflowmatrix probe 0.1.0\n"
        "$ sudo flowmatrix lab --clean   # tidy up\n"
        "flowmatrix lab -f json -o a.json && flowmatrix report --results a.json \\\n"
        "  -o r.html\n$ flowmatrix report -f xlsx\nflowmatrix: error: binary\n```\n"
    )
    assert list(_commands(text)) == [
        ["lab", "--clean"],
        ["lab", "-f", "json", "-o", "a.json"],
        ["report", "--results", "a.json", "-o", "r.html"],
        ["report", "-f", "xlsx"],
    ]
    assert ["report", "-f", "xlsx"] not in list(_commands(text, failing=False))


def test_the_parser_refuses_a_drifted_command() -> None:
    from typer._click.exceptions import UsageError

    with pytest.raises(UsageError):
        parse(["plan", "--explained"])
    with pytest.raises(UsageError):
        parse(["rules", "--firewall"])
    assert parse(["rules", "--firewall", "fw-front"])[0] == "rules"


@pytest.mark.parametrize(("shown", "args"), DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_a_documented_command_parses(shown: str, args: list[str]) -> None:
    name, _ = parse(args)
    assert name.split()[0] == args[0]


def _runnable(args: list[str]) -> bool:
    try:
        name, _ = parse(args)
    except Exception:  # test_a_documented_command_parses says what is wrong
        return False
    if name not in RUNNABLE:
        return False
    inputs = [
        word
        for before, word in zip(["", *args[:-1]], args, strict=True)
        if before not in OUTPUTS and not word.startswith("-") and word not in name.split()
    ]
    return all(
        word.startswith("example:") or (ROOT / word).exists() or not re.search(r"[./]", word)
        for word in inputs
    )


RUNS = [(shown, args) for shown, args in _documented(failing=False) if _runnable(args)]


def test_some_documented_commands_run() -> None:
    assert len(RUNS) >= 10


@pytest.mark.parametrize(("shown", "args"), RUNS, ids=[r[0] for r in RUNS])
def test_a_documented_command_runs(
    shown: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args)
    assert result.code in (0, 1), result.stderr
