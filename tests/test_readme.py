"""The README's site-file examples are valid sites, so the documentation cannot drift."""

from __future__ import annotations

from pathlib import Path

from flowmatrix.api import load_plan
from flowmatrix.model import Plan

README = Path(__file__).parents[1] / "README.md"


def _plan_of_block(after: str, tmp_path: Path) -> Plan:
    """The plan of the first ``yaml`` block that follows the text ``after``."""
    text = README.read_text("utf-8")
    start = text.index("```yaml\n", text.index(after)) + len("```yaml\n")
    site = tmp_path / "site.yaml"
    site.write_text(text[start : text.index("```", start)], "utf-8")
    return load_plan(site)


def test_readme_site_example_plans(tmp_path: Path) -> None:
    plan = _plan_of_block("## The site file", tmp_path)
    assert any(f.requirement == "SITE-monitoring" for f in plan.flows)
    ldaps = [f for f in plan.flows if f.requirement == "XM-APP-15" and f.source.role != "xenmobile"]
    assert ldaps and ldaps[0].source.addresses == ("172.16.10.6",)  # the AAA address


def test_readme_version_2_example_plans(tmp_path: Path) -> None:
    plan = _plan_of_block("**Version 2** of the format", tmp_path)
    to_dc = {f.requirement for f in plan.flows if "ad-dc1" in [h.name for h in f.destination.hosts]}
    assert {"XM-APP-02", "XM-APP-06"} <= to_dc
    assert any(f.destination.role == "exchange-server" for f in plan.flows)
