"""Shared test set-up: kernel tests skip without root, fail in CI when required."""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from flowmatrix.netns import kernel_support

REQUIRE_KERNEL = os.environ.get("FLOWMATRIX_REQUIRE_KERNEL_TESTS") == "1"

# The suite reads English texts unless a test asks for another language: the tester's
# own locale (LANG=fr_FR.UTF-8) must not change what the CLI and its subprocesses print.
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"


@pytest.fixture(autouse=True)
def _english() -> None:
    """Each test starts in English (a run with ``--lang fr`` leaves French current)."""
    from flowmatrix import i18n

    i18n.use("en")


@cache
def _kernel_reason() -> str | None:
    return kernel_support()


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_KERNEL:
        pytest.fail(f"kernel tests are required (FLOWMATRIX_REQUIRE_KERNEL_TESTS=1): {reason}")
    pytest.skip(f"kernel test: {reason}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel") is None:
        return
    reason = _kernel_reason()
    if reason is not None:
        _skip_or_fail(reason)


@pytest.fixture
def require_kernel() -> None:
    """For tests that need the kernel but are not marked ``kernel``."""
    reason = _kernel_reason()
    if reason is not None:
        _skip_or_fail(reason)


class CliResult:
    """What one in-process run of the CLI printed and returned."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stderr={self.stderr[-500:]!r})"


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``flowmatrix ARGS`` in this process; returns a CliResult (never raises SystemExit)."""
    from flowmatrix.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = 0
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture(scope="session", autouse=True)
def _private_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The catalog cache of this test session (and of the commands it starts) stays in a
    temporary folder, not in the user's ~/.cache."""
    os.environ["FLOWMATRIX_CACHE_DIR"] = str(tmp_path_factory.mktemp("flowmatrix-cache"))


@pytest.fixture(scope="session")
def i18n_script() -> ModuleType:
    """``scripts/i18n.py`` as a module: the catalog's extraction and checks."""
    pytest.importorskip("babel", reason="Babel extracts the texts (pip install '.[test]')")
    path = Path(__file__).resolve().parents[1] / "scripts" / "i18n.py"
    spec = importlib.util.spec_from_file_location("i18n_script", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
