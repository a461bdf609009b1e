"""The registry of rules targets: everything about a target is derived from its entry."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowmatrix.api import example_names, load_plan
from flowmatrix.atomic import write_atomic
from flowmatrix.audit.loader import load_ruleset
from flowmatrix.cli.app import app
from flowmatrix.cli.rules_cmd import Target as TargetChoice
from flowmatrix.errors import UserError
from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate, named_ends, registry
from flowmatrix.rules.outputs import Rendered, RenderJob
from flowmatrix.rules.registry import TARGETS, Target
from flowmatrix.rules.select import select
from flowmatrix.rules.validate import VALIDATORS
from flowmatrix.rules.vendors import VENDOR_TARGETS

DOCS = Path(__file__).parents[2] / "docs" / "rules.md"
TABLE = re.compile(
    r"<!-- targets table: generated from src/flowmatrix/rules/registry.py -->\n(.*?)"
    r"<!-- end of the targets table -->",
    re.DOTALL,
)


def test_the_docs_table_is_the_registry() -> None:
    """FLOWMATRIX_UPDATE_DOCS=1 writes the registry's table into docs/rules.md."""
    text = DOCS.read_text(encoding="utf-8")
    found = TABLE.search(text)
    assert found is not None, "docs/rules.md lost its targets table markers"
    table = registry.markdown_table()
    if os.environ.get("FLOWMATRIX_UPDATE_DOCS") == "1":
        start, end = found.span(1)
        write_atomic(DOCS, text[:start] + table + text[end:])
    else:
        assert found.group(1) == table, (
            "docs/rules.md's targets table differs from the registry "
            "(FLOWMATRIX_UPDATE_DOCS=1 python -m pytest tests/rules/test_rules_registry.py)"
        )


def test_the_command_line_is_derived_from_the_registry() -> None:
    assert [choice.value for choice in TargetChoice] == list(TARGETS)
    result = CliRunner().invoke(app, ["rules", "--help"], terminal_width=200)
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())
    for entry in TARGETS.values():
        assert f"{entry.name} {entry.help}" in help_text
        assert entry.name in registry.option_help()
        if entry.check is not None:
            assert entry.check[0] in registry.check_help()


def test_the_checks_and_feeds_are_derived_from_the_registry() -> None:
    assert set(VALIDATORS) == {t.name for t in TARGETS.values() if t.check}
    assert set(VENDOR_TARGETS) == {t.name for t in TARGETS.values() if t.writer == "aerleon"}
    for entry in TARGETS.values():
        assert named_ends.support(entry.name) == entry.names
        assert callable(registry.load(entry.render))
        if entry.aerleon is not None:
            assert entry.aerleon.name == entry.name
            assert callable(registry.load(entry.aerleon.reader))


def test_an_unknown_target_names_the_registered_ones(default_plan: Plan) -> None:
    with pytest.raises(UserError) as raised:
        generate(default_plan, Scope("firewall", "fw-back"), "pf")
    assert raised.value.message == "unknown target 'pf'"
    assert raised.value.hint == f"targets: {', '.join(TARGETS)}"


@pytest.mark.parametrize(
    ("target", "option", "message"),
    [
        ("nftables", "--ipset", "--ipset goes with --target iptables or ip6tables\n"),
        (
            "srx",
            "--dnsmasq",
            "--dnsmasq goes with --target nftables, iptables or ip6tables "
            "(hint: the other platforms resolve their FQDN objects themselves)\n",
        ),
    ],
)
def test_a_companion_file_goes_with_the_targets_that_write_it(
    run_cli: Any, tmp_path: Path, target: str, option: str, message: str
) -> None:
    extra = tmp_path / "extra"
    result = run_cli("rules", "-F", "fw-back", "-t", target, option, str(extra))
    assert result.code == 2, result
    assert result.stderr == f"flowmatrix: error: {message}"
    assert not extra.exists()


def test_help_imports_no_renderer() -> None:
    """``rules --help`` builds its choices from the registry alone: no renderer, no aerleon."""
    probe = (
        "import sys\n"
        "from flowmatrix.cli import main\n"
        "try:\n"
        "    main(['rules', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in sys.modules if m.startswith(('aerleon', 'flowmatrix.rules.'))]\n"
        "print('LOADED', ' '.join(sorted(loaded)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = done.stdout.rpartition("LOADED")[2].split()
    assert loaded == ["flowmatrix.rules.registry"]


def _scopes(plan: Plan, entry: Target) -> list[Scope]:
    found = [Scope("host", plan.site.hosts[0].name)]
    if "firewall" in entry.scopes:
        found += [Scope("firewall", f.name) for f in plan.site.firewalls]
    return found


def _render(plan: Plan, scope: Scope, entry: Target) -> Rendered:
    """The entry's render function on the scope's prepared selection (no --resolve)."""
    selection, _ = named_ends.prepare(select(plan, scope), entry.name, None)
    job = RenderJob(entry, scope, selection, plan.catalog.catalog.id, plan.site.name, None)
    rendered = registry.load(entry.render)(job)
    assert isinstance(rendered, Rendered)
    return rendered


@pytest.mark.parametrize("example", example_names())
@pytest.mark.parametrize("target", list(TARGETS))
def test_every_target_renders_every_example_and_reads_it_back(
    example: str, target: str, tmp_path: Path
) -> None:
    """Read back by the coverage check (no error among the renderer's findings) and, where
    the entry says the audit reads the target, by the audit (no problem)."""
    entry = TARGETS[target]
    plan = load_plan(None if example == "default" else f"example:{example}")
    if entry.plan_wide:
        if plan.site.proxy is None:
            with pytest.raises(UserError, match="declares no web proxy"):
                generate(plan, Scope("proxy", "proxy"), target)
            return
        out = generate(plan, Scope("proxy", "proxy"), target)
        assert out.rules > 0 and not out.errors, out.errors
        return
    for scope in _scopes(plan, entry):
        rendered = _render(plan, scope, entry)
        assert rendered.text
        errors = [f for f in rendered.findings if f.severity == "error"]
        assert not errors, (scope, errors)
        assert set(rendered.side_files) == set(entry.side_files)
        if entry.audit_format is None:
            continue
        path = tmp_path / f"{scope.name}.rules"
        path.write_text(rendered.text, encoding="utf-8")
        ruleset = load_ruleset(path, fmt=entry.audit_format, nft_reader="text")  # type: ignore[arg-type]
        assert ruleset.problems == (), (scope, ruleset.problems)
        if rendered.rules:
            assert any(chain.rules for chain in ruleset.chains.values()), scope
