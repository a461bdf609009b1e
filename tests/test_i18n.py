"""The language layer: the French catalog is complete, ships compiled, keeps every
placeholder, and the language comes from --lang or the environment."""

from __future__ import annotations

import gettext
import io
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from flowmatrix import i18n

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


@pytest.fixture(scope="module")
def script(i18n_script: ModuleType) -> ModuleType:
    return i18n_script


def test_every_marked_text_has_a_french_translation(script: ModuleType) -> None:
    gaps = script.missing(script.read_catalogs(), script.extracted())
    assert gaps == [], f"{len(gaps)} texts without French (python scripts/i18n.py check):\n" + (
        "\n".join(gaps[:40])
    )


def test_the_catalog_is_one_file(script: ModuleType) -> None:
    assert sorted(p.name for p in script.MESSAGES.glob("*.po")) == ["flowmatrix.po"]


def test_the_shipped_mo_is_the_compiled_po(script: ModuleType) -> None:
    shipped = gettext.GNUTranslations(io.BytesIO(script.MO.read_bytes()))
    fresh = gettext.GNUTranslations(io.BytesIO(script.compiled(script.read_catalogs())))
    assert shipped._catalog == fresh._catalog, "run: python scripts/i18n.py compile"  # type: ignore[attr-defined]


def test_translations_keep_the_placeholders(script: ModuleType) -> None:
    wrong = []
    for message in script.read_catalogs():
        if not message.id or not message.string:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(sources[-1])) | set(PLACEHOLDER.findall(sources[0]))
        for target in targets:
            if set(PLACEHOLDER.findall(target)) - wanted or (
                not isinstance(message.id, tuple) and set(PLACEHOLDER.findall(target)) != wanted
            ):
                wrong.append(f"{sources[0]!r} -> {target!r}")
    assert wrong == []


def test_no_marked_text_is_translated_at_import(script: ModuleType) -> None:
    """A module-level ``_()`` runs before the language is known: tables use ``N_``."""
    import ast

    offenders = []
    for path in sorted((ROOT / "src" / "flowmatrix").rglob("*.py")):
        pending: list[ast.AST] = [ast.parse(path.read_text("utf-8"))]
        while pending:  # what runs at import: not inside a function or a lambda
            node = pending.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"_", "ngettext", "pgettext"}
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            pending.extend(ast.iter_child_nodes(node))
    assert offenders == []


def test_french_plural_rule() -> None:
    with i18n.language("fr"):
        forms = [i18n.catalog("fr").plural(n) for n in (0, 1, 2, 30)]  # type: ignore[attr-defined]
    assert forms == [0, 0, 1, 1]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "fr_CA.UTF-8"}, "fr"),
        ({"LC_ALL": "C", "LC_MESSAGES": "fr_FR"}, "en"),
        ({"LANGUAGE": "fr:en", "LANG": "C"}, "fr"),
        ({"LANGUAGE": "de:fr", "LANG": "fr_FR"}, "en"),
        ({"LANG": "fr_BE@euro"}, "fr"),
    ],
)
def test_language_from_the_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.from_environment(environ) == expected


def test_language_is_scoped() -> None:
    i18n.use("en")
    with i18n.language("fr"):
        assert i18n._("Source zone") == "Zone source"
        assert i18n.current() == "fr"
    assert i18n._("Source zone") == "Source zone"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("LC_", "LANG"))}
    return subprocess.run(
        [sys.executable, "-m", "flowmatrix", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
        check=False,
    )


def test_environment_and_option_choose_the_language_of_errors() -> None:
    missing = "/nonexistent/site.yaml"
    french = _run(["plan", missing], {"LANG": "fr_FR.UTF-8"})
    assert french.returncode == 2
    assert french.stderr.startswith("flowmatrix : erreur : ")
    assert "(piste : " in french.stderr
    english = _run(["plan", missing, "--lang", "en"], {"LANG": "fr_FR.UTF-8"})
    assert english.stderr.startswith("flowmatrix: error: ")
    assert "(hint: " in english.stderr
    chosen = _run(["plan", missing, "--lang", "fr"], {"LANG": "C.UTF-8"})
    assert chosen.stderr.startswith("flowmatrix : erreur : ")


def test_the_translation_function_is_never_shadowed() -> None:
    """``_`` as a throwaway name in a module that translates with ``_()`` hides the
    function for the whole function body (``_, public = ...`` then ``_("text")``)."""
    import ast

    offenders = []
    for path in sorted((ROOT / "src" / "flowmatrix").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        imports_it = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "flowmatrix.i18n"
            and any(alias.name == "_" and alias.asname is None for alias in node.names)
            for node in ast.walk(tree)
        )
        if not imports_it:
            continue
        comprehension_targets = {
            id(name)
            for node in ast.walk(tree)
            if isinstance(node, ast.comprehension)
            for name in ast.walk(node.target)
        }
        offenders += [
            f"{path.relative_to(ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Name)
            and node.id == "_"
            and isinstance(node.ctx, ast.Store)
            and id(node) not in comprehension_targets
        ]
    assert offenders == []
