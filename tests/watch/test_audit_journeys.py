"""audit ends with one line per user journey its firewall takes part in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BACK = str(Path(__file__).parents[1] / "audit" / "data" / "back.rules")


def test_audit_names_the_flows_that_block_each_journey_at_the_audited_firewall(
    run_cli: Any,
) -> None:
    result = run_cli("audit", "-F", "fw-back", "-r", BACK, "-f", "json")
    assert result.code == 1, result
    lines = result.stderr.strip().splitlines()
    assert (
        "Users log on (LDAP / RADIUS from the NetScaler): blocked, XM-APP-06.1 tcp/389 at fw-back"
        in lines
    )
    ios = next(
        line for line in lines if line.startswith("An iOS device enrols from the Internet: ")
    )
    assert "XM-DEV-11.1 tcp/8443 at fw-back" in ios
    # what fw-back allows proves a journey only when fw-back is the whole path
    assert not any(line.endswith(": up") for line in lines if "Internet" in line)
