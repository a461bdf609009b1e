"""Bad vendor input: another vendor's file, a garbled one, unknown commands; and secrets,
which no output, note, problem or error ever echoes."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.vendor_lab import DATA, SITE, audit_text
from flowmatrix.audit.loader import detect, load_ruleset
from flowmatrix.errors import UserError

FILES = {
    "fortigate": DATA / "edge.fortigate.conf",
    "paloalto": DATA / "edge.paloalto.set",
    "ciscoasa": DATA / "edge.ciscoasa.cfg",
    "srx": DATA / "edge.srx.conf",
}
#: Every secret of the hand-written files has one of these in it.
SECRET_MARKS = ("TopSecret", "2KFQnbNIdI")


@pytest.mark.parametrize("vendor", sorted(FILES))
def test_formats_are_detected(vendor: str) -> None:
    assert detect(FILES[vendor].read_text("utf-8")) == vendor


@pytest.mark.parametrize(
    ("named", "given"),
    [
        ("fortigate", "paloalto"),
        ("srx", "ciscoasa"),
        ("paloalto", "srx"),
        ("ciscoasa", "fortigate"),
    ],
)
def test_another_vendors_file_is_exit_2(run_cli, named: str, given: str) -> None:
    result = run_cli(
        "audit", str(SITE), "-F", "edge", "-r", str(FILES[given]), "--ruleset-format", named
    )
    assert result.code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"flowmatrix: error: {FILES[given]}:1: expected ")
    assert "but this reads as" in line and "Traceback" not in result.stderr


def _cut(vendor: str, marker: str) -> str:
    """The file cut right after the first line holding ``marker``."""
    text = FILES[vendor].read_text("utf-8")
    at = text.index(marker)
    return text[: text.index("\n", at) + 1]


@pytest.mark.parametrize(
    ("vendor", "marker", "expected"),
    [
        ("fortigate", "set password ENC", "'config system admin' opened at line 9 is not closed"),
        ("srx", 'encrypted-password "$6$Redacted$TopSecretRoot', "the block opened at line"),
        ("fortigate", 'set name "dmz-dns"', "'config firewall policy' opened at line"),
    ],
)
def test_a_truncated_file_is_exit_2_without_its_secrets(
    run_cli, tmp_path: Path, vendor: str, marker: str, expected: str
) -> None:
    path = tmp_path / f"cut.{vendor}"
    path.write_text(_cut(vendor, marker), "utf-8")
    result = run_cli("audit", str(SITE), "-F", "edge", "-r", str(path))
    assert result.code == 2 and expected in result.stderr, result.stderr
    assert f"{path}:" in result.stderr and "Traceback" not in result.stderr
    assert not any(mark in result.stderr + result.stdout for mark in SECRET_MARKS)


def test_a_statement_cut_before_its_semicolon(tmp_path: Path) -> None:
    text = 'system {\n    root-authentication {\n        encrypted-password "$6$TopSecretHash"\n    }\n}\n'
    with pytest.raises(UserError) as caught:
        load_ruleset(_write(tmp_path, "bad.srx", text), fmt="srx")
    assert caught.value.line == 4 and "expected ';' before '}'" in str(caught.value)
    unterminated = "security {\n    policies {\n        default-policy deny-all\n"
    with pytest.raises(UserError) as caught:
        load_ruleset(_write(tmp_path, "bad2.srx", unterminated + "    }\n}\n"), fmt="srx")
    assert "TopSecret" not in str(caught.value)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_garbled_xml_and_entities(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not well-formed XML") as caught:
        load_ruleset(_write(tmp_path, "a.xml", "<config>\n<devices>\n</config>\n"))
    assert caught.value.line == 3
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n<config>&lol;</config>\n'
    with pytest.raises(UserError, match="DTD"):
        load_ruleset(_write(tmp_path, "b.xml", bomb))


def test_an_unknown_command_in_a_known_block_is_listed(tmp_path: Path) -> None:
    text = (
        FILES["fortigate"]
        .read_text("utf-8")
        .replace(
            '        set name "dmz-dns"\n',
            '        set name "dmz-dns"\n        frobnicate password TopSecretX\n',
        )
    )
    report = audit_text(tmp_path, "unknown.conf", text)
    (problem,) = report.problems
    assert problem.line is not None and "unknown command 'frobnicate'" in problem.message
    assert "TopSecret" not in problem.message
    asa = (
        FILES["ciscoasa"]
        .read_text("utf-8")
        .replace("ftp mode passive\n", "frobnicate all the things\n")
    )
    report = audit_text(tmp_path, "unknown.cfg", asa)
    assert [p.message for p in report.problems] == ["unknown command 'frobnicate'"]


@pytest.mark.parametrize("vendor", sorted(FILES))
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "sarif"])
def test_secrets_are_never_echoed(run_cli, tmp_path: Path, vendor: str, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    shown = run_cli("audit", str(SITE), "-F", "edge", "-r", str(FILES[vendor]), "--format", fmt)
    written = run_cli(
        "audit", str(SITE), "-F", "edge", "-r", str(FILES[vendor]), "--format", fmt, "-o", str(out)
    )
    assert shown.code == written.code == 1  # each file blocks two required flows
    everything = (
        shown.stdout + shown.stderr + written.stdout + written.stderr + out.read_text("utf-8")
    )
    assert "XM-APP-14.1" in everything
    assert not [mark for mark in SECRET_MARKS if mark in everything]


def test_redaction_of_secret_keywords() -> None:
    from flowmatrix.audit.vendor.shared import redact

    assert redact("set password ENC abc123") == "set password <secret>"
    assert "abc123" not in redact("set password ENC abc123")
    assert "s3cret" not in redact("ikev1 pre-shared-key s3cret")
    assert "hash" not in redact("<phash>hash</phash>").replace("phash", "")
    assert redact("policy 12: srcintf port1") == "policy 12: srcintf port1"
