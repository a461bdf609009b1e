"""The probe zipapp: reproducible, standard library only, runs on the hosts' Pythons."""

from __future__ import annotations

import glob
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from flowmatrix.errors import UserError
from flowmatrix.fleet.bundle import OPTIONAL_ON_REMOTE, REMOTE_MIN_PYTHON, build_bundle


def test_same_code_same_bytes() -> None:
    assert build_bundle().data == build_bundle().data


def test_contents_are_the_probe_engine_and_the_entry_point() -> None:
    bundle = build_bundle()
    assert bundle.data.startswith(b"#!/usr/bin/env python3\n")
    names = zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    assert names == sorted(names)
    assert "__main__.py" in names
    assert {
        "flowmatrix/fleet/remote.py",
        "flowmatrix/probe/scheduler.py",
        "flowmatrix/fleet/planfile.py",
        "flowmatrix/model.py",
    } <= set(names)
    # none of the control-node layers (and their pydantic / rich / yaml imports) travel
    for absent in (
        "flowmatrix/catalog.py",
        "flowmatrix/site.py",
        "flowmatrix/render.py",
        "flowmatrix/cli/__init__.py",
        "flowmatrix/probe/verify_report.py",
    ):
        assert absent not in names
    assert all(n == "__main__.py" or n.startswith("flowmatrix/") for n in names)
    assert bundle.size < 200_000


def test_runs_without_site_packages(tmp_path: Path) -> None:
    archive = tmp_path / "probe.pyz"
    archive.write_bytes(build_bundle().data)
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(archive), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowmatrix probe ")


def _entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_a_third_party_import_on_the_probe_path_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _entry(
        tmp_path,
        monkeypatch,
        "fm_entry_bad",
        "from flowmatrix.fleet import planfile\nimport yaml\n",
    )
    with pytest.raises(UserError, match=r"fm_entry_bad imports yaml.*not in the standard"):
        build_bundle(entry)


def test_type_checking_imports_do_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _entry(
        tmp_path,
        monkeypatch,
        "fm_entry_typing",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pydantic\n"
        "from flowmatrix import model\n",
    )
    bundle = build_bundle(entry)
    assert "flowmatrix.model" in bundle.modules
    assert "flowmatrix.site" not in bundle.modules


def test_optional_packages_are_only_the_compiled_ones() -> None:
    assert set(OPTIONAL_ON_REMOTE) == {"cryptography", "dns"}


def _interpreters() -> dict[tuple[int, int], str]:
    """Other Pythons on this machine (pyenv versions, pythonX.Y on PATH), by version."""
    found: dict[tuple[int, int], str] = {}
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(f"{root}/versions/*/bin/python"))
    candidates += [p for minor in range(6, 15) if (p := shutil.which(f"python3.{minor}"))]
    for path in candidates:
        match = re.search(r"(\d+)\.(\d+)", Path(path).resolve().name) or re.search(
            r"versions/(\d+)\.(\d+)", path
        )
        if match:
            found.setdefault((int(match.group(1)), int(match.group(2))), path)
    return found


def test_other_pythons(tmp_path: Path) -> None:
    pythons = _interpreters()
    if not pythons:
        pytest.skip("no other Python interpreter on this machine")
    archive = tmp_path / "probe.pyz"
    archive.write_bytes(build_bundle().data)
    shown = ".".join(map(str, REMOTE_MIN_PYTHON))
    for version, path in sorted(pythons.items()):
        done = subprocess.run(
            [path, str(archive), "--version"], capture_output=True, text=True, timeout=60
        )
        if version >= REMOTE_MIN_PYTHON:
            assert done.returncode == 0, (path, done.stderr)
        else:
            assert done.returncode == 2, (path, done.stderr)
            assert f"needs Python {shown} or later" in done.stderr, (path, done.stderr)
