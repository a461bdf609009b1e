"""The lab ends with one line per user journey, judged on its planned probes."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.kernel


def test_lab_summarises_journeys_from_its_planned_probes(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("lab", "--timeout", "0.5", "--format", "json")
    document = json.loads(result.stdout)
    planned = [r for r in document["results"] if r["variant"] == "planned"]
    assert planned and all(r["verdict"] == "pass" for r in planned if r["required"])
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("lab OK:")
    assert "Push notifications reach devices (APNs, FCM): up" in lines
    assert "Users log on (LDAP / RADIUS from the NetScaler): up" in lines
    assert "An iOS device enrols from the Internet: up" in lines


def test_a_firewall_that_drops_everything_blocks_the_journeys_through_it(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "fw.nft"
    rules.write_text(
        "table inet closed {\n"
        "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n"
        "}\n"
    )
    result = run_cli(
        "lab",
        "example:small-office",
        "--rules",
        f"fw={rules}",
        "--unplanned",
        "0",
        "--timeout",
        "0.3",
    )
    assert result.code == 1, result
    journeys = [line for line in result.stderr.splitlines() if ": blocked, " in line]
    assert journeys, result.stderr
    assert all(" at fw" in line for line in journeys)
    assert any(
        line.startswith("An iOS device enrols from the Internet: blocked, XM-") for line in journeys
    )
