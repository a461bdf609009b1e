"""A plan holds at most a stated number of flow ports; a site asking for more is
refused with the count and a hint, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix import plan as planning
from flowmatrix.api import load_plan
from flowmatrix.errors import UserError
from flowmatrix.yamlio import parse_yaml_text

from .helpers import default_site


def site_with_flows(flows: int, ports: int) -> str:
    listed = ", ".join(str(port) for port in range(1000, 1000 + ports))
    lines = ["flows:"] + [
        f"  - {{name: f{i}, source: xenmobile, destination: sql-server, ports: [{listed}]}}"
        for i in range(flows)
    ]
    return default_site() + "\n".join(lines) + "\n"


def plan_of(text: str) -> planning.Plan:
    from flowmatrix.catalog import load_catalog
    from flowmatrix.site import Site

    site = parse_yaml_text(text, "site.yaml").validate(Site)
    return planning.build_plan(site, load_catalog(site.catalog))


def test_the_default_site_is_far_below_the_budget() -> None:
    plan = load_plan(None)
    assert 0 < sum(len(flow.ports) for flow in plan.flows) < planning.MAX_FLOW_PORTS // 1000


def test_more_flow_ports_than_the_budget_are_refused_with_the_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = sum(len(flow.ports) for flow in load_plan(None).flows)
    monkeypatch.setattr(planning, "MAX_FLOW_PORTS", base + 250)
    assert len(plan_of(site_with_flows(2, 100)).flows) > 0  # base + 200: within
    with pytest.raises(UserError) as caught:
        plan_of(site_with_flows(3, 100))  # base + 300
    message = str(caught.value)
    assert f"more than {base + 250:,} flow ports" in message
    assert f"{base + 300:,} by flow SITE-f2.1" in message and "hint:" in message


def test_the_refusal_points_at_the_flow_in_the_site_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """file:line:col of the ports of the site flow that crossed the budget."""
    base = sum(len(flow.ports) for flow in load_plan(None).flows)
    monkeypatch.setattr(planning, "MAX_FLOW_PORTS", base + 250)
    site = tmp_path / "site.yaml"
    text = site_with_flows(3, 100)
    site.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_plan(site)
    line = text.splitlines().index(next(t for t in text.splitlines() if "name: f2," in t)) + 1
    col = text.splitlines()[line - 1].index("ports:") + 1
    assert caught.value.location == f"{site}:{line}:{col}"
    assert str(caught.value).startswith(f"{site}:{line}:{col}: the plan would hold more than")
