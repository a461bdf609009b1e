"""The site area in French: every bad-site error, the plan's reasons, summary, NAT lines
and warnings, the plan table's words, ``site upgrade`` and the catalog's errors.

The English texts are the ones ``tests/test_site_errors.py`` and the plan tests assert;
here each run in French must say the same thing in French, and never the English words.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.api import load_plan
from flowmatrix.errors import UserError
from flowmatrix.i18n import language
from flowmatrix.plan import missing_reason

CORPUS = Path(__file__).parent / "data" / "bad-sites"
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "flowmatrix" / "examples"


def _expected() -> list[tuple[str, str]]:
    lines = (CORPUS / "expected.tsv").read_text("utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if line]  # type: ignore[misc]


def _english_message(name: str, expected: str) -> str:
    """The message of an expected line, without its ``file:line:col:`` and hint."""
    message = expected.split(": ", 1)[1] if expected.startswith(name) else expected
    return message.split(" (hint: ")[0]


@pytest.mark.parametrize(("name", "expected"), _expected(), ids=[n for n, _ in _expected()])
def test_every_bad_site_error_is_french(
    name: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    with pytest.raises(UserError) as caught:
        load_plan(name, lang="fr")
    with language("fr"):
        shown = str(caught.value)
    english = _english_message(name, expected)
    assert english not in shown, shown
    assert "(hint:" not in shown
    if "(hint: " in expected:
        assert "(piste : " in shown, shown
    # the place stays the same in both languages
    assert shown.split(": ", 1)[0] == expected.split(": ", 1)[0]


@pytest.mark.parametrize(
    ("name", "french"),
    [
        (
            "01-unknown-top-key.yaml",
            "clé inconnue « hostz » (piste : vouliez-vous dire « hosts » ?)",
        ),
        (
            "04-unknown-zone.yaml",
            "zone inconnue 'servers' (piste : zones possibles : dmz, internet, lan)",
        ),
        ("06-host-bits.yaml", "adresse '10.0.5.1/24' : des bits d'hôte sont à 1"),
        ("09-duplicate-host.yaml", "nom d'hôte en double 'xms1'"),
        ("14-empty.yaml", "le fichier est vide"),
        ("17-binary.yaml", "données binaires (octet NUL), pas un fichier texte YAML"),
        ("36-tabs.yaml", "erreur de syntaxe YAML : "),
        ("77-nat-public-claimed-twice.yaml", "est publiée deux fois sur tous les ports"),
        ("79-nat-public-not-outside.yaml", "pas du côté extérieur de edge (zone 'internet')"),
    ],
)
def test_bad_site_in_french_on_the_command_line(
    name: str, french: str, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    result = run_cli("plan", name, "--lang", "fr")
    assert result.code == 2
    assert result.stderr.startswith(f"flowmatrix : erreur : {name}:"), result.stderr
    assert french in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


def test_a_pydantic_complaint_in_french(run_cli: Any, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "version: 2\nname: x\nzones:\n  - {name: lan, cidrs: [10.0.0.0/8]}\n"
        "hosts:\n  - {name: h1, roles: [xenmobile], addresses: [10.0.0.1], zone: [a]}\n",
        "utf-8",
    )
    english = run_cli("plan", str(site))
    assert "zone: Input should be a valid string (hint: write text" in english.stderr
    french = run_cli("plan", str(site), "--lang", "fr")
    assert "zone : un texte est attendu (piste : écrivez du texte" in french.stderr
    assert "Input should" not in french.stderr


def test_plan_explain_in_french(run_cli: Any) -> None:
    result = run_cli("plan", "example:hospital", "--explain", "--lang", "fr")
    assert result.code == 0, result
    err = result.stderr
    assert "flux à travers 2 pare-feu ; " in err
    assert "exigences écartées, 1 en partie (--explain pour le détail)" in err
    assert "exigence XM-APP-17 écartée : la fonctionnalité « radius » est désactivée" in err
    assert "exigence XM-APP-03 écartée : exclue par le site : " in err
    assert "flux XM-DEV-08.1 non demandé : obsolète (keep_obsolete: [XM-DEV-08])" in err
    assert "NAT edge DNAT 203.0.113.40 port 443,8443 -> 172.30.10.10 (adc1) : XM-APP-07.1" in err
    assert "ouvert à toute adresse Internet : " in err
    for english in ("left out", "flows across", "requirement(s)", "not requested", "feature '"):
        assert english not in err
    # the table's words: the catalog status, 'any'
    assert "actuel" in result.stdout and "toutes (noms :" in result.stdout
    assert " current " not in result.stdout


def test_plan_summary_stays_english_without_lang(run_cli: Any) -> None:
    result = run_cli("plan", "example:hospital", "--explain")
    assert "flows across 2 firewall(s); " in result.stderr
    assert "requirement(s) left out, 1 in part (--explain says why)" in result.stderr
    assert "  left out XM-APP-17: feature 'radius' is off" in result.stderr


def test_singular_and_plural(run_cli: Any, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "version: 1\nname: islands\nzones:\n"
        "  - {name: a, cidrs: [10.1.0.0/16]}\n  - {name: b, cidrs: [10.2.0.0/16]}\n"
        "hosts:\n  - {name: x, role: xenmobile, addresses: [10.1.0.1]}\n"
        "  - {name: d, role: dns-server, addresses: [10.2.0.1]}\n",
        "utf-8",
    )
    result = run_cli("plan", str(site), "--lang", "fr")
    assert "0 pare-feu ; " in result.stderr
    assert "exigences écartées" in result.stderr
    assert (
        "avertissement : XM-APP-02.1: aucun chemin par pare-feu de la zone a vers b"
        in result.stderr
        or "avertissement : XM-APP-02: aucun chemin par pare-feu de la zone a vers b"
        in result.stderr
    ), result.stderr
    assert "warning:" not in result.stderr


def test_plan_texts_follow_the_plans_language() -> None:
    plan = load_plan("example:hospital", lang="fr")
    reasons = {s.requirement: s.reason for s in plan.skipped}
    assert reasons["XM-APP-17"] == "la fonctionnalité « radius » est désactivée"
    notes = [n for f in plan.flows for n in f.notes]
    assert any("non demandée (le site peut la garder" in n for n in notes)
    english = load_plan("example:hospital")
    assert {s.requirement: s.reason for s in english.skipped}["XM-APP-17"] == (
        "feature 'radius' is off"
    )


def test_missing_reason_in_french(tmp_path: Path) -> None:
    plan = load_plan(EXAMPLES / "small-office.yaml", lang="fr")
    with language("fr"):
        found = [r for f in plan.flows if (r := missing_reason(f)) is not None]
    for reason in found:
        assert "n'a ni adresse, ni nom, ni choix" in reason or "nom générique" in reason
        assert "has no address" not in reason


def test_site_upgrade_in_french(run_cli: Any, tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text((EXAMPLES / "default.yaml").read_text("utf-8"), "utf-8")
    new = tmp_path / "new.yaml"
    done = run_cli("site", "upgrade", str(old), "-o", str(new), "--lang", "fr")
    assert done.code == 0, done
    assert (
        "version 1 -> 2 ; 12 hôtes listent désormais leurs rôles (« roles: [...] »)" in done.stderr
    )
    again = run_cli("site", "upgrade", str(new), "-o", str(tmp_path / "n2.yaml"), "-l", "fr")
    assert "déjà en version 2, rien à changer" in again.stderr


def test_example_and_schema_errors_in_french(run_cli: Any, tmp_path: Path) -> None:
    unknown = run_cli("example", "nope", "--lang", "fr")
    assert unknown.code == 2
    assert "exemple inconnu 'nope' (piste : exemples : default" in unknown.stderr
    catalog = tmp_path / "catalog.yaml"
    text = (EXAMPLES.parent / "catalogs" / "xenmobile-10.yaml").read_text("utf-8")
    catalog.write_text(text.replace("ports: [", "ports: [99999, ", 1), "utf-8")
    bad = run_cli("schema", "--catalog", str(catalog), "--lang", "fr")
    assert bad.code == 2
    assert "le port 99999 est hors de 1-65535" in bad.stderr
    assert "is outside" not in bad.stderr


def test_input_file_errors_in_french(run_cli: Any, tmp_path: Path) -> None:
    missing = run_cli("plan", str(tmp_path / "none.yaml"), "--lang", "fr")
    assert "fichier introuvable (piste : vérifiez le chemin)" in missing.stderr
    folder = run_cli("plan", str(tmp_path), "--lang", "fr")
    assert "est un répertoire, pas un fichier à lire (attendu : fichier YAML)" in folder.stderr
    unwritable = run_cli("plan", "-o", str(tmp_path / "no" / "plan.txt"), "--lang", "fr")
    assert "le dossier" in unwritable.stderr and "n'existe pas" in unwritable.stderr


def test_lang_from_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "fr_FR.UTF-8"
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "plan", str(CORPUS / "04-unknown-zone.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "zone inconnue 'servers' (piste : zones possibles : dmz, internet, lan)" in done.stderr
    assert "unknown zone" not in done.stderr
