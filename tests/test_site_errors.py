"""Every malformed site gives one located message and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.errors import UserError

CORPUS = Path(__file__).parent / "data" / "bad-sites"


def _expected() -> list[tuple[str, str]]:
    lines = (CORPUS / "expected.tsv").read_text("utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if line]  # type: ignore[misc]


def test_corpus_is_complete() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.yaml"))
    assert files == sorted(name for name, _ in _expected())
    assert len(files) >= 25


@pytest.mark.parametrize(("name", "message"), _expected(), ids=[n for n, _ in _expected()])
def test_bad_site_message(name: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    with pytest.raises(UserError) as caught:
        load_plan(name)
    assert str(caught.value) == message
    assert caught.value.line is not None and caught.value.col is not None


@pytest.mark.parametrize("name", ["03-unknown-role.yaml", "17-binary.yaml", "14-empty.yaml"])
def test_cli_exit_code_and_single_line(name: str, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(CORPUS)
    result = run_cli("plan", name)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"flowmatrix: error: {name}:")
    assert "Traceback" not in result.stderr


def test_missing_file(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", "/nonexistent/site.yaml")
    assert result.code == 2
    assert (
        result.stderr
        == "flowmatrix: error: /nonexistent/site.yaml: no such file (hint: check the path)\n"
    )


def test_directory_instead_of_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", str(tmp_path))
    assert result.code == 2
    assert "is a directory" in result.stderr
