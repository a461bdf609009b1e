"""Start-up paths: a command imports its own module only, ``--help`` imports no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flowmatrix.cli import COMMAND_MODULES, COMMANDS, _load_commands
from flowmatrix.cli.app import app

HEAVY = ("pydantic", "rich", "yaml", "ruamel", "jinja2", "cryptography", "aerleon", "dns")

PROBE = """
import contextlib, io, json, sys
from flowmatrix.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""


def imported_by(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


def command_modules(modules: set[str]) -> set[str]:
    return {m.removeprefix("flowmatrix.cli.") for m in modules if m.endswith("_cmd")}


def test_the_command_map_names_every_command_and_its_module() -> None:
    _load_commands([])
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == set(COMMANDS)
    assert set(COMMANDS.values()) == set(COMMAND_MODULES)


def test_a_command_imports_only_its_own_module() -> None:
    assert command_modules(imported_by("plan", "--help")) == {"plan_cmd"}
    assert command_modules(imported_by("certs", "--help")) == {"certs_cmd"}
    assert command_modules(imported_by("verify", "--help")) == {"verify_cmd"}


def test_help_lists_every_command_without_heavy_imports() -> None:
    modules = imported_by("--help")
    assert command_modules(modules) == set(COMMAND_MODULES)
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "--help"], capture_output=True, text=True, check=True
    )
    for name in COMMANDS:
        assert f" {name} " in done.stdout


def test_english_help_is_not_translated() -> None:
    # the help texts are translated (and Typer's words rerouted) only when a run is not in
    # English: an English --help walks no tree and imports nothing for it
    assert "flowmatrix.cli.help_language" not in imported_by("--help")
    assert "flowmatrix.cli.help_language" not in imported_by("plan", "--help", "--lang", "en")
    assert "flowmatrix.cli.help_language" in imported_by("plan", "--help", "--lang", "fr")


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "plna"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Did you mean 'plan'?" in done.stderr


def test_plan_as_json_needs_no_table_library() -> None:
    modules = imported_by("plan", "-f", "json")
    assert "rich" not in {m.split(".")[0] for m in modules}
    assert command_modules(modules) == {"plan_cmd"}


def test_a_plan_from_the_cache_needs_no_yaml_reader() -> None:
    imported_by("plan", "-f", "json")  # the first run reads the site and fills the cache
    again = {m.split(".")[0] for m in imported_by("plan", "-f", "json")}
    assert not again & {"yaml", "ruamel", "rich"}


def test_the_program_leaves_with_its_output_whole_and_its_exit_code() -> None:
    # run as a program, flowmatrix ends without the interpreter's teardown: what it wrote
    # must still be there to the last byte, with the command's exit code
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "catalog", "-f", "json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["requirements"]
    missing = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "plan", "/nonexistent/site.yaml"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert missing.stderr == (
        "flowmatrix: error: /nonexistent/site.yaml: no such file (hint: check the path)\n"
    )


def test_a_profiler_still_gets_its_report(tmp_path: Path) -> None:
    # under cProfile (or coverage, a tracer), the program exits the usual way, so that the
    # tool writes what it measured
    stats = tmp_path / "plan.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "flowmatrix", "catalog"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert stats.stat().st_size > 0
