"""The package layers: each package imports only what its docstring's "Imports:" line
allows, nothing but the CLI imports the CLI, and a module over 500 lines says why."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "flowmatrix"
PACKAGES = sorted(p.name for p in SOURCE.iterdir() if (p / "__init__.py").is_file())
SIZE_LIMIT = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.Module, *, typing_too: bool = False) -> Iterator[tuple[int, str]]:
    """Absolute imports, with their lines, outside ``if TYPE_CHECKING:`` (``typing_too``:
    those inside it as well). A function's lazy import counts."""
    skipped: set[int] = set()
    for node in ast.walk(tree) if not typing_too else ():
        test = node.test if isinstance(node, ast.If) else None
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
            skipped.update(id(inner) for child in node.body for inner in ast.walk(child))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _layer(module: str) -> str | None:
    """The package a ``flowmatrix.X...`` module belongs to (None: a top-level module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PACKAGES else None


def _imports_line(package: str | None) -> str:
    init = SOURCE / package / "__init__.py" if package else SOURCE / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text("utf-8"))) or ""
    found = re.search(r"^Imports: (.*?)(?:\n\n|\Z)", doc, re.M | re.S)
    assert found, f"{init}: the docstring has no 'Imports:' paragraph"
    return " ".join(found.group(1).split())


def _allowed(package: str) -> set[str]:
    line = _imports_line(package)
    if line.startswith("every package"):
        return set(PACKAGES)
    return set(re.findall(r"``(\w+)``", line)) & set(PACKAGES)


def _top_level_allowed() -> dict[str, set[str]]:
    """Package -> the top-level modules that may import it, from the root docstring."""
    line = _imports_line(None)
    allowed: dict[str, set[str]] = {}
    for package, clause in re.findall(r"``(\w+)`` \(((?:[^()]|\([^)]*\))*)\)", line):
        allowed[package] = set(re.findall(r"from ``(\w+)``", clause))
    return allowed


def _violations() -> list[str]:
    top_level = _top_level_allowed()
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        module = _module_name(path)
        mine = _layer(module)
        allowed = _allowed(mine) if mine else set()
        for line, target in _runtime_imports(ast.parse(path.read_text("utf-8"))):
            if not target.startswith("flowmatrix."):
                continue
            theirs = _layer(target)
            if theirs is None or theirs == mine or theirs in allowed:
                continue
            if mine is None and module.rsplit(".", 1)[-1] in top_level.get(theirs, set()):
                continue
            found.append(f"{path.relative_to(SOURCE)}:{line}: {module} imports {target}")
    return found


def test_every_package_says_what_it_may_import() -> None:
    for package in PACKAGES:
        assert _imports_line(package)
    assert _top_level_allowed() == {"probe": {"journeys", "netns"}, "cli": {"__main__"}}


def test_each_package_imports_only_what_its_docstring_allows() -> None:
    assert _violations() == []


def test_nothing_but_the_cli_imports_the_cli() -> None:
    assert "cli" not in set().union(*(_allowed(p) for p in PACKAGES if p != "cli"))


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    # the rule reads real code: an import the docstring does not allow is found
    tree = ast.parse(
        "from flowmatrix.lab.session import run_lab\nif TYPE_CHECKING:\n    import x\n"
    )
    imports = list(_runtime_imports(tree))
    assert imports == [(1, "flowmatrix.lab.session")]
    assert _layer("flowmatrix.lab.session") == "lab" and "lab" not in _allowed("rules")


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted(SOURCE.rglob("*.py"))
        if len(p.read_text("utf-8").splitlines()) > SIZE_LIMIT
    ],
    ids=lambda p: str(p.relative_to(SOURCE)),
)
def test_a_module_over_the_size_limit_says_why(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
    assert re.search(r"^Size: \S", doc, re.M), (
        f"{path.relative_to(SOURCE)} has more than {SIZE_LIMIT} lines: split it, or say in its "
        "docstring ('Size: ...') why its size is earned"
    )


def test_no_two_public_modules_share_a_name() -> None:
    """A file's name says what it holds: ``judging.py`` and ``verify_report.py``, not a
    third ``run.py`` or ``report.py`` (private modules, ``_name.py``, may repeat)."""
    seen: dict[str, list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        if path.name != "__init__.py" and not path.name.startswith("_"):
            seen.setdefault(path.name, []).append(str(path.relative_to(SOURCE)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


#: The validated world: the site and catalog models, their field types, and pydantic.
VALIDATED = (
    "pydantic",
    "flowmatrix.site",
    "flowmatrix.sitefields",
    "flowmatrix.siteschema",
    "flowmatrix.catalog",
    "flowmatrix.plan_views",
)
#: What comes after the plan: it reads ``Plan.site`` and ``Plan.catalog`` only.
DOWNSTREAM_PACKAGES = (
    "rules",
    "probe",
    "lab",
    "audit",
    "report",
    "fleet",
    "watch",
    "certs",
    "matrixcheck",
)
DOWNSTREAM_MODULES = (
    "model",
    "site_view",
    "catalog_view",
    "topology",
    "networks",
    "export",
    "journeys",
    "evidence",
    "render",
    "documents",
)


def _downstream_files() -> list[Path]:
    files = [SOURCE / f"{name}.py" for name in DOWNSTREAM_MODULES]
    for package in DOWNSTREAM_PACKAGES:
        files.extend(sorted((SOURCE / package).rglob("*.py")))
    return files


def _validated_imports(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for line, target in _runtime_imports(ast.parse(path.read_text("utf-8")), typing_too=True):
            if any(target == name or target.startswith(name + ".") for name in VALIDATED):
                found.append(f"{path.relative_to(SOURCE)}:{line}: imports {target}")
    return found


def test_nothing_after_the_plan_imports_the_validated_models() -> None:
    """The plan is the whole contract downstream: its site and catalog are plain records
    (site_view, catalog_view), so no module after it imports pydantic or the models."""
    assert all(p.is_file() for p in _downstream_files())
    assert _validated_imports(_downstream_files()) == []


def test_the_validated_imports_check_sees_one(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from flowmatrix.site import Host\n", "utf-8")
    sneaky = sneaky.rename(SOURCE / "_sneaky_probe_for_test.py")
    try:
        assert _validated_imports([sneaky]) == [
            "_sneaky_probe_for_test.py:2: imports flowmatrix.site"
        ]
    finally:
        sneaky.unlink()


_PLAN_ONLY = """
import pickle, sys
plan = pickle.loads(sys.stdin.buffer.read())
from flowmatrix.rules import generate
from flowmatrix.rules.firewall_view import Scope
from flowmatrix.report.compose import make_report
from flowmatrix.journeys import plan_journeys
from flowmatrix.export import plan_to_dict
firewall = plan.site.firewalls[0].name
out = generate(plan, Scope("firewall", firewall), "nftables")
assert out.text and not [f for f in out.findings if f.severity == "error"], out.findings
assert plan.site.name in make_report(plan, "markdown")
assert make_report(plan, "html")
assert plan_journeys(plan) and plan_to_dict(plan)["flows"]
assert plan.site.topology.path(plan.site.zones[0].name, plan.site.zones[-1].name) is not None
validated = {"flowmatrix.site", "flowmatrix.sitefields", "flowmatrix.catalog",
    "flowmatrix.plan_views", "flowmatrix.api", "flowmatrix.plan", "pydantic"}
print(sorted(m for m in sys.modules if m.split(".")[0] == "pydantic" or m in validated))
"""


def test_a_plan_is_used_downstream_without_the_validated_world() -> None:
    """A plan read back (as from the plan cache) renders rules, reports and journeys in
    a process that never imports pydantic, the site and catalog models, or the loader."""
    import pickle
    import subprocess
    import sys

    from flowmatrix.api import load_plan

    plan = load_plan(None)
    result = subprocess.run(
        [sys.executable, "-c", _PLAN_ONLY],
        input=pickle.dumps(plan),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "[]"
