"""``report``, ``catalog`` and ``journeys`` in French: every text a person reads, and the
English untouched."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from flowmatrix.api import load_plan
from flowmatrix.journeys import journey_verdicts, plan_journeys
from flowmatrix.model import Plan
from flowmatrix.report.compose import make_report
from report.report_support import probe_result

#: What the verify document below says of flow i (every fifth flow has no result).
STATES = ["open", "filtered", "open|filtered", "closed", "open", "not_probed"]
DETAIL = 14  # the Check detail column of a firewall sheet (O)


def _verify_document(plan: Plan, hosts: tuple[str | None, ...] = (None,)) -> dict[str, Any]:
    """One result per flow, port, address and source host (the same fact from each host)."""
    results = []
    for index, flow in enumerate(plan.flows):
        if index % 5 == 4:
            continue
        state = STATES[index % len(STATES)]
        for port in flow.ports:
            for address in flow.destination.addresses[:2] or (None,):
                for host in hosts:
                    results.append(probe_result(flow, port, state, address, host).to_dict())
    return {"format": "flowmatrix-verify/1", "site": plan.site.name, "results": results}


@pytest.fixture(scope="module")
def verify_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("french") / "verify.json"
    document = _verify_document(load_plan(None), hosts=("app1", "app2", "app3"))
    path.write_text(json.dumps(document), "utf-8")
    return path


def _workbook(content: str | bytes) -> Any:
    assert isinstance(content, bytes)
    return openpyxl.load_workbook(io.BytesIO(content))


def _cells(book: Any) -> list[str]:
    rows = (r for s in book.worksheets for r in s.iter_rows(values_only=True))
    return [c for r in rows for c in r if isinstance(c, str)]


def test_the_summary_line_counts_with_plural_forms(run_cli, verify_file: Path) -> None:  # type: ignore[no-untyped-def]
    plan = load_plan(None)
    done = run_cli("report", "-f", "mermaid", "--lang", "fr", "--results", str(verify_file))
    assert done.code == 0, done
    line = done.stderr.splitlines()[0]
    assert line.startswith(f"{len(plan.flows)} flux : ")
    assert "prouvés" in line and "conditionnels" in line and "non testés" in line
    assert "exigences obsolètes utilisées : XM-DEV-08" in line
    for english in ("proven", "failing", "depends", "not tested", "obsolete requirements"):
        assert english not in line
    # 0 and 1 are singular in French
    done = run_cli("report", "-f", "mermaid", "--lang", "fr")
    assert done.stderr.startswith(f"{len(plan.flows)} flux : 0 prouvé, 0 en échec, ")
    done = run_cli("report", "-f", "mermaid")
    assert done.stderr.startswith(f"{len(plan.flows)} flows: 0 proven, 0 failing, 0 depends, ")


def test_french_workbook_headers_cells_and_one_detail_per_fact(verify_file: Path) -> None:
    book = _workbook(make_report(load_plan(None, lang="fr"), "xlsx", results=[verify_file]))
    assert book.sheetnames == ["Synthèse", "fw-front", "fw-back", "Sans pare-feu"]
    sheet = book["fw-front"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][11:] == [
        "Traduction d'adresses (NAT)", "Justification", "Vérification",
        "Détail de la vérification", "Décision", "Commentaire",
    ]  # fmt: skip
    details = [r[DETAIL] for r in rows[1:] if r[DETAIL]]
    assert details
    for detail in details:
        # one line per kind of check, named in French, each fact said once with its count
        assert detail.startswith("vérification : ") and "verify" not in detail, detail
        facts = detail.removeprefix("vérification : ").split(" ; ")
        assert len(facts) == len(set(facts)), detail
        assert all(f.endswith("(×3)") for f in facts), detail
    said = " ".join(details)
    assert "filtré" in said and "fermé" in said and "ouvert" in said
    assert " filtered (" not in said and " closed (" not in said
    cells = _cells(book)
    assert "Lignes flux-port" in cells and "Flux qui ne traversent aucun pare-feu" in cells
    assert "Résultats lus" in cells and any("(vérification, " in c for c in cells)
    assert any(c.startswith("XM-DEV-08 : ") and "(1 flux)" in c for c in cells)
    for english in ("Summary", "Check detail", "Not tested", "pending", "embedded example"):
        assert english not in cells


def test_english_workbook_says_each_fact_once_too(verify_file: Path) -> None:
    book = _workbook(make_report(load_plan(None), "xlsx", results=[verify_file]))
    rows = list(book["fw-front"].iter_rows(values_only=True))
    details = [r[DETAIL] for r in rows[1:] if r[DETAIL]]
    for detail in details:
        assert detail.count("verify: ") == 1, detail
        facts = detail.removeprefix("verify: ").split("; ")
        assert len(facts) == len(set(facts)) and all(f.endswith("(×3)") for f in facts)


def test_a_french_workbook_reads_back_clean_with_matrix_check(  # type: ignore[no-untyped-def]
    run_cli, tmp_path: Path, verify_file: Path
) -> None:
    path = tmp_path / "demande.xlsx"
    done = run_cli("report", "-f", "xlsx", "--lang", "fr", "-r", str(verify_file), "-o", str(path))
    assert done.code == 0, done
    done = run_cli("matrix", "check", str(path), "--lang", "fr", "--format", "json")
    assert done.code == 0, done
    assert "0 constat" in done.stderr


def test_french_page(verify_file: Path) -> None:
    page = make_report(load_plan(None, lang="fr"), "html", results=[verify_file], layout="builtin")
    assert isinstance(page, str)
    for text in (
        "Lecture de la source", "Filtres", "Lignes par page", "lignes flux-port",
        "Cliquez sur un en-tête pour trier.", "Produit par flowmatrix", "(vérification, ",
        "vérification : ", "Pare-feu : fw-front", "† exigence obsolète ou ancienne",
    ):  # fmt: skip
        assert text in page, text
    island = page[page.index('id="fm-i18n">') + 13 :]
    texts = json.loads(island[: island.index("</script>")])
    assert texts["lang"] == "fr"
    assert texts["shown"] == ["Affichés {shown} sur {total} flux"] * 2
    assert texts["page_info"] == "Page {page} / {pages} · Lignes {first}–{last}"
    assert texts["pair"] == "{name} : {value}"
    assert texts["statuses"]["not-tested"] == "Non testé"
    for english in ("Reading of the source", "Rows per page", "Showing", "verify: "):
        assert english not in page, english


def test_the_script_writes_french(tmp_path: Path) -> None:
    """The rows, the count and the pager the script draws speak the page's language."""
    sys.path.insert(0, str(Path(__file__).parent / "report"))
    from report_webdriver import Chromium, missing_browser

    reason = missing_browser()
    if reason is not None:
        pytest.skip(f"browser test: {reason}")
    plan = load_plan(None, lang="fr")
    path = tmp_path / "rapport.html"
    path.write_text(str(make_report(plan, "html", layout="builtin")), "utf-8")
    with Chromium(width=1200, height=900, log_dir=tmp_path) as browser:
        browser.open(path.as_uri())
        shown = browser.run("return document.getElementById('shown').textContent")
        assert shown == f"Affichés {len(plan.flows)} sur {len(plan.flows)} flux"
        browser.run(  # pages of 10 rows: a size the page does not offer, added here
            "var size = document.getElementById('f-size');"
            "size.add(new Option('10', '10')); size.value = '10';"
            "size.dispatchEvent(new Event('change'))"
        )
        info = browser.run("return document.getElementById('page-info').textContent")
        assert info == "Page 1 / 4 · Lignes 1–10"
        note = browser.run("return document.getElementById('print-filter').textContent")
        assert "imprimé : cette page seulement" in note


def test_french_markdown() -> None:
    text = make_report(load_plan(None, lang="fr"), "markdown")
    assert isinstance(text, str)
    assert text.startswith("# Matrice de flux — ")
    assert "- Catalogue : " in text and "- Fichier du site : exemple intégré" in text
    assert "(1 flux)" in text and "*Texte source (français, tel quel) :*" in text
    assert "## Synthèse" in text and "Catalog:" not in text and "Flows:" not in text


def test_french_errors_and_warnings(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("report", "--lang", "fr", "--results", str(tmp_path / "none.json"))
    assert done.code == 2
    assert "n'existe pas" in done.stderr and "piste : donnez le JSON" in done.stderr
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"nothing": 1}), "utf-8")
    done = run_cli("report", "--lang", "fr", "--results", str(odd))
    assert done.code == 2
    assert "aucune liste de résultats dans le fichier" in done.stderr
    assert "une liste, ou un objet avec une liste « results »" in done.stderr
    assert "no list" not in done.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"results": [{"flow": "ZZ-1.1", "state": "open"}]}), "utf-8")
    done = run_cli("report", "-f", "mermaid", "--lang", "fr", "--results", str(other))
    assert done.code == 0
    assert (
        "avertissement : résultats portant sur des flux absents de ce plan (ignorés) : ZZ-1.1"
        in done.stderr
    )


def test_xlsx_on_a_terminal_is_refused_in_french(  # type: ignore[no-untyped-def]
    run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    done = run_cli("report", "-f", "xlsx", "--lang", "fr")
    assert done.code == 2
    assert "un classeur XLSX est binaire" in done.stderr and "piste : ajoutez -o" in done.stderr


def test_journeys_in_french(run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("journeys", "example:small-office", "--lang", "fr")
    assert done.code == 0, done
    assert "aucun flux dans ce site" in done.stdout and "no flow" not in done.stdout
    done = run_cli("journeys", "--lang", "fr")
    assert "(obsolète)" in done.stdout and "(obsolete)" not in done.stdout


def test_a_blocked_journey_is_told_in_french() -> None:
    from flowmatrix.i18n import language

    plan = load_plan(None, lang="fr")
    ios = next(j for j in plan_journeys(plan) if j.id == "ios-enrolment-internet")
    results = [probe_result(f, f.ports[0], "filtered", "10.0.20.10", None) for f in ios.flows]
    with language("fr"):
        (verdict,) = journey_verdicts([ios], results)
    summary = verdict.summary("fr")
    assert summary.startswith("Un appareil iOS s'inscrit depuis Internet : bloqué, ")
    assert " vers 10.0.20.10 sur fw-front" in summary
    assert " to " not in summary and " at " not in summary


def test_catalog_in_french(run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("catalog", "--lang", "fr", "--role", "nobody")
    assert done.code == 2
    assert "rôle inconnu 'nobody'" in done.stderr
    assert "voyez « flowmatrix catalog --roles »" in done.stderr
    done = run_cli("catalog", "--lang", "fr", "--section", "nowhere")
    assert "section inconnue 'nowhere'" in done.stderr and "sections : " in done.stderr
    done = run_cli("catalog", "--lang", "fr", "--features", "-f", "markdown")
    assert "activé" in done.stdout and "| on |" not in done.stdout
    done = run_cli("catalog", "--lang", "fr", "--roles", "-f", "markdown")
    assert "serveur" in done.stdout and "| server |" not in done.stdout
    # JSON keeps the codes a program reads
    done = run_cli("catalog", "--lang", "fr", "--features", "-f", "json")
    assert {row["default"] for row in json.loads(done.stdout)} == {"on", "off"}


def test_the_environment_asks_for_french() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "fr_FR.UTF-8"
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "report", "--format", "dot"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert " flux : 0 prouvé, 0 en échec, 0 conditionnel, " in done.stderr
    assert "non testés" in done.stderr and "not tested" not in done.stderr
