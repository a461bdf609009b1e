"""``--help`` and usage errors speak the run's language: every command's help is French
under ``--lang fr`` (either side of ``--help``) or a French environment, and English
runs print exactly what Typer and Click print on their own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import typer.main
from babel.messages.catalog import Catalog
from tests.english_words import english_in

from flowmatrix.cli import _load_commands
from flowmatrix.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
FRENCH = {"LANG": "fr_FR.UTF-8"}
#: What an option takes, in capitals (``--to ROLE|HOST``, ``HOST:PORT``): a placeholder.
METAVAR = re.compile(r"\b[A-Z][A-Z_]+\b")
#: Typer's own rendering of a run, without flowmatrix's entry point (nor its hooks).
TYPER_ALONE = """
import sys
from flowmatrix.cli import _load_commands
from flowmatrix.cli.app import app
_load_commands(sys.argv[1:])
app(sys.argv[1:], prog_name="flowmatrix")
"""


def _tree() -> list[tuple[tuple[str, ...], bool]]:
    """Every command path of the real tree, and whether the command has ``--lang``."""
    _load_commands([])
    found = []
    pending: list[tuple[tuple[str, ...], typer.main._click.Command]] = [
        ((), typer.main.get_command(app))
    ]
    while pending:
        path, command = pending.pop(0)
        has_lang = any("--lang" in param.opts for param in command.params)
        found.append((path, has_lang))
        subs = getattr(command, "commands", {})
        pending.extend(((*path, name), sub) for name, sub in subs.items())
    return found


TREE = _tree()
LEAVES = [path for path, has_lang in TREE if has_lang]


@pytest.fixture(autouse=True)
def _width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Click wraps help to the terminal: the same width in this process and a child."""
    monkeypatch.setenv("COLUMNS", "80")


def _assert_french(text: str) -> None:
    found = english_in(METAVAR.sub(" ", text))
    assert not found, f"{len(found)} lines in English:\n" + "\n".join(found[:30])


def _typer_alone(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", TYPER_ALONE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", "LANG": "C.UTF-8"},
        timeout=60,
        check=False,
    )


def test_the_tree_is_walked_whole() -> None:
    paths = {path for path, _ in TREE}
    assert {(), ("plan",), ("certs",), ("certs", "check"), ("site", "upgrade")} <= paths
    assert len(LEAVES) > 15


@pytest.mark.parametrize("path", [p for p, _ in TREE], ids=lambda p: " ".join(p) or "root")
def test_every_help_is_french_in_a_french_environment(
    run_cli, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    result = run_cli(*path, "--help")
    assert result.code == 0, result
    assert result.stdout.startswith(f"Utilisation : flowmatrix {' '.join(path)}".rstrip())
    _assert_french(result.stdout)


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_lang_fr_either_side_of_help(run_cli, path: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    before = run_cli(*path, "--lang", "fr", "--help")
    after = run_cli(*path, "--help", "--lang=fr")
    assert before.code == after.code == 0
    assert before.stdout == after.stdout
    assert "Afficher ce message et quitter." in before.stdout
    _assert_french(before.stdout)


@pytest.mark.parametrize("path", [p for p, _ in TREE], ids=lambda p: " ".join(p) or "root")
def test_english_help_is_english(run_cli, path: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """The reader finds the English of every help: the French checks above can fail."""
    run_cli(*path, "--help", "--lang", "fr")  # the hooks are installed in this process now
    result = run_cli(*path, "--help")
    assert result.stdout.startswith("Usage: flowmatrix")
    assert english_in(result.stdout)


@pytest.mark.parametrize(
    "args",
    [("--help",), ("plan", "--help"), ("rules", "--help"), ("certs", "check", "--help")],
    ids=" ".join,
)
def test_english_help_is_what_typer_prints_alone(run_cli, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    run_cli("plan", "--help", "--lang", "fr")  # French first: English must not keep any of it
    alone = _typer_alone(*args)
    result = run_cli(*args)
    assert alone.returncode == result.code == 0
    assert result.stdout == alone.stdout


def test_english_usage_error_is_what_typer_prints_alone(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("plan", "--no-such-option", "--lang", "fr")
    alone = _typer_alone("plan", "--no-such-option")
    result = run_cli("plan", "--no-such-option")
    assert alone.returncode == result.code == 2
    assert result.stderr == alone.stderr
    assert "Error: No such option: --no-such-option" in result.stderr


def test_usage_error_in_french(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", "--no-such-option", "--lang", "fr")
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "Utilisation : flowmatrix plan [OPTIONS] [site]",
        "Essayez 'flowmatrix plan -h' pour l'aide.",
        "",
        "Erreur : Option inconnue : --no-such-option",
    ]


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (("plan", "-f", "nope"), "Erreur : Valeur invalide pour '--format' / '-f' : 'nope' n'est"),
        (("certs", "check"), "Erreur : Argument 'files' manquant."),
        (("plna",), "Erreur : Commande inconnue 'plna'. Vouliez-vous dire 'plan' ?"),
        (("plan", "a", "b"), "Erreur : Argument(s) en trop inattendu(s) (b)"),
        (("plan", "--format"), "Erreur : L'option '--format' demande un argument."),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_usage_errors_in_a_french_environment(
    run_cli, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], french: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    result = run_cli(*args)
    assert result.code == 2
    assert french in result.stderr
    _assert_french(result.stderr)


def test_french_environment_in_a_process_of_its_own() -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "verify", "--help"],
        capture_output=True,
        text=True,
        env={**base, **FRENCH},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Utilisation : flowmatrix verify [OPTIONS] [site]")
    assert "Sonder les flux planifiés" in done.stdout
    _assert_french(done.stdout)


def test_every_help_text_has_its_french_translation(i18n_script: ModuleType) -> None:
    script = i18n_script
    texts = Catalog(locale=None)
    for text, location in script.help_texts():
        texts.add(text, locations=[location])
    assert len(texts) > 100
    assert script.missing(script.read_catalogs(), texts) == []
    texts.add("A help text nobody translated.", locations=[script.NOWHERE])
    assert script.missing(script.read_catalogs(), texts) == [
        "cli --help:None: 'A help text nobody translated.'"
    ]


def test_the_language_given_before_the_command(run_cli) -> None:  # type: ignore[no-untyped-def]
    # flowmatrix --lang fr COMMAND: the application's option is every command's
    helped = run_cli("--lang", "fr", "--help")
    assert helped.code == 0 and helped.stdout.startswith("Utilisation : flowmatrix")
    planned = run_cli("--lang", "fr", "plan")
    assert planned.code == 0 and "34 flux à travers 2 pare-feu" in planned.stderr
    # a command's own --lang still wins, and without any the environment's (C: English)
    assert "34 flows across" in run_cli("--lang", "fr", "plan", "--lang", "en").stderr
    assert "34 flows across" in run_cli("plan").stderr
