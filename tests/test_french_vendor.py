"""French for the vendor configuration readers and ``flowmatrix import netscaler``:
parse errors and their hints, notes and skipped lines, fix explanations, the import's
summary and the comments of the draft site (the configuration text stays as it is)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.vendor_lab import DATA, SITE
from flowmatrix.audit.vendor import read_vendor
from flowmatrix.errors import UserError
from flowmatrix.i18n import language

NS_CONF = Path(__file__).parent / "importers" / "data" / "ns.conf"
FILES = {
    "fortigate": DATA / "edge.fortigate.conf",
    "paloalto": DATA / "edge.paloalto.set",
    "ciscoasa": DATA / "edge.ciscoasa.cfg",
    "srx": DATA / "edge.srx.conf",
}


def _cut(vendor: str, marker: str) -> str:
    text = FILES[vendor].read_text("utf-8")
    at = text.index(marker)
    return text[: text.index("\n", at) + 1]


# -- vendor readers -----------------------------------------------------------------------


def test_a_truncated_fortigate_file_in_french(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "cut.conf"
    path.write_text(_cut("fortigate", "set password ENC"), "utf-8")
    result = run_cli("audit", str(SITE), "-F", "edge", "-r", str(path), "--lang", "fr")
    assert result.code == 2
    assert "« config system admin » ouvert à la ligne 9 n'est pas fermé" in result.stderr
    assert "le fichier se termine avant son « end » (fichier tronqué ?)" in result.stderr
    assert "is not closed" not in result.stderr and "truncated file" not in result.stderr
    assert "TopSecret" not in result.stderr


def test_a_truncated_srx_file_in_french(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "cut.srx"
    path.write_text(_cut("srx", 'encrypted-password "$6$Redacted$TopSecretRoot'), "utf-8")
    result = run_cli("audit", str(SITE), "-F", "edge", "-r", str(path), "--lang", "fr")
    assert result.code == 2
    assert "le bloc ouvert à la ligne" in result.stderr
    assert "n'est pas fermé" in result.stderr and "the block opened" not in result.stderr
    assert "TopSecret" not in result.stderr


def test_another_vendors_file_in_french(run_cli) -> None:
    result = run_cli(
        "audit",
        str(SITE),
        "-F",
        "edge",
        "-r",
        str(FILES["paloalto"]),
        "--ruleset-format",
        "fortigate",
        "--lang",
        "fr",
    )
    assert result.code == 2
    assert "une configuration FortiGate (FortiOS) attendue, mais ce fichier se lit comme une " in (
        result.stderr
    )
    assert "utilisez --ruleset-format paloalto, ou auto" in result.stderr
    assert "but this reads as" not in result.stderr and "expected a" not in result.stderr


def test_fortigate_audit_fixes_and_notes_in_french(run_cli) -> None:
    result = run_cli(
        "audit",
        str(SITE),
        "-F",
        "edge",
        "-r",
        str(FILES["fortigate"]),
        "--format",
        "json",
        "--lang",
        "fr",
    )
    document = json.loads(result.stdout)
    fixes = [fix for flow in document["flows"] for fix in flow.get("fixes", [])]
    placements = {fix["placement"] for fix in fixes}
    assert "avant la policy 40 (refus)" in placements
    assert "à la fin de la table des policies (le refus implicite le rejette)" in placements
    assert not any("before policy" in p or "at the end" in p for p in placements)
    before = next(f for f in fixes if f["placement"] == "avant la policy 40 (refus)")
    # the configuration text is the device's own syntax, whatever the language
    assert "config firewall policy" in before["command"] and "move " in before["command"]
    assert "set action accept" in before["command"]
    assert before["note"].startswith("edit 0 prend le prochain id libre (")
    assert all(f["verified"] for f in fixes)
    assert any(
        "policy 50 est désactivée (status disable) : non évaluée" in n for n in document["notes"]
    )
    assert not any("is disabled" in n for n in document["notes"])
    text = json.dumps(document, ensure_ascii=False)
    assert "plage horaire 'business-hours' (policy 14)" in text
    assert "géographie RU (adresse 'geo-ru')" in text
    assert "schedule 'business-hours'" not in text and "geography RU" not in text


def test_asa_fix_for_an_interface_without_access_list_in_french(run_cli, tmp_path: Path) -> None:
    text = FILES["ciscoasa"].read_text("utf-8")
    path = tmp_path / "nodmz.cfg"
    path.write_text(text.replace("access-group dmz_access_in in interface dmz\n", ""), "utf-8")

    def fixes(lang: str) -> list[dict[str, object]]:
        result = run_cli(
            "audit", str(SITE), "-F", "edge", "-r", str(path), "-f", "json", "--lang", lang
        )
        return [fix for flow in json.loads(result.stdout)["flows"] for fix in flow["fixes"]]

    french, english = fixes("fr"), fixes("en")
    assert french and [f["command"] for f in french] == [f["command"] for f in english]
    assert all(f["verified"] for f in french)
    assert {f["placement"] for f in french} == {"nouvelle access-list pour l'interface dmz"}
    assert {f["placement"] for f in english} == {"new access-list for interface dmz"}
    assert all(str(f["note"]).startswith("l'interface dmz n'a pas d'access-list") for f in french)
    assert all("access-group dmz_access_in in interface dmz" in str(f["command"]) for f in french)


def test_reader_problems_and_notes_in_french(tmp_path: Path) -> None:
    asa = FILES["ciscoasa"].read_text("utf-8").replace("ftp mode passive\n", "frobnicate all\n")
    with language("fr"):
        ruleset = read_vendor("ciscoasa", asa, "edge.cfg", context=None, prefer=None)
    assert [p.message for p in ruleset.problems] == ["commande inconnue 'frobnicate'"]
    assert any("qui ne filtrent pas le trafic" in n for n in ruleset.notes), ruleset.notes
    assert not any("do not filter traffic" in n for n in ruleset.notes)
    fortigate = (
        FILES["fortigate"]
        .read_text("utf-8")
        .replace(
            '        set name "dmz-dns"\n', '        set name "dmz-dns"\n        frobnicate x\n'
        )
    )
    with language("fr"):
        ruleset = read_vendor("fortigate", fortigate, "edge.conf", context=None, prefer=None)
    (problem,) = ruleset.problems
    assert problem.message == "commande inconnue 'frobnicate' dans « config firewall policy »"
    with language("en"):
        english = read_vendor("fortigate", fortigate, "edge.conf", context=None, prefer=None)
    assert english.problems[0].message == "unknown command 'frobnicate' in 'config firewall policy'"


def test_reader_errors_in_french() -> None:
    with language("fr"), pytest.raises(UserError) as caught:
        read_vendor(
            "ciscoasa", FILES["ciscoasa"].read_text("utf-8"), "a.cfg", context="c1", prefer=None
        )
    assert "les fichiers ASA multi-contextes ne sont pas lus" in str(caught.value)
    with language("fr"), pytest.raises(UserError) as caught:
        read_vendor("srx", FILES["srx"].read_text("utf-8"), "a.srx", context="ls1", prefer=None)
    assert "les systèmes logiques ne sont pas lus" in str(caught.value)
    with language("fr"), pytest.raises(UserError) as caught:
        read_vendor("paloalto", "<config><x>", "a.xml", context=None, prefer=None)
    assert "XML mal formé" in str(caught.value)
    assert "donnez le XML de la running-config tel qu'exporté" in str(caught.value)
    with language("fr"), pytest.raises(UserError) as caught:
        read_vendor(
            "paloalto", FILES["paloalto"].read_text("utf-8"), "a.set", context="vsys9", prefer=None
        )
    assert "aucun vsys 'vsys9' dans la configuration" in str(caught.value)
    assert caught.value.hint == "elle contient vsys1"


# -- import netscaler ---------------------------------------------------------------------


def test_import_netscaler_in_french(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "site.yaml"
    result = run_cli("import", "netscaler", str(NS_CONF), "-o", str(out), "--lang", "fr")
    assert result.code == 0, result.stderr
    err = result.stderr
    assert f"lecture de {NS_CONF} : 66 lignes, 64 commandes, 49 retenue(s) ; NetScaler nsg1" in err
    assert "hôtes : 2 dns-server" in err and "publication de XenMobile : netscaler-lb" in err
    assert "fonctionnalités : clustering activé, global-catalog désactivé" in err
    assert "15 commande(s) ignorée(s) dont la matrice de flux n'a pas besoin" in err
    assert ", et 6 autres sortes" in err
    for english in ("read ", "hosts:", "XenMobile publishing", "features:", "skipped "):
        assert english not in err
    draft = out.read_text("utf-8")
    assert draft.startswith("# Site ébauché par « flowmatrix import netscaler » à partir de ")
    assert "# TODO : ns.conf ne connaît pas les pare-feu : fw-front représente" in draft
    assert ": le sous-réseau du NetScaler" in draft
    assert "(route par défaut via 172.16.10.254)" in draft
    assert "# Lu dans ns.conf, inexprimable dans le fichier de site :" in draft
    assert "le NetScaler envoie le syslog à 10.10.20.44 (TCP 514) depuis son NSIP" in draft
    assert "TODO : ns.conf ne fait que le nommer ; ajoutez « addresses: »" in draft
    assert "# la base de données de XenMobile (fonctionnalité remote-sql)" in draft
    assert "APNs, FCM et les magasins d'applications n'ont besoin d'aucun hôte" in draft
    for english in ("Site drafted", "does not know the firewalls", "the NetScaler's subnet"):
        assert english not in draft
    # keys and values stay as the site format says, and the draft loads
    assert "xenmobile: netscaler-lb" in draft and "name: nsg1 (imported from ns.conf)" in draft
    assert run_cli("plan", str(out), "-f", "json").code == 0


def test_import_netscaler_problems_and_errors_in_french(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.conf"
    bad.write_text(
        "set ns config -IPAddress 10.0.0.5 -netmask 255.255.255.0\n"
        'add server s1 "unterminated\n'
        "add route 10.1.0.0 255.255.0.0\n",
        "utf-8",
    )
    result = run_cli("import", "netscaler", str(bad), "--lang", "fr")
    assert result.code == 0, result.stderr
    assert (
        f"avertissement : {bad}:2:15 : guillemet double non fermé (ligne ignorée)" in result.stderr
    )
    assert "add route : élément manquant : passerelle (ligne ignorée)" in result.stderr
    assert "warning:" not in result.stderr and "unterminated" not in result.stderr.replace(
        'add server s1 "unterminated', ""
    )
    nonsip = tmp_path / "nonsip.conf"
    nonsip.write_text("add server s1 10.0.0.1\n", "utf-8")
    result = run_cli("import", "netscaler", str(nonsip), "--lang", "fr")
    assert result.code == 2
    assert "aucune adresse de NetScaler trouvée" in result.stderr
    assert "(piste : donnez la configuration enregistrée de l'appliance (ns.conf)" in result.stderr
    assert "no NetScaler address found" not in result.stderr


def test_import_netscaler_merge_in_french(run_cli, tmp_path: Path) -> None:
    example = tmp_path / "example.yaml"
    example.write_text(run_cli("example").stdout, "utf-8")
    result = run_cli("import", "netscaler", str(NS_CONF), "--merge", str(example), "--lang", "fr")
    assert result.code == 0, result.stderr
    assert "ajoutés : " in result.stderr or "conservés : " in result.stderr
    assert "added: " not in result.stderr and "kept: " not in result.stderr


def test_import_netscaler_json_keeps_its_keys(run_cli) -> None:
    result = run_cli("import", "netscaler", str(NS_CONF), "-f", "json", "--lang", "fr")
    document = json.loads(result.stdout)
    notes = [n["text"] for n in document["deployment"]["notes"]]
    assert "le NetScaler envoie le syslog à 10.10.20.44 (TCP 514) depuis son NSIP" in notes
    assert document["deployment"]["xenmobile_publishing"] == "netscaler-lb"


def test_import_netscaler_french_from_lang_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "fr_FR.UTF-8"
    out = tmp_path / "site.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "import", "netscaler", str(NS_CONF), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "lecture de " in done.stderr and "hôtes : " in done.stderr
    assert "hosts: " not in done.stderr
    assert out.read_text("utf-8").startswith("# Site ébauché par ")


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "rulesets" / "vendor"
SNIPPETS = (
    sorted(p for p in SHARED.glob("*/*") if p.is_file() and p.suffix not in (".md", ".txt"))
    if SHARED.exists()
    else []
)
SEVERAL_VSYS = {"move-rulebase-security", "vsys-rulebase", "vsys-zones"}


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_skipped_line_and_note_of_the_snippets_is_in_french(path: Path) -> None:
    """The batfish parser snippets (undefined references, odd constructs): what the readers
    skip and note is said in French, at the same lines, and nothing of it stays English."""
    from flowmatrix.audit.loader import load_ruleset

    context = "vsys1" if path.name in SEVERAL_VSYS else None
    with language("en"):
        english = load_ruleset(path, context=context)
    with language("fr"):
        french = load_ruleset(path, context=context)
    assert [p.line for p in french.problems] == [p.line for p in english.problems]
    for en, fr in zip(english.problems, french.problems, strict=True):
        assert fr.message != en.message, en.message
    assert len(french.notes) == len(english.notes)
    for en_note, fr_note in zip(english.notes, french.notes, strict=True):
        assert fr_note != en_note or not _is_vendor_note(en_note), en_note


def _is_vendor_note(note: str) -> bool:
    """Notes the vendor readers write (the others come from the audit's own modules)."""
    return any(
        word in note
        for word in ("not evaluated", "audited (the file", "were not read", "implicit deny")
    )
