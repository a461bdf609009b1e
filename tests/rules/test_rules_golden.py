"""Golden files: the exact output of every target for a few sites and scopes.

Regenerate after an intended change with::

    FLOWMATRIX_UPDATE_GOLDEN=1 python -m pytest tests/rules/test_rules_golden.py

and review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.target_views import FIREWALL_TARGETS, NATIVE_TARGETS

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("FLOWMATRIX_UPDATE_GOLDEN") == "1"
HOSTILE = str(Path(__file__).parent / "data" / "hostile.yaml")
SUFFIX = {
    "nftables": "nft",
    "iptables": "rules",
    "ip6tables": "rules6",
    "ciscoasa": "asa",
    "srx": "srx",
    "paloalto": "xml",
    "fortigate": "fgacl",
    "cisco": "acl",
    "arista": "eacl",
    "gce": "json",
    "k8s": "yaml",
    "windows_advfirewall": "bat",
    "squid": "squid.conf",
}
NETWORK_TARGETS = [t for t in FIREWALL_TARGETS if t != "windows_advfirewall"]
CASES = (
    [("default", Scope("firewall", "fw-back"), t) for t in NETWORK_TARGETS]
    + [("default", Scope("host", "xms1"), t) for t in (*NATIVE_TARGETS, "windows_advfirewall")]
    + [("enterprise-dual-stack", Scope("firewall", "edge"), t) for t in NETWORK_TARGETS]
    + [("enterprise-dual-stack", Scope("host", "adc1"), t) for t in FIREWALL_TARGETS]
    + [("enterprise-dual-stack", Scope("proxy", "proxy1"), "squid")]
    + [("hostile", Scope("firewall", "fw"), t) for t in ("nftables", "iptables", "srx")]
)


def _plan_ref(site: str) -> str | None:
    return None if site == "default" else HOSTILE if site == "hostile" else f"example:{site}"


@pytest.mark.parametrize(
    ("site", "scope", "target"),
    CASES,
    ids=[f"{s}-{sc.name}-{t}" for s, sc, t in CASES],
)
def test_golden(site: str, scope: Scope, target: str) -> None:
    out = generate(load_plan(_plan_ref(site)), scope, target)
    path = GOLDEN / f"{site}__{scope.kind}-{scope.name}__{target}.{SUFFIX[target]}"
    if UPDATE:
        path.write_text(out.text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}: run with FLOWMATRIX_UPDATE_GOLDEN=1"
    assert out.text == path.read_text(encoding="utf-8"), f"{path.name} differs"


def test_no_stale_golden_files() -> None:
    expected = {f"{s}__{sc.kind}-{sc.name}__{t}.{SUFFIX[t]}" for s, sc, t in CASES}
    assert {p.name for p in GOLDEN.iterdir()} <= expected
