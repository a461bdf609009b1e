"""``flowmatrix matrix check``: round trips, each verdict in both languages, bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.api import load_plan
from flowmatrix.matrixcheck.check_matrix import check_matrix
from flowmatrix.matrixcheck.compare import ROW_FINDINGS, UNIT_FINDINGS


def _check(run_cli, *args: str) -> tuple[int, dict, str]:
    result = run_cli("matrix", "check", *args, "-f", "json")
    document = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.code, document, result.stderr


@pytest.fixture(scope="module")
def request_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flowmatrix.report.compose import make_report

    path = tmp_path_factory.mktemp("xlsx") / "demande.xlsx"
    content = make_report(load_plan(None, lang="fr"), "xlsx")
    assert isinstance(content, bytes)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_own_xlsx_round_trip_has_no_finding(run_cli, tmp_path: Path, lang: str) -> None:
    path = tmp_path / "request.xlsx"
    assert run_cli("report", "-f", "xlsx", "--lang", lang, "-o", str(path)).code == 0
    code, doc, _ = _check(run_cli, str(path), "--lang", lang)
    assert code == 0, doc["summary"]
    assert doc["summary"]["findings"] == 0
    not_requested = _not_requested(lang)
    statuses = {f["flow"]: f["status"] for f in doc["flows"]}
    assert {k for k, v in statuses.items() if v != "covered"} == not_requested
    assert {statuses[k] for k in not_requested} == {"not_requested"}
    # the workbook lists them marked "obsolete: not requested": rows that open nothing
    ignored = {(r["sheet"], r["row"]) for r in doc["rows"] if r["verdict"] == "ignored"}
    assert {r["verdict"] for r in doc["rows"]} == {"covered", "ignored"}
    assert ignored == _rows_of(path, not_requested)


@pytest.fixture(scope="module")
def default_plan():
    return load_plan(None, lang="fr")


def _not_requested(lang: str = "en") -> set[str]:
    found = {f.id for f in load_plan(None, lang=lang).flows if not f.requested}
    assert found == {"XM-DEV-08.1", "XM-DEV-09.1"}  # binary APNs, obsolete: not opened
    return found


def _rows_of(path: Path, flows: set[str]) -> set[tuple[str, int]]:
    workbook = openpyxl.load_workbook(path)
    return {
        (ws.title, r)
        for ws in workbook.worksheets[1:]
        for r in range(2, ws.max_row + 1)
        if ws.cell(r, 1).value in flows
    }


def test_not_requested_flows_absent_or_opened(run_cli, request_xlsx: Path, tmp_path: Path) -> None:
    """A sheet without the not-requested flows misses nothing; one that opens them (not
    marked "not requested") has them as obsolete rows."""
    not_requested = _not_requested()
    rows = _rows_of(request_xlsx, not_requested)
    workbook = openpyxl.load_workbook(request_xlsx)
    for title, row in rows:
        for column in range(1, workbook[title].max_column + 1):
            workbook[title].cell(row, column).value = None
    without = tmp_path / "without.xlsx"
    workbook.save(without)
    code, doc, _ = _check(run_cli, str(without))
    assert code == 0 and doc["summary"]["findings"] == 0
    assert {f["status"] for f in doc["flows"] if f["flow"] in not_requested} == {"not_requested"}
    workbook = openpyxl.load_workbook(request_xlsx)
    for title, row in rows:  # the same rows approved, as a team would copy them: no marker
        workbook[title].cell(row, 13).value = "APNs"  # Justification
        workbook[title].cell(row, 16).value = "approuvé"  # Décision
    opened = tmp_path / "opened.xlsx"
    workbook.save(opened)
    code, doc, _ = _check(run_cli, str(opened))
    assert code == 1 and doc["summary"]["findings"] == len(rows)
    assert {(r["sheet"], r["row"]) for r in doc["rows"] if r["verdict"] == "obsolete"} == rows
    assert {f["status"] for f in doc["flows"] if f["flow"] in not_requested} == {"opened"}


def test_own_csv_plan_round_trip_has_no_finding(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    assert run_cli("plan", "-f", "csv", "-o", str(path)).code == 0
    code, doc, _ = _check(run_cli, str(path))
    assert code == 0 and doc["summary"]["findings"] == 0
    statuses = {f["flow"]: f["status"] for f in doc["flows"]}
    assert {k for k, v in statuses.items() if v != "covered"} == _not_requested()
    assert {r["verdict"] for r in doc["rows"]} == {"covered", "ignored"}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_site_with_nat_round_trips_clean(run_cli, tmp_path: Path, fmt: str) -> None:
    """The hospital publishes its gateway through NAT: the workbook's NAT column and the
    plan's addresses read back as the plan says."""
    path = tmp_path / f"hospital.{fmt}"
    command = ("report", "-f", "xlsx") if fmt == "xlsx" else ("plan", "-f", "csv")
    assert run_cli(*command, "example:hospital", "-o", str(path)).code == 0
    code, doc, _ = _check(run_cli, str(path), "example:hospital")
    assert code == 0 and doc["summary"]["findings"] == 0, doc["summary"]
    assert {r["verdict"] for r in doc["rows"]} <= {"covered", "ignored"}
    if fmt == "xlsx":
        workbook = openpyxl.load_workbook(path)
        cells = {c.value for ws in workbook.worksheets[1:] for c in ws["L"]}
        assert "edge DNAT 203.0.113.40 port 443,8443 -> 172.30.10.10 (adc1)" in cells


def test_one_row_deleted_or_changed_is_exactly_what_is_found(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    run_cli("plan", "-f", "csv", "-o", str(path))
    lines = path.read_text().splitlines()
    ntp = next(i for i, line in enumerate(lines) if line.startswith("XM-APP-05.1,"))
    deleted = tmp_path / "deleted.csv"
    deleted.write_text("\n".join(lines[:ntp] + lines[ntp + 1 :]) + "\n")
    code, doc, _ = _check(run_cli, str(deleted))
    assert code == 1
    assert _unit_findings(doc) == [("XM-APP-05.1", "missing")]
    assert {r["verdict"] for r in doc["rows"]} == {"covered", "ignored"}
    changed = tmp_path / "changed.csv"
    lines[ntp] = lines[ntp].replace(",172.16.10.5,", ",172.16.10.99,")
    changed.write_text("\n".join(lines) + "\n")
    code, doc, _ = _check(run_cli, str(changed))
    assert code == 1
    assert _unit_findings(doc) == [("XM-APP-05.1", "missing")]
    assert [(r["row"], r["verdict"]) for r in doc["rows"] if r["verdict"] in ROW_FINDINGS] == [
        (ntp + 1, "not_in_plan")
    ]


def _unit_findings(doc: dict) -> list[tuple[str, str]]:
    """Flow-ports not covered, but for the flows the plan does not request."""
    return [
        (f["flow"], f["status"])
        for f in doc["flows"]
        if f["status"] not in ("covered", "not_requested")
    ]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_rows_of_own_xlsx(
    request_xlsx: Path, default_plan, tmp_path: Path, data: st.DataObject
) -> None:
    """Delete or re-source random rows of flowmatrix's own workbook: a planned flow-port is
    reported exactly when no intact row opens the same addresses, protocol and port. The
    rows marked "obsolete: not requested" open nothing, whatever happens to them."""
    not_requested = {f.id for f in default_plan.flows if not f.requested}
    workbook = openpyxl.load_workbook(request_xlsx)
    lines = [(ws.title, r) for ws in workbook.worksheets[1:] for r in range(2, ws.max_row + 1)]
    picked = data.draw(st.lists(st.sampled_from(lines), min_size=1, max_size=8, unique=True))
    actions = data.draw(st.lists(st.booleans(), min_size=len(picked), max_size=len(picked)))
    content: dict[tuple[str, int], tuple[object, ...]] = {}
    intact: set[tuple[object, ...]] = set()
    for title, row in lines:
        ws = workbook[title]
        key = (str(ws.cell(row, 1).value), int(ws.cell(row, 10).value))
        what = tuple(ws.cell(row, c).value for c in (3, 6, 7, 9, 10))  # addresses, protocol, port
        if key[0] in not_requested:
            continue
        content[key] = what
        if (title, row) not in picked:
            intact.add(what)
    for (title, row), delete in zip(picked, actions, strict=True):
        ws = workbook[title]
        if delete:
            for column in range(1, ws.max_column + 1):
                ws.cell(row, column).value = None
        else:
            ws.cell(row, 3).value = "192.0.2.77"  # a source no planned flow has
    path = tmp_path / "mutated.xlsx"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    result = check_matrix(path, default_plan).result
    expected = {key for key, what in content.items() if not any(_opens(r, what) for r in intact)}
    found = {(u.flow.id, u.port) for u in result.units if u.status in UNIT_FINDINGS}
    assert found == expected
    resourced = {(t, r) for (t, r), delete in zip(picked, actions, strict=True) if not delete}
    for row in result.rows:
        if row.texts.get("flow") in not_requested:
            assert row.verdict == "ignored", row
        elif (row.sheet, row.number) in resourced:
            assert row.verdict == "not_in_plan", row
        else:
            assert row.verdict in ("covered", "wrong_protocol"), row


def _opens(row: tuple[object, ...], flow: tuple[object, ...]) -> bool:
    """Whether a row (source, destination, FQDN, protocol, port cells) opens a flow's:
    the same cells, or 'any' on a side (it opens that side for every address)."""
    source = row[0] in ("any", "toutes") or row[0] == flow[0]
    destination = row[1] in ("any", "toutes") or row[1:3] == flow[1:3]
    return source and destination and row[3:] == flow[3:]


HEADERS = {
    "fr": ["N°", "Émetteur", "IP source", "Cible", "IP destination", "Protocole", "Port(s)", "Justification", "Action"],
    "en": ["Ref", "Source", "Source IP", "Destination", "Destination IP", "Protocol", "Ports", "Reason", "Action"],
}  # fmt: skip
#: One row per verdict, on the default example: (cells after the ref, verdict expected).
ROWS = [
    (["NetScaler", "172.16.10.20", "DNS", "10.10.20.42", "TCP", "53", "DNS"], "wrong_protocol"),
    (["NetScaler", "172.16.10.20", "AD", "dc1", "TCP", "389", "LDAP"], "wrong_netscaler_address"),
    (["Internet", "any", "NetScaler", "172.16.10.10", "TCP", "443", "Gateway"], "covered"),
    (["XenMobile", "10.10.20.0/24", "SQL", "10.10.20.51", "TCP", "1433", "db"], "too_wide"),
    (["xms", "xms1, xms2", "ntp", "ntp1", "UDP", "100-200", "time"], "not_in_plan"),
    (["admins", "10.10.50.0/24", "xms", "10.10.20.11-10.10.20.12", "TCP", "4440-4450", "console"], "too_wide"),
    (["admins", "10.10.50.5", "xms", "10.10.20.11", "TCP", "22", "ssh"], "not_in_plan"),
    (["XenMobile", "xms1\nxms2", "NTP", "10.10.20.43", "UDP", "2195", "old"], "obsolete"),
    (["XenMobile", "10.10.20.11;10.10.20.12", "DNS", "10.10.20.42", "", "tcp/53, UDP 53", "dns"], "covered"),
    (["old", "10.10.20.11", "x", "10.10.20.99", "TCP", "8080", "to remove"], "ignored"),
]  # fmt: skip


def _sheet(lang: str, fmt: str, tmp_path: Path, rows=ROWS) -> Path:
    header = HEADERS[lang]
    body = [
        [f"{i + 1}", *cells, "refuser" if verdict == "ignored" else "autoriser"]
        for i, (cells, verdict) in enumerate(rows)
    ]
    if fmt == "xlsx":
        workbook = openpyxl.Workbook()
        ws = workbook.active
        ws.title = "Flux"
        ws.append(["Demande d'ouverture de flux"])  # a title above the header
        ws.append(header)
        for line in body:
            ws.append(line)
        ws.merge_cells("A1:D1")
        path = tmp_path / f"demande-{lang}.xlsx"
        workbook.save(path)
        return path
    path = tmp_path / f"demande-{lang}.csv"
    text = "\n".join(";".join(f'"{c}"' for c in line) for line in [header, *body]) + "\n"
    path.write_bytes(text.encode("cp1252" if lang == "fr" else "utf-8-sig"))
    return path


@pytest.mark.parametrize(
    ("lang", "fmt"), [("fr", "xlsx"), ("en", "xlsx"), ("fr", "csv"), ("en", "csv")]
)
def test_each_verdict_in_both_languages(run_cli, tmp_path: Path, lang: str, fmt: str) -> None:
    path = _sheet(lang, fmt, tmp_path)
    code, doc, stderr = _check(run_cli, str(path), "--lang", lang)
    assert code == 1
    verdicts: dict[int, str] = {}
    for row in doc["rows"]:
        verdicts.setdefault(row["row"], row["verdict"])
    assert list(verdicts.values()) == [v for _, v in ROWS]
    # XLSX rows are numbered as in Excel; CSV rows by their first line (a cell may span two)
    assert min(verdicts) == (3 if fmt == "xlsx" else 2)
    flows = {f["flow"]: f["status"] for f in doc["flows"] if f["port"] != 80}
    assert flows["XM-APP-02.1"] == "wrong_protocol"
    assert flows["XM-APP-06.1"] == "wrong_netscaler_address"
    assert flows["XM-APP-02.2"] == "covered" and flows["XM-APP-07.1"] == "covered"
    assert ("constat" if lang == "fr" else "finding") in stderr
    # the details speak the language asked for
    details: dict[str, list[str]] = {}
    for row in doc["rows"]:
        details.setdefault(row["verdict"], []).extend(row["details"])
    said = {
        "wrong_protocol": ("le plan demande UDP 53, la ligne demande TCP", "the plan needs UDP 53, the row asks TCP"),
        "wrong_netscaler_address": ("sur le NetScaler nsg1", "on NetScaler nsg1"),
        "too_wide": ("plus large que", "is wider than the plan's"),
        "obsolete": ("obsolète (APNs binaire", "is obsolete (binary APNs"),
    }  # fmt: skip
    for verdict, (fr, en) in said.items():
        assert any((fr if lang == "fr" else en) in d for d in details[verdict]), details[verdict]
        assert not any((en if lang == "fr" else fr) in d for d in details[verdict])


def test_every_detail_says_the_same_in_both_languages() -> None:
    import string

    from flowmatrix.i18n import in_language
    from flowmatrix.matrixcheck.details import TEMPLATES

    for kind, en in TEMPLATES.items():
        fr = in_language("fr", en)
        fields = {f for _, f, _, _ in string.Formatter().parse(en) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(fr) if f}, kind
        if kind != "at_row":
            assert en != fr, kind


def test_merged_cells_are_unmerged(run_cli, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.append(["Source", "Destination", "Protocole", "Port"])
    ws.append(["xms1, xms2", "10.10.20.42", "UDP", 53])
    ws.append([None, None, "TCP", 53])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    path = tmp_path / "merged.xlsx"
    workbook.save(path)
    _, doc, _ = _check(run_cli, str(path))
    assert [r["verdict"] for r in doc["rows"]] == ["covered", "covered"]


def test_requested_false_is_not_required_and_opening_it_is_obsolete(tmp_path: Path) -> None:
    plan = load_plan(None)
    flows = tuple(dataclasses.replace(f, requested=f.status != "obsolete") for f in plan.flows)
    plan = dataclasses.replace(plan, flows=flows)
    path = tmp_path / "m.csv"
    path.write_text("source,destination,port\n10.10.20.11,17.0.0.0/8,2195\n")
    result = check_matrix(path, plan).result
    assert [r.verdict for r in result.rows] == ["obsolete"]
    statuses = {u.flow.id: u.status for u in result.units}
    assert statuses["XM-DEV-09.1"] == "not_requested"  # missing, and no finding for it


def test_annotated_copy(run_cli, tmp_path: Path) -> None:
    path = _sheet("fr", "xlsx", tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out = tmp_path / "annotated.xlsx"
    result = run_cli("matrix", "check", str(path), "--lang", "fr", "-a", str(out), "-f", "json")
    assert result.code == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # never modified
    workbook = openpyxl.load_workbook(out)
    ws = workbook["Flux"]
    assert ws.cell(2, 10).value == "Verdict flowmatrix"
    assert ws.cell(3, 10).value.startswith("✗ mauvais protocole")
    assert ws.cell(5, 10).value.startswith("✓ couvert")
    assert ws.cell(3, 10).font.b and not ws.cell(5, 10).font.b
    assert ws.cell(3, 10).fill.start_color.rgb != ws.cell(5, 10).fill.start_color.rgb
    missing = workbook["Flux manquants"]
    doc = json.loads(result.stdout)
    expected = [f["flow"] for f in doc["flows"] if f["status"] in UNIT_FINDINGS]
    assert [missing.cell(r, 1).value for r in range(2, missing.max_row + 1)] == expected
    assert missing.cell(1, 2).value == "IP source"  # the sheet's own column names


def test_columns_override_on_a_headerless_sheet(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("x,172.16.10.5,10.10.20.43,udp,123\n")
    code, doc, _ = _check(
        run_cli, str(path), "--columns", "source=B,destination=C,protocol=D,port=E"
    )
    assert [r["verdict"] for r in doc["rows"]] == ["covered"] and code == 1  # others missing


def _encrypted(tmp_path: Path) -> Path:
    import msoffcrypto

    plain = _sheet("fr", "xlsx", tmp_path)
    out = io.BytesIO()
    with plain.open("rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        office.encrypt("secret", out)
    path = tmp_path / "chiffre.xlsx"
    path.write_bytes(out.getvalue())
    return path


def _corrupt(tmp_path: Path) -> Path:
    path = tmp_path / "abime.xlsx"
    path.write_bytes(_sheet("fr", "xlsx", tmp_path).read_bytes()[:300])
    return path


def _no_header(tmp_path: Path) -> Path:
    path = tmp_path / "vide.csv"
    path.write_text("a,b,c\n1,2,3\n")
    return path


def _bad_cell(rows: list, tmp_path: Path) -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Flux"
    ws.append(["Flux", "Emetteur", "Cible", "IP destination", "Port"])
    for _ in range(12):
        ws.append(["x", "10.10.20.11", "dns", "10.10.20.42", 53])
    ws.append(rows)
    path = tmp_path / "demande.xlsx"
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_encrypted, "chiffre.xlsx: the workbook is encrypted"),
        (_corrupt, "abime.xlsx: not an XLSX workbook"),
        (_no_header, "vide.csv: no header row found"),
        (
            lambda p: _bad_cell(["x", "10.10.20.11", "dns", "serveur-inconnu", 53], p),
            "demande.xlsx!Flux!D14: 'serveur-inconnu' is not an address",
        ),
        (
            lambda p: _bad_cell(["x", "10.10.20.11", "dns", "10.10.20.42", "http"], p),
            "demande.xlsx!Flux!E14: 'http' is not a port",
        ),
        (
            lambda p: _bad_cell(["x", "10.10.20.11", "dns", "10.10.20.42", 70000], p),
            "demande.xlsx!Flux!E14: port '70000' is outside 1-65535",
        ),
        (
            lambda p: _bad_cell(["x", "10.10.20.11", None, None, 53], p),
            "demande.xlsx!Flux!D14: the row has no destination",
        ),
    ],
)
def test_bad_input_is_one_located_line_and_exit_2(
    run_cli, tmp_path: Path, make, message: str
) -> None:
    path = make(tmp_path)
    result = run_cli("matrix", "check", str(path))
    assert result.code == 2, result
    assert message in result.stderr and "(hint: " in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_annotated_output_cannot_overwrite_the_input(run_cli, tmp_path: Path) -> None:
    path = _sheet("en", "xlsx", tmp_path)
    assert run_cli("matrix", "check", str(path), "-a", str(path)).code == 2


def test_row_findings_are_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "matrix.md").read_text()
    for verdict in (*ROW_FINDINGS, *UNIT_FINDINGS, "covered", "ignored", "not_requested"):
        assert f"`{verdict}`" in doc
