"""The README's site-file example is a valid site, so the documentation cannot drift."""

from __future__ import annotations

from pathlib import Path

from flowmatrix.api import load_plan

README = Path(__file__).parents[1] / "README.md"


def test_readme_site_example_plans(tmp_path: Path) -> None:
    text = README.read_text("utf-8")
    section = text.index("## The site file")
    start = text.index("```yaml\n", section) + len("```yaml\n")
    end = text.index("```", start)
    site = tmp_path / "site.yaml"
    site.write_text(text[start:end], "utf-8")
    plan = load_plan(site)
    assert any(f.requirement == "SITE-monitoring" for f in plan.flows)
    ldaps = [f for f in plan.flows if f.requirement == "XM-APP-15" and f.source.role != "xenmobile"]
    assert ldaps and ldaps[0].source.addresses == ("172.16.10.6",)  # the AAA address


def test_readme_version_2_example_plans(tmp_path: Path) -> None:
    text = README.read_text("utf-8")
    section = text.index("**Version 2** of the format")
    start = text.index("```yaml\n", section) + len("```yaml\n")
    end = text.index("```", start)
    site = tmp_path / "site.yaml"
    site.write_text(text[start:end], "utf-8")
    plan = load_plan(site)
    to_dc = {f.requirement for f in plan.flows if "ad-dc1" in [h.name for h in f.destination.hosts]}
    assert {"XM-APP-02", "XM-APP-06"} <= to_dc
    assert any(f.destination.role == "exchange-server" for f in plan.flows)
