"""The catalog's prose in both languages: every text a person reads has its French and its
English, the reports and ``flowmatrix catalog`` show the one asked for, and a plain string
in a catalog file of one's own still loads."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from flowmatrix.catalog import DEFAULT_CATALOG, Catalog, Requirement, Text, load_catalog

#: The prose fields of a requirement, each a Text (or a tuple of them, or None).
PROSE = ("description", "notes", "reading", "protocol_reason")
#: A text with nothing to translate: numbers, ports, codes.
CODE_ONLY = re.compile(r"^[\W\d_]*$")


def _texts(req: Requirement) -> list[tuple[str, Text]]:
    found: list[tuple[str, Text]] = []
    for name in PROSE:
        value = getattr(req, name)
        if isinstance(value, Text):
            found.append((name, value))
        elif isinstance(value, tuple):
            found += [(f"{name}[{i}]", t) for i, t in enumerate(value)]
    return found


def _words(text: str) -> str:
    return " ".join(text.split())


def _xm_app_02() -> Requirement:
    return load_catalog(DEFAULT_CATALOG).requirement("XM-APP-02")


def test_every_prose_field_is_a_text() -> None:
    for name in PROSE:
        annotation = str(Requirement.model_fields[name].annotation)
        assert "Text" in annotation, (name, annotation)


@pytest.mark.parametrize("req", load_catalog(DEFAULT_CATALOG).requirements, ids=lambda r: r.id)
def test_shipped_prose_has_french_and_english(req: Requirement) -> None:
    for name, text in _texts(req):
        assert text.fr.strip() and text.en.strip(), (req.id, name)
        if not CODE_ONLY.match(text.en):
            assert text.fr != text.en, (req.id, name, "French is a copy of the English")


def test_readings_and_reasons_are_all_translated() -> None:
    catalog = load_catalog(DEFAULT_CATALOG)
    readings = [r.reading for r in catalog.requirements if r.reading is not None]
    reasons = [r.protocol_reason for r in catalog.requirements if r.protocol_reason]
    assert len(readings) == 33 and len(reasons) == 5
    for text in (*readings, *reasons):
        assert text.fr != text.en
        # French typography: a space before ':' and ';', « » rather than ' ' around quotes
        # (what a quote says stays as its source writes it)
        own = re.sub(r"« [^»]* »", "« »", text.fr)
        assert not re.search(r"\S[:;](\s|$)", own), text.fr
        assert not re.search(r"(^|\s)'[^']+'", own), text.fr


def test_french_keeps_the_page_fragments_verbatim() -> None:
    catalog = load_catalog(DEFAULT_CATALOG)
    assert "« 80 ou 8080 »" in catalog.requirement("XM-APP-04").reading.fr  # type: ignore[union-attr]
    assert "« Serveur DNS »" in _xm_app_02().reading.fr  # type: ignore[union-attr]
    assert "'80 ou 8080'" in catalog.requirement("XM-APP-04").reading.en  # type: ignore[union-attr]


def test_the_english_is_as_before() -> None:
    req = _xm_app_02()
    assert req.reading is not None and req.protocol_reason is not None
    assert req.reading.en == (
        "The source cell stacks two entries, 'NetScaler Gateway' and 'XenMobile', over one "
        "destination 'Serveur DNS': one requirement with two sources (the same flow for both). "
        "NetScaler sends these queries to a back-end server, from a SNIP."
    )
    assert req.protocol_reason.en.startswith("The page heads every row 'Port TCP', but DNS")


def test_a_plain_string_is_both_languages(tmp_path: Path) -> None:
    raw = yaml.safe_load(
        (Path(__file__).parents[1] / "src/flowmatrix/catalogs/xenmobile-10.yaml").read_text(
            encoding="utf-8"
        )
    )
    first = raw["requirements"][0]
    first["reading"] = "Read my way."
    first["protocol_reason"] = "Because."
    first["description"] = "One language only."
    first["notes"] = ["A plain note."]
    catalog = Catalog.model_validate(raw)
    req = catalog.requirements[0]
    assert req.reading == Text(fr="Read my way.", en="Read my way.")
    assert req.protocol_reason is not None and req.protocol_reason.get("fr") == "Because."
    assert req.description.get("fr") == req.description.get("en") == "One language only."
    assert req.notes[0].fr == "A plain note."
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert load_catalog(str(path)).requirements[0].reading == req.reading


def test_markdown_report_reads_in_french(run_cli) -> None:  # type: ignore[no-untyped-def]
    req = _xm_app_02()
    assert req.reading is not None and req.protocol_reason is not None
    done = run_cli("report", "-f", "markdown", "--lang", "fr")
    assert done.code == 0, done
    section = done.stdout.split("### XM-APP-02\n", 1)[1].split("\n### ", 1)[0]
    assert f"*Lecture de la source* : {req.reading.fr}" in section
    assert req.protocol_reason.fr in section
    assert req.reading.en not in done.stdout
    assert req.protocol_reason.en not in done.stdout
    english = run_cli("report", "-f", "markdown", "--lang", "en")
    assert english.code == 0, english
    assert f"*Reading of the source*: {req.reading.en}" in english.stdout
    assert req.protocol_reason.en in english.stdout
    assert req.reading.fr not in english.stdout


def test_html_report_reads_in_french(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    req = _xm_app_02()
    assert req.reading is not None
    page = tmp_path / "report.html"
    done = run_cli("report", "--lang", "fr", "--layout", "builtin", "-o", str(page))
    assert done.code == 0, done
    html = page.read_text(encoding="utf-8")
    assert "Lecture de la source" in html
    assert "« NetScaler Gateway »" in html and "au-dessus d&#39;une seule destination" in html
    assert "The source cell stacks two entries" not in html


def _markdown_cell(table: str, row_id: str) -> str:
    """The last column of ``row_id``'s row in a Markdown table."""
    row = next(line for line in table.splitlines() if line.startswith(f"| {row_id} "))
    return _words(row.rstrip(" |").rsplit("|", 1)[1])


def test_catalog_command_reads_in_french(run_cli) -> None:  # type: ignore[no-untyped-def]
    req = _xm_app_02()
    assert req.reading is not None
    done = run_cli("catalog", "--lang", "fr", "-f", "markdown")
    assert done.code == 0, done
    assert "Lecture de la source" in done.stdout
    assert _markdown_cell(done.stdout, "XM-APP-02") == _words(req.reading.fr)
    assert "The source cell stacks" not in done.stdout
    english = run_cli("catalog", "--lang", "en", "-f", "markdown")
    assert _markdown_cell(english.stdout, "XM-APP-02") == _words(req.reading.en)
    # the terminal table leaves the long readings out
    assert "Lecture de la source" not in run_cli("catalog", "--lang", "fr").stdout
    rows = {
        r["id"]: r
        for r in csv.DictReader(io.StringIO(run_cli("catalog", "--lang", "fr", "-f", "csv").stdout))
    }
    assert rows["XM-APP-02"]["reading"] == req.reading.fr
    assert rows["XM-APP-03"]["reading"] == ""


def test_catalog_json_keeps_english_strings(run_cli) -> None:  # type: ignore[no-untyped-def]
    req = _xm_app_02()
    assert req.reading is not None and req.protocol_reason is not None
    for lang in ("fr", "en"):
        done = run_cli("catalog", "--lang", lang, "-f", "json", "-p", "53")
        assert done.code == 0, done
        entry = json.loads(done.stdout)["requirements"][0]
        assert entry["reading"] == req.reading.en
        assert entry["protocol_reason"] == req.protocol_reason.en
        assert entry["description"] == {"fr": req.description.fr, "en": req.description.en}


def test_search_finds_the_french_reading(run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("catalog", "-f", "csv", "--search", "empile deux entrées")
    assert done.code == 0, done
    assert "XM-APP-02" in done.stdout
