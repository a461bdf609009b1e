"""``flowmatrix report`` end to end: formats, files, stdout, and errors without traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from flowmatrix.cli import main
from flowmatrix.model import Plan


def run(argv: list[str], capsys: pytest.CaptureFixture[bytes]) -> tuple[int, bytes, str]:
    with pytest.raises(SystemExit) as done:
        main(["report", *argv])
    out, err = capsys.readouterr()
    code = done.value.code
    return int(code) if isinstance(code, int) else 1, out, err.decode()


@pytest.mark.parametrize(
    ("fmt", "start"),
    [
        ("html", b"<!DOCTYPE html>"),
        ("markdown", b"# Flow matrix"),
        ("dot", b"digraph"),
        ("mermaid", b"flowchart LR"),
    ],
)
def test_text_formats_to_stdout(
    capsysbinary: pytest.CaptureFixture[bytes], fmt: str, start: bytes, plan: Plan
) -> None:
    code, out, err = run(["--format", fmt, "--layout", "builtin"], capsysbinary)
    assert code == 0
    assert out.startswith(start)
    assert err.startswith(
        f"{len(plan.flows)} flows: 0 proven, 0 failing, 0 depends, "
        f"{len(plan.flows)} not tested; obsolete requirements in use: "
    )


def test_html_file_with_results(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path, verify_file: Path
) -> None:
    target = tmp_path / "report.html"
    code, out, err = run(["-o", str(target), "--results", str(verify_file)], capsysbinary)
    assert code == 0 and out == b""
    page = target.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and str(verify_file) in page
    assert "proven" in err and "; diagram: " in err
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left over


def test_xlsx_to_a_pipe_and_to_a_file(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    code, out, _ = run(["--format", "xlsx", "--lang", "fr"], capsysbinary)
    assert code == 0
    book = openpyxl.load_workbook(io.BytesIO(out))
    assert book.sheetnames[0] == "Synthèse"
    target = tmp_path / "demande.xlsx"
    code, out, _ = run(["-f", "xlsx", "-o", str(target)], capsysbinary)
    assert code == 0 and out == b""
    assert openpyxl.load_workbook(target).sheetnames[0] == "Summary"


def test_xlsx_is_not_written_to_a_terminal(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(["--format", "xlsx"], capsysbinary)
    assert code == 2 and out == b""
    assert "binary" in err and "hint: add -o FILE.xlsx" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--results", "/nonexistent/verify.json"], "does not exist"),
        (["--format", "pdf"], "'pdf' is not one of"),
        (["--layout", "neato"], "'neato' is not one of"),
        (["-o", "/nonexistent/dir/r.html"], "folder /nonexistent/dir does not exist"),
        (["example:nope"], "unknown example"),
    ],
)
def test_user_errors_exit_2_without_traceback(
    capsysbinary: pytest.CaptureFixture[bytes], argv: list[str], message: str
) -> None:
    code, _, err = run(argv, capsysbinary)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_bad_results_file_points_at_the_position(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    bad = tmp_path / "verify.json"
    bad.write_text('{"results": [\n  {"flow": }\n]}', "utf-8")
    code, _, err = run(["--results", str(bad)], capsysbinary)
    assert code == 2
    assert f"{bad}:2:" in err and "invalid JSON" in err and "hint:" in err


def test_unknown_flows_in_results_are_warned_about(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"results": [{"flow": "ZZ-1.1", "state": "open"}]}), "utf-8")
    code, _, err = run(["-f", "mermaid", "--results", str(other)], capsysbinary)
    assert code == 0
    assert "warning: Results about flows that are not in this plan (ignored): ZZ-1.1" in err


def test_console_script_in_a_subprocess(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", "report", "--format", "dot", "--lang", "fr"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("digraph flowmatrix {")
    assert "flux" in done.stderr
