"""Terminal tables show what the data says: no emoji codes, no markup, no terminal escapes.

Rich turns ``:100:`` into an emoji and ``[bold]`` into style by default, so an IPv6 address
such as ``2001:db8:c11:100::10`` came out as ``2001:db8:c11💯:10``. Every table is printed
here with every address shape that holds an emoji code, and compared with the JSON.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.emoji import Emoji

from flowmatrix.render import to_csv, to_table

EMOJI_NAMES = ("100", "1234", "a", "ab", "abc", "abcd", "b", "bed", "bee", "cd")
#: Every shape of address where a group is one of Rich's emoji codes, as ``:100:`` or ``::a:``.
ADDRESSES = tuple(
    address
    for name in EMOJI_NAMES
    for address in (f"2001:db8:1:{name}::1", f"fd00::1:{name}:5", f"fd00::{name}:7")
)
MARKUP_NAME = "[bold]Lab[/bold] :b: [red]x"
ESCAPE = "\x1b[2J\x1b]0;owned\x07"
#: What Rich substitutes for those codes: any of them in a table is a wrong address.
_EMOJI = re.compile("|".join(re.escape(str(Emoji(name))) for name in EMOJI_NAMES))


def _strings(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from _strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from _strings(value)


def _ipv6_in(document: Any) -> set[str]:
    found = set()
    for text in _strings(document):
        try:
            if ipaddress.ip_address(text).version == 6:
                found.add(text)
        except ValueError:
            continue
    return found


def assert_literal(table: str, document: Any, expected: set[str]) -> None:
    """The addresses are in the JSON, and in the table as written; nothing is an emoji."""
    assert expected <= _ipv6_in(document)
    missing = sorted(a for a in expected if a not in table)
    assert not missing, missing
    assert not _EMOJI.search(table), _EMOJI.findall(table)
    assert "\x1b" not in table


def _box_free(table: str) -> str:
    return re.sub("[\u2500-\u257f]", "", table)


def write_catalog(folder: Path) -> Path:
    path = folder / "catalog.yaml"
    path.write_text(
        "catalog:\n  id: literal-test\n  title: {fr: Test, en: Test}\n  product: tests\n"
        "  source: tests\n  date: 2024-01-01\nsections: []\nroles:\n"
        "  - id: app-server\n"
        f"    name: {{fr: 'App [bold]x[/bold]', en: {json.dumps(MARKUP_NAME)}}}\n"
        "    kind: server\n"
        "  - id: db-server\n"
        f"    name: {{fr: Base, en: {json.dumps('DB ' + ESCAPE)}}}\n"
        "    kind: server\n"
        "features: []\nrequirements: []\n"
    )
    return path


def write_site(folder: Path) -> Path:
    catalog = write_catalog(folder)
    hosts = ["  - {name: db1, role: db-server, addresses: ['2001:db8:c11:100::10']}"]
    flows = []
    for number, address in enumerate(ADDRESSES):
        hosts.append(f"  - {{name: app{number}, role: app-server, addresses: ['{address}']}}")
        flows.append(
            f"  - {{name: app{number}-to-db, source: app{number}, destination: db1, ports: [5432]}}"
        )
    lines = [
        "version: 1",
        f"name: {json.dumps(MARKUP_NAME)}",
        f"catalog: {catalog}",
        "zones:",
        "  - {name: lab, cidrs: ['2001:db8:1::/48', 'fd00::/16']}",
        "  - {name: data, cidrs: ['2001:db8:c11::/48']}",
        "firewalls:",
        "  - {name: fw, zones: [lab, data]}",
        "hosts:",
        *hosts,
        "flows:",
        *flows,
    ]
    path = folder / "site.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path)


def test_the_table_writer_prints_cells_literally() -> None:
    rows = [{"address": a, "name": MARKUP_NAME, "reason": ESCAPE} for a in ADDRESSES]
    for color in (False, True):
        table = to_table(rows, ["address", "name", "reason"], "en", title=MARKUP_NAME, color=color)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", table)  # the table's own colours, if any
        for address in ADDRESSES:
            assert address in plain
        assert plain.count(MARKUP_NAME) == len(ADDRESSES) + 1
        assert "\\x1b[2J\\x1b]0;owned\\x07" in plain
        assert "\x1b[2J" not in table and "\x07" not in table


def test_csv_escapes_control_characters_and_formulas() -> None:
    text = to_csv(
        [{"a": ESCAPE, "b": "=HYPERLINK(1)", "c": "+1 call", "d": "-x", "e": "@SUM(1)", "f": "-1"}],
        ["a", "b", "c", "d", "e", "f"],
    )
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in text
    assert (
        text.splitlines()[1] == "\\x1b[2J\\x1b]0;owned\\x07,'=HYPERLINK(1),'+1 call,'-x,'@SUM(1),-1"
    )


def test_plan_table(site: Path, run_cli: Callable[..., Any]) -> None:
    table = run_cli("plan", str(site))
    assert table.code == 0, table.stderr
    document = json.loads(run_cli("plan", str(site), "-f", "json").stdout)
    assert_literal(table.stdout, document, set(ADDRESSES) | {"2001:db8:c11:100::10"})
    assert MARKUP_NAME in table.stdout
    assert "DB \\x1b[2J" in _box_free(table.stdout)


def test_plan_csv_has_no_control_characters(site: Path, run_cli: Callable[..., Any]) -> None:
    done = run_cli("plan", str(site), "-f", "csv")
    assert done.code == 0, done.stderr
    assert "\x1b" not in done.stdout
    for address in ADDRESSES:
        assert address in done.stdout


def test_catalog_tables(site: Path, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    catalog = str(tmp_path / "catalog.yaml")
    table = run_cli("catalog", "--roles", "--catalog", catalog)
    assert table.code == 0, table.stderr
    assert MARKUP_NAME in table.stdout
    assert "\x1b" not in table.stdout
    assert "DB \\x1b[2J" in table.stdout


def test_merge_table(site: Path, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    from fleet.results_factory import write

    rows = [
        (f"SITE-app{n}-to-db.1", f"app{n}", "db1", "2001:db8:c11:100::10", 5432, "open")
        for n in range(len(ADDRESSES))
    ]
    results = write(tmp_path / "app.json", rows, site=MARKUP_NAME)
    table = run_cli("merge", str(results), "--site", str(site))
    assert table.code in (0, 1), table.stderr
    document = json.loads(run_cli("merge", str(results), "--site", str(site), "-f", "json").stdout)
    assert_literal(table.stdout, document, {"2001:db8:c11:100::10"})


def test_verify_table() -> None:
    from flowmatrix.probe import verify_report as verify_render
    from flowmatrix.probe.results import ProbeResult
    from flowmatrix.probe.scheduler import ProbeOptions
    from flowmatrix.probe.verify import VerifyReport

    results = tuple(
        ProbeResult(
            flow=f"SITE-app{n}-to-db.1",
            requirement=f"SITE-app{n}-to-db",
            required=True,
            source_role="app-server",
            source_host=f"app{n}",
            source_address=address,
            destination_role="db-server",
            destination_host="db1",
            fqdn=None,
            address=address,
            port=5432,
            protocol="tcp",
            service=None,
            state="open",
            reason=f"{MARKUP_NAME} {ESCAPE}",
        )
        for n, address in enumerate(ADDRESSES)
    )
    run = VerifyReport(results, "role app-server", (), ProbeOptions(), MARKUP_NAME)
    table = verify_render.to_table_text(run, "en", width=200, color=False)
    document = json.loads(verify_render.to_json_text(run))
    assert_literal(table, document, set(ADDRESSES))
    assert MARKUP_NAME in table


def test_lab_table() -> None:
    from flowmatrix.lab.cases import Case
    from flowmatrix.lab.lab_report import report_to_dict
    from flowmatrix.lab.lab_report import to_table as lab_table
    from flowmatrix.lab.session import CaseResult, LabReport

    results = tuple(
        CaseResult(
            Case(
                id=f"SITE-app{n}-to-db.1",
                variant="planned",
                flow=f"SITE-app{n}-to-db.1",
                required=True,  # type: ignore[arg-type]
                protocol="tcp",
                port=5432,
                source_zone="lab",
                source_label=MARKUP_NAME,
                source_address=address,
                destination_zone="lab",
                destination_label="db1",
                destination_address="2001:db8:c11:100::10",
                firewalls=("fw",),
            ),
            "blocked",
            False,
            "filtered",
            ESCAPE,
        )
        for n, address in enumerate(ADDRESSES)
    )
    report = LabReport(MARKUP_NAME, results, (), (), (), 0.0, 0)
    table = lab_table(report, width=220)
    assert_literal(table, report_to_dict(report), set(ADDRESSES))
    assert MARKUP_NAME in table


def test_audit_table(site: Path, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    ruleset = tmp_path / "fw.nft"
    ruleset.write_text(
        "table inet filter {\n  chain forward {\n    type filter hook forward priority 0;"
        " policy drop;\n    ip6 saddr 2001:db8:1:100::1 tcp dport 5432 accept\n  }\n}\n"
    )
    args = ("audit", str(site), "-F", "fw", "-r", str(ruleset))
    table = run_cli(*args)
    assert table.code in (0, 1), table.stderr
    assert "Traceback" not in table.stderr
    assert MARKUP_NAME in table.stdout
    assert "2001:db8:1:100::1" in table.stdout
    assert "\x1b" not in table.stdout
    assert not _EMOJI.search(table.stdout)


def test_certs_table(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    import trustme

    ca = trustme.CA()
    identities = ["2001:db8:1:100::1", "fd00::1:b:5", "fd00::cd:7"]
    issued = ca.issue_cert(*identities, common_name=MARKUP_NAME)
    path = tmp_path / "server.pem"
    path.write_bytes(issued.cert_chain_pems[0].bytes())
    table = run_cli("certs", "check", str(path))
    document = json.loads(run_cli("certs", "check", str(path), "-f", "json").stdout)
    assert_literal(table.stdout, document, set())
    for address in identities:
        assert address in table.stdout
    assert "[bold]Lab[/bold]" in table.stdout


def test_warnings_from_a_results_file_do_not_reach_the_terminal_raw(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    from fleet.conftest import write_site as write_fleet_site
    from fleet.results_factory import write

    fleet_site = write_fleet_site(tmp_path, "127.0.0.2", "127.0.0.3", "127.0.0.0/24")
    rows = [
        ("SITE-app-to-db.1", "app1", "db1", "127.0.0.3", 5432, "open", [f"finding {ESCAPE}"]),
        (f"SITE-evil{ESCAPE}.1", f"app1{ESCAPE}", "db1", "127.0.0.3", 5432, "open"),
    ]
    results = write(tmp_path / "results.json", rows)
    stderr = ""
    for args in (
        ("report", str(fleet_site), "-r", str(results), "-f", "markdown"),
        ("merge", str(results), "--site", str(fleet_site)),
    ):
        done = run_cli(*args)
        assert done.code in (0, 1), done.stderr
        for raw in ("\x1b", "\x07"):
            assert raw not in done.stderr, args
            assert raw not in done.stdout, args
        stderr += done.stderr
    assert "SITE-evil\\x1b[2J\\x1b]0;owned\\x07.1" in stderr


def test_matrix_check_table(site: Path, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    sheet = tmp_path / "matrix.csv"
    assert run_cli("plan", str(site), "-f", "csv", "-o", str(sheet)).code == 0
    lines = sheet.read_text().splitlines()
    # The first planned row goes missing; a row the plan does not hold comes in.
    extra = "X-1,X,app,lab,fd00::1:bee:5,db,data,fd00::abcd:7,tcp,9999,fw,current,x"
    sheet.write_text("\n".join([lines[0], *lines[2:], extra]) + "\n")
    table = run_cli("matrix", "check", str(sheet), str(site))
    assert table.code == 1, table.stderr
    document = json.loads(run_cli("matrix", "check", str(sheet), str(site), "-f", "json").stdout)
    assert_literal(table.stdout, document, {"2001:db8:1:100::1"})
