"""``flowmatrix audit`` in French: verdict tables, reasons, fixes, findings, summaries,
errors reading a ruleset, and the human texts of the JSON, CSV and SARIF documents (their
machine values stay as they are)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.audit.from_files import audit

DATA = Path(__file__).resolve().parent / "audit" / "data"
BACK = str(DATA / "back.rules")
CLOSED_NFT = (
    "table inet filter {\n  chain forward {\n    type filter hook forward priority 0;"
    " policy drop;\n  }\n}\n"
)
# a rule of an unknown match module (depends), -m recent (depends), an unknown target
UNDECIDED = (
    "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m recent --rcheck --name trusted -j ACCEPT\n"
    "-A FORWARD -m frobnicate --zap -j ACCEPT\n-A FORWARD -j FOOBAR\nCOMMIT\n"
)


def _absent(text: str, *english: str) -> None:
    for phrase in english:
        assert phrase not in text, f"English left: {phrase!r}"


def test_table_reasons_fixes_findings_and_summary(run_cli: Any) -> None:
    result = run_cli("audit", "-F", "fw-back", "-r", BACK, "--lang", "fr")
    assert result.code == 1
    out = result.stdout
    for header in ("Flux", "De", "Vers", "Verdict", "Décidé par"):
        assert header in out
    assert "DROP par LOG_DROP#2 (ligne 14)" in out
    assert "bloqué" in out and "autorisé" in out
    assert "Correctifs" in out and "avant FORWARD#7 (-j LOG_DROP); vérifié" in out
    assert "iptables -I FORWARD 7 -s 172.16.10.5" in out  # the fix itself is not translated
    assert "Règles d'acceptation plus larges que les flux prévus qu'elles servent : 3" in out
    assert "(nécessaire : 10.10.20.43)" in out and "sert XM-APP-05.1/udp/123" in out
    assert "Règles qui ne peuvent jamais correspondre : 1" in out
    assert "masquée : jamais atteinte : FORWARD#4 prend tous les paquets" in out
    assert "Conditions non évaluées" in out and "-m limit : 2 règles, lignes 11, 13" in out
    assert "25 ports de flux : 10 autorisés, 15 bloqués ; 13 flux requis bloqués" in out
    _absent(
        out,
        "DROP by",
        "(line ",
        "Fixes",
        "checked",
        "Decided by",
        "Accept rules wider",
        "Rules that can never match",
        "never reached",
        "take every packet",
        "serves ",
        "needed:",
        "flow ports",
        "required flow(s) blocked",
        "Conditions not evaluated",
    )


def test_every_flow_allowed_says_so_with_french_plurals(run_cli: Any, tmp_path: Path) -> None:
    ruleset = tmp_path / "fw-back.nft"
    made = run_cli("rules", "-t", "nftables", "-F", "fw-back", "-o", str(ruleset))
    assert made.code == 0
    result = run_cli("audit", "-F", "fw-back", "-r", str(ruleset), "--lang", "fr")
    assert result.code == 0
    assert "ACCEPT par forward#" in result.stdout
    assert "bloqué (non requis)" in result.stdout  # the obsolete flows
    assert "ports de flux : 23 autorisés, 2 bloqués ; 0 flux requis bloqué\n" in result.stdout
    _absent(result.stdout, "ACCEPT by", "not required", " allowed", "flow ports")


def test_closed_ruleset_every_fix_placement_in_french(run_cli: Any, tmp_path: Path) -> None:
    closed = tmp_path / "closed.nft"
    closed.write_text(CLOSED_NFT)
    for firewall in ("edge", "core"):
        result = run_cli(
            "audit", "example:hospital", "-F", firewall, "-r", str(closed), "--lang", "fr"
        )
        assert result.code == 1
        out = result.stdout
        assert f"pare-feu {firewall} (nftables {closed})" in out
        assert "politique DROP de inet filter/forward" in out
        assert "à la fin de forward (sa politique rejette le paquet); vérifié" in out
        assert "nft add rule inet filter forward" in out
        assert "flux requis bloqués" in out
        _absent(out, "policy DROP of", "at the end of", "its policy drops", "firewall ")


def test_undecided_verdicts_say_why_in_french(run_cli: Any, tmp_path: Path) -> None:
    ruleset = tmp_path / "undecided.rules"
    ruleset.write_text(UNDECIDED)
    result = run_cli("audit", "-F", "fw-back", "-r", str(ruleset), "--lang", "fr", "--strict")
    assert result.code == 1  # --strict: undecided required flows
    out = result.stdout
    assert "conditionnel" in out and "— dépend de [-m" in out
    assert "-m frobnicate : 1 règle, ligne 4" in out
    assert "-m recent : 1 règle, ligne 3" in out
    assert f"non lu : {ruleset}:5: cible FOOBAR non comprise : son verdict est inconnu" in out
    assert "25 ports de flux : 25 conditionnels ; 0 flux requis bloqué" in out
    _absent(out, "depends on", "not understood", "not read:", "rule(s)")
    table = run_cli("audit", "-F", "fw-back", "-r", str(ruleset), "--lang", "fr", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert {row["flow_status"] for row in rows} == {"depends"}  # machine values unchanged
    assert any("conditionnel si non [-m recent" in row["conditions"] for row in rows)
    assert any("cible inconnue par FORWARD#3" in row["decision"] for row in rows)
    assert "25 ports de flux : 0 autorisé, 0 bloqué, 0 partiellement bloqué" in table.stderr
    assert "25 indécis ; 0 flux requis bloqué" in table.stderr


def test_json_human_texts_in_french_machine_values_kept(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    result = run_cli(
        "audit", "-F", "fw-back", "-r", BACK, "--lang", "fr", "-f", "json", "-o", str(out)
    )
    assert result.code == 1
    assert "25 ports de flux : 10 autorisés, 15 bloqués" in result.stderr
    assert "13 flux requis bloqués" in result.stderr
    doc = json.loads(out.read_text("utf-8"))
    assert doc["target"] == "firewall fw-back"
    assert doc["summary"]["blocked"] == 15
    blocked = next(f for f in doc["flows"] if f["id"] == "XM-APP-06.1")
    assert blocked["status"] == "blocked" and blocked["parts"][0]["status"] == "blocked"
    assert blocked["parts"][0]["fates"][0]["decision"] == "DROP par LOG_DROP#2"
    assert blocked["fixes"][0]["placement"] == "avant FORWARD#7 (-j LOG_DROP)"
    dead = doc["dead_rules"][0]
    assert dead["reason"] == "shadowed"
    assert dead["detail"].startswith("jamais atteinte : FORWARD#4 prend")
    assert any(
        r.startswith("destination 10.10.20.0/24 (nécessaire :")
        for r in doc["wide_rules"][0]["reasons"]
    )
    check = next(c for c in doc["checks"] if c["flow"] == "XM-APP-06.1")
    assert (
        check["status"] == "failing" and check["detail"] == "fw-back: bloqué (DROP par LOG_DROP#2)"
    )


def test_sarif_messages_in_french(run_cli: Any) -> None:
    result = run_cli("audit", "-F", "fw-back", "-r", BACK, "--lang", "fr", "-f", "sarif")
    run = json.loads(result.stdout)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["FMA001"]["name"] == "blocked-flow"
    assert (
        rules["FMA001"]["shortDescription"]["text"]
        == "Un flux requis est bloqué par le jeu de règles."
    )
    texts = {r["ruleId"]: r["message"]["text"] for r in run["results"]}
    assert "bloqué (DROP par LOG_DROP#2); correctif : iptables -I FORWARD 7" in texts["FMA001"]
    assert "sert XM-" in texts["FMA004"]
    assert texts["FMA006"].startswith("jamais atteinte :")
    _absent(result.stdout, "fix: ", "serves ", "A required flow", "never reached")


@pytest.mark.parametrize(
    ("content", "extra", "french"),
    [
        (
            "hello\n",
            (),
            "format du jeu de règles non reconnu (piste : donnez la sortie de iptables-save",
        ),
        ("", (), "le fichier du jeu de règles est vide"),
        (
            "*filter\n-A NOPE -j ACCEPT\nCOMMIT\n",
            (),
            ":2: règle pour la chaîne 'NOPE', que la table filter ne déclare pas (piste : ajoutez « :NOPE - [0:0] » ou « -N NOPE »)",
        ),
        ("-A FORWARD -j ACCEPT\n", (), ":1: '-A FORWARD -j ACCEPT' hors d'une table"),
        (
            "table inet filter {\n chain forward {\n",
            ("--nft-reader", "text"),
            ":2: chaîne forward : « } » manquante",
        ),
        (
            "{}",
            (),
            "aucune liste « nftables » dans le document JSON (piste : donnez la sortie de « nft -j list ruleset »)",
        ),
    ],
)
def test_errors_reading_a_ruleset_in_french(
    run_cli: Any, tmp_path: Path, content: str, extra: tuple[str, ...], french: str
) -> None:
    ruleset = tmp_path / "bad.rules"
    ruleset.write_text(content)
    result = run_cli("audit", "-F", "fw-back", "-r", str(ruleset), "--lang", "fr", *extra)
    assert result.code == 2
    assert result.stderr.startswith("flowmatrix : erreur : ")
    assert french in result.stderr
    _absent(result.stderr, "hint:", "cannot", "missing", "outside a table", "empty")


def test_errors_of_the_options_in_french(run_cli: Any, tmp_path: Path) -> None:
    nope = run_cli("audit", "-F", "nope", "-r", BACK, "--lang", "fr")
    assert "aucun pare-feu 'nope' dans le site" in nope.stderr
    assert "(piste : pare-feu du site : fw-front, fw-back)" in nope.stderr
    neither = run_cli("audit", "-r", BACK, "--lang", "fr")
    assert "donnez soit un pare-feu, soit un hôte à auditer" in neither.stderr
    ports = run_cli("audit", "-F", "fw-back", "-r", BACK, "--source-ports", "9-x", "--lang", "fr")
    assert "plage de ports invalide '9-x' (piste : écrivez par exemple 1024-65535)" in ports.stderr
    ipassmt = tmp_path / "map.ipassmt"
    ipassmt.write_text("eth0 = [10.0.0.0/8]\neth1 10.1.0.0/16\n")
    bad = run_cli("audit", "-F", "fw-back", "-r", BACK, "--ipassmt", str(ipassmt), "--lang", "fr")
    assert f"{ipassmt}:2: impossible de lire 'eth1 10.1.0.0/16'" in bad.stderr
    assert "(piste : écrivez une interface par ligne" in bad.stderr
    folder = run_cli("audit", "-F", "fw-back", "-r", str(tmp_path), "--lang", "fr")
    assert "(attendu : fichier du jeu de règles)" in folder.stderr
    for result in (nope, neither, ports, bad, folder):
        assert result.code == 2
        _absent(result.stderr, "hint:", "give either", "bad port range", "cannot read")


def test_library_renders_in_the_language_asked() -> None:
    french = audit(None, ruleset=BACK, firewall="fw-back", lang="fr")
    english = audit(None, ruleset=BACK, firewall="fw-back")
    said = {f.flow_id: f.parts[0].fates[0].decision for f in french.flows if f.parts}
    assert said["XM-APP-06.1"] == "DROP par LOG_DROP#2"
    assert {f.flow_id: f.parts[0].fates[0].decision for f in english.flows if f.parts}[
        "XM-APP-06.1"
    ] == "DROP by LOG_DROP#2"
    assert [f.status for f in french.flows] == [f.status for f in english.flows]


def test_lang_environment_gives_french_without_the_option(tmp_path: Path) -> None:
    env = {**os.environ, "LANG": "fr_FR.UTF-8"}
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "audit", "-F", "fw-back", "-r", BACK],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 1
    assert "Décidé par" in done.stdout and "DROP par LOG_DROP#2 (ligne 14)" in done.stdout
    assert "13 flux requis bloqués" in done.stdout
    _absent(done.stdout, "Decided by", "DROP by", "required flow(s) blocked")
