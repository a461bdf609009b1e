"""``rules`` and ``matrix check`` in French: findings, errors, hints, summaries, verdicts.

The generated rulesets (and the comments in them, which ``audit`` reads back) stay as
they are in every language; the JSON and CSV of ``matrix check`` keep their codes; a
French and an English workbook are both read back.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tests.rules.dnsserver import dns_server

from flowmatrix.api import example_text, load_plan
from flowmatrix.i18n import language
from flowmatrix.rules import Scope, generate

# run_cli is the in-process CLI fixture of tests/conftest.py
RunCli = Any
ENTERPRISE = example_text("enterprise-dual-stack")
EDGE = ("--firewall", "edge")


def _site(tmp_path: Path, text: str) -> str:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _without_proxy(text: str) -> str:
    return re.sub(r"\nproxy: .*\n  host: proxy1\n  port: 3128\n", "\n", text)


# --- rules: the summary, findings, errors ------------------------------------------------


def test_rules_summary_and_findings_in_french(run_cli: RunCli) -> None:
    done = run_cli("rules", "--firewall", "fw-front", "--lang", "fr")
    assert done.code == 0, done
    assert (
        "pare-feu fw-front : 11 flux : 9 rendus (dont 2 ouverts à toute adresse par choix), 0 manquant, "
        "2 écartés comme obsolètes ; 6 règles (nftables), 0 erreur, 0 avertissement"
    ) in done.stderr
    assert (
        "info : XM-ADD-02.1 : ouverture à toute adresse par choix : destination fcm ouverte à "
        "toute adresse Internet sur tcp/443 : "
    ) in done.stderr
    for english in ("rendered", "any", "left out", "errors", "warnings", "firewall "):
        assert english not in done.stderr, english
    # the ruleset's own comments stay English (audit reads them back)
    assert done.stdout.startswith("#!/usr/sbin/nft -f")
    assert "# flowmatrix: nftables rules for firewall fw-front" in done.stdout
    assert "left out: obsolete: not requested" in done.stdout


def test_the_english_summary_is_unchanged(run_cli: RunCli) -> None:
    done = run_cli("rules", "--firewall", "fw-front")
    assert (
        "firewall fw-front: 11 flows: 9 rendered (2 as explicit any), 0 missing, "
        "2 left out as obsolete; 6 rules (nftables), 0 errors, 0 warnings"
    ) in done.stderr
    assert "info: XM-ADD-02.1: explicit any: destination fcm opened" in done.stderr


@pytest.mark.parametrize(
    ("site", "firewall", "target"),
    [
        (None, "fw-front", "nftables"),
        (None, "fw-back", "iptables"),
        ("example:hospital", "edge", "nftables"),
        ("example:hospital", "edge", "iptables"),
        ("example:hospital", "edge", "fortigate"),
        ("example:hospital", "edge", "paloalto"),
        ("example:hospital", "edge", "ciscoasa"),
        ("example:hospital", "edge", "srx"),
        ("example:enterprise-dual-stack", "edge", "cisco"),
    ],
)
def test_the_generated_rules_do_not_depend_on_the_language(
    site: str | None, firewall: str, target: str
) -> None:
    plan = load_plan(site)
    with language("en"):
        english = generate(plan, Scope("firewall", firewall), target)
    with language("fr"):
        french = generate(plan, Scope("firewall", firewall), target)
    assert french.text == english.text
    assert [f.severity for f in french.findings] == [f.severity for f in english.findings]


def test_a_missing_flow_is_said_in_french_and_commented_in_english(
    run_cli: RunCli, tmp_path: Path
) -> None:
    site = _site(tmp_path, _without_proxy(ENTERPRISE))
    done = run_cli("rules", site, *EDGE, "--lang", "fr")
    assert done.code == 1
    assert (
        "erreur : XM-DEV-02.1 : manquant : destination *.mzstatic.com : aucun filtre de "
        "paquets ne peut reconnaître un nom générique (wildcard) (piste : déclarez proxy: "
        "ou choisissez internet: any pour app-stores sous external:)"
    ) in done.stderr
    assert "1 manquant" in done.stderr
    assert "no packet filter" not in done.stderr
    # the comment kept in the ruleset for the missing flow is the English one
    assert (
        "XM-DEV-02.1: not rendered: destination .mzstatic.com: no packet filter can match "
        "a wildcard name"
    ) in done.stdout
    forti = run_cli("rules", site, *EDGE, "-t", "fortigate", "--lang", "fr")
    assert "FortiGate n'a pas d'objet FQDN générique (wildcard) en IPv6" in forti.stderr


def test_a_name_that_does_not_resolve_in_french(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "edge.nft"
    with dns_server({}) as resolver:
        done = run_cli(
            "rules", "example:enterprise-dual-stack", *EDGE, "--resolve", "--resolver",
            resolver, "-o", str(out), "--lang", "fr",
        )  # fmt: skip
    assert done.code == 1 and not out.exists()
    assert (
        "erreur : XM-DEV-03.1 : le nom rest.nexmo.com ne se résout pas : le nom n'existe pas "
        "(NXDOMAIN)"
    ) in done.stderr
    assert "pare-feu edge : rien n'est écrit : 1 nom n'a pas été résolu (rest.nexmo.com)" in (
        done.stderr
    )


def test_vendor_and_nat_findings_in_french(run_cli: RunCli) -> None:
    palo = run_cli("rules", "--firewall", "fw-front", "-t", "paloalto", "--lang", "fr")
    assert palo.code == 0, palo
    assert (
        "flux ont une extrémité Internet écrite comme toute adresse, ce que les autres zones "
        "du site reconnaissent aussi : le générateur Palo Alto d'aerleon perd les noms"
    ) in palo.stderr
    assert "written as any address" not in palo.stderr
    cisco = run_cli("rules", "example:hospital", "-F", "edge", "-t", "cisco", "--lang", "fr")
    assert (
        "avertissement : NAT (cisco) : les 3 traductions d'adresses du pare-feu ne sont pas "
        "écrites : cette cible n'a que des filtres"
    ) in cisco.stderr
    assert "0 erreur, 1 avertissement" in cisco.stderr
    gce = run_cli("rules", "--firewall", "fw-front", "-t", "gce", "--lang", "fr")
    assert "les règles GCE choisissent les destinations par tag réseau" in gce.stderr


@pytest.mark.parametrize(
    ("args", "french", "english"),
    [
        ((), "erreur : quel pare-feu ? (piste : donnez --firewall NOM (fw-front, fw-back) ou "
         "--host NOM)", "which firewall"),
        (("-F", "nope"), "pare-feu inconnu 'nope' (piste : les pare-feu du site : fw-front, "
         "fw-back)", "unknown firewall"),
        (("--host", "nope"), "hôte inconnu 'nope'", "unknown host"),
        (("-F", "fw-front", "--host", "xms1"), "donnez --firewall ou --host, pas les deux",
         "not both"),
        (("-F", "fw-front", "--resolver", "1.2.3.4"), "--resolver s'utilise avec --resolve",
         "goes with"),
        (("-t", "squid", "-F", "fw-front"), "--target squid écrit la liste d'autorisations du "
         "proxy du site : pas de --firewall ni de --host", "allow-list"),
        (("-F", "fw-front", "-t", "srx", "--check"), "--check n'a pas de validateur pour srx "
         "(piste : il fonctionne avec nftables, iptables, ip6tables et squid)", "validator"),
        (("-F", "fw-front", "-t", "srx", "--dnsmasq", "x.conf"), "--dnsmasq s'utilise avec "
         "--target nftables, iptables ou ip6tables (piste : les autres plateformes résolvent "
         "elles-mêmes leurs objets FQDN)", "goes with"),
        (("-F", "fw-front", "--resolve", "--resolver", "nowhere"), "--resolver 'nowhere' "
         "n'est pas une adresse (piste : donnez l'adresse IP du résolveur", "not an address"),
    ],
)  # fmt: skip
def test_rules_errors_in_french(
    run_cli: RunCli, args: tuple[str, ...], french: str, english: str
) -> None:
    done = run_cli("rules", *args, "--lang", "fr")
    assert done.code == 2, done
    assert french in done.stderr
    assert english not in done.stderr


def test_lang_from_the_environment() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "fr_FR.UTF-8"
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "rules", "--firewall", "fw-back"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"pare-feu fw-back : \d+ flux : \d+ rendus? ", done.stderr), done.stderr
    assert "rendered" not in done.stderr
    assert done.stdout.startswith("#!/usr/sbin/nft -f")
    assert "# flowmatrix: nftables rules for firewall fw-back" in done.stdout


# --- matrix check ------------------------------------------------------------------------

HEADER = ["N°", "Émetteur", "IP source", "Cible", "IP destination", "Protocole", "Port(s)"]
ROWS = [
    ["1", "xms1", "10.10.20.11", "dns", "10.10.20.42", "TCP", "53"],  # DNS is UDP and TCP
    ["2", "xms1", "10.10.20.11", "any", "any", "TCP", "443"],  # not in the plan, too wide
]


def _workbook(tmp_path: Path, rows: list[list[str]] = ROWS) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Demande"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    path = tmp_path / "demande.xlsx"
    workbook.save(path)
    return path


def test_matrix_check_table_summary_and_annotated_copy_in_french(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = _workbook(tmp_path)
    annotated = tmp_path / "annotée.xlsx"
    done = run_cli("matrix", "check", str(path), "--lang", "fr", "-a", str(annotated))
    assert done.code == 1
    out, err = done.stdout, done.stderr
    assert "mauvais protocole" in out
    assert "le plan demande UDP 53, la ligne demande TCP" in out
    assert "Flux planifiés non couverts" in out and "manquant" in out
    assert "│ toutes " in out and " any " not in out  # an end open to any address
    assert re.search(r"^2 lignes : .*; flux-ports planifiés : .* ; \d+ constats$", err.strip())
    for english in ("wrong protocol", "the plan needs", "row(s)", "finding"):
        assert english not in out + err, english
    book = openpyxl.load_workbook(annotated)
    assert book.sheetnames == ["Demande", "Flux manquants"]
    sheet = book["Demande"]
    assert sheet.cell(row=1, column=8).value == "Verdict flowmatrix"
    verdict = str(sheet.cell(row=2, column=8).value)
    assert "mauvais protocole" in verdict and "la ligne demande TCP" in verdict
    missing = book["Flux manquants"]
    assert [c.value for c in missing[1]][:4] == ["N°", "IP source", "IP destination", "Protocole"]


def test_matrix_check_json_keeps_its_codes(run_cli: RunCli, tmp_path: Path) -> None:
    path = _workbook(tmp_path)
    done = run_cli("matrix", "check", str(path), "--lang", "fr", "-f", "json")
    document = json.loads(done.stdout)
    verdicts = {r["verdict"] for r in document["rows"]}
    assert "wrong_protocol" in verdicts
    assert {u["status"] for u in document["flows"]} <= {
        "covered", "missing", "wrong_protocol", "wrong_netscaler_address", "not_requested",
        "opened",
    }  # fmt: skip
    details = [d for r in document["rows"] for d in r["details"]]
    assert any("le plan demande UDP 53" in d for d in details)
    csv = run_cli("matrix", "check", str(path), "--lang", "fr", "-f", "csv")
    assert csv.stdout.splitlines()[0] == "kind,where,verdict,flows,protocol,port,detail"
    assert ",wrong_protocol," in csv.stdout


@pytest.mark.parametrize(("written", "read"), [("fr", "en"), ("en", "fr"), ("fr", "fr")])
def test_the_report_workbook_reads_back_in_either_language(
    run_cli: RunCli, tmp_path: Path, written: str, read: str
) -> None:
    report = tmp_path / f"rapport-{written}.xlsx"
    assert run_cli("report", "-f", "xlsx", "--lang", written, "-o", str(report)).code == 0
    done = run_cli("matrix", "check", str(report), "--lang", read, "-f", "json")
    document = json.loads(done.stdout)
    assert document["summary"]["findings"] == 0, document["summary"]
    assert document["summary"]["rows"].get("covered", 0) > 0
    words = ("constat", "ligne") if read == "fr" else ("finding", "row")
    assert all(w in done.stderr for w in words), done.stderr


@pytest.mark.parametrize(
    ("rows", "french"),
    [
        ([["1", "xms1", "10.10.20.11", "dns", "10.10.20.42", "TCP", "cinquante"]],
         "!Demande!G2: 'cinquante' n'est pas un port (piste : écrivez un port (443), "
         "une liste"),
        ([["1", "xms1", "10.10.20.11", "dns", "10.10.20.42", "TCP", "70000"]],
         "le port '70000' est hors de 1-65535 (piste : les ports sont numérotés de 1 à 65535)"),
        ([["1", "xms1", "nulle-part", "dns", "10.10.20.42", "TCP", "53"]],
         "'nulle-part' n'est ni une adresse, ni un réseau, ni une plage, ni un hôte ou un "
         "rôle du site"),
        ([["1", "xms1", "10.10.20.11", "dns", "10.10.20.42", "SCTP", "53"]],
         "'sctp' n'est pas un protocole (piste : écrivez TCP, UDP, TCP/UDP ou ICMP)"),
        ([["1", "xms1", "10.10.20.11", "", "", "TCP", "53"]],
         "la ligne n'a pas de destination (piste : remplissez la cellule"),
    ],
)  # fmt: skip
def test_matrix_check_cell_errors_in_french(
    run_cli: RunCli, tmp_path: Path, rows: list[list[str]], french: str
) -> None:
    done = run_cli("matrix", "check", str(_workbook(tmp_path, rows)), "--lang", "fr")
    assert done.code == 2, done
    assert french in done.stderr
    assert "hint" not in done.stderr


def test_matrix_check_file_errors_in_french(run_cli: RunCli, tmp_path: Path) -> None:
    empty = tmp_path / "vide.csv"
    empty.write_text("", encoding="utf-8")
    done = run_cli("matrix", "check", str(empty), "--lang", "fr")
    assert done.code == 2 and "le fichier est vide" in done.stderr
    notes = tmp_path / "notes.csv"
    notes.write_text("bonjour;le monde\n", encoding="utf-8")
    done = run_cli("matrix", "check", str(notes), "--lang", "fr")
    assert "aucune ligne d'en-tête trouvée" in done.stderr
    assert "(piste : nommez les colonnes (Source, Destination, Port...)" in done.stderr
    damaged = tmp_path / "abîmé.xlsx"
    damaged.write_bytes(b"PK\x03\x04 pas un zip")
    done = run_cli("matrix", "check", str(damaged), "--lang", "fr")
    assert "pas un classeur XLSX (le fichier est endommagé ou d'un autre type)" in done.stderr
    book = _workbook(tmp_path)
    done = run_cli("matrix", "check", str(book), "--sheet", "Autre", "--lang", "fr")
    assert "aucune feuille nommée 'Autre' (piste : feuilles : 'Demande')" in done.stderr
    done = run_cli("matrix", "check", str(book), "--columns", "source", "--lang", "fr")
    assert "--columns : 'source' n'est pas de la forme CHAMP=COLONNE" in done.stderr
    done = run_cli("matrix", "check", str(book), "-o", str(book), "--lang", "fr")
    assert "est la feuille en cours de vérification" in done.stderr


def test_matrix_check_summary_singular_in_french(run_cli: RunCli, tmp_path: Path) -> None:
    path = _workbook(tmp_path, ROWS[:1])
    done = run_cli("matrix", "check", str(path), "--lang", "fr", "-o", str(tmp_path / "o.txt"))
    assert done.stderr.strip().startswith("1 ligne : 1 mauvais protocole ; ")


def test_in_memory_outputs_follow_the_lang_argument(tmp_path: Path) -> None:
    from flowmatrix.matrixcheck.annotate import annotate
    from flowmatrix.matrixcheck.check_matrix import check_matrix
    from flowmatrix.matrixcheck.output import render_csv, summary_line

    check = check_matrix(_workbook(tmp_path), load_plan(None))
    with language("en"):  # the argument decides, not the current language
        assert "constat" in summary_line(check.result, "fr")
        assert "le plan demande UDP 53" in render_csv(check.result, "fr")
        raw = annotate(check.raw, check.is_xlsx, check.checked, check.result, "fr")
    assert "Flux manquants" in openpyxl.load_workbook(io.BytesIO(raw)).sheetnames
    with language("fr"):
        assert "finding" in summary_line(check.result, "en")
