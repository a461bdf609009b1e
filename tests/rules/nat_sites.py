"""Sites with address translations for the rules and lab tests: the hospital example
(its edge publishes the NetScaler and translates two zones), and the dual-stack example
with translations in both families, written to a file."""

from __future__ import annotations

from pathlib import Path

from flowmatrix.api import example_text
from flowmatrix.siteupgrade import upgrade_text

HOSPITAL = "example:hospital"
#: The dual-stack example's edge, publishing the gateway's VIPs (IPv4 and IPv6) and the
#: NSIP (every port), translating the core zone (masquerade) and one of its hosts.
DUAL_STACK_EDGE = """\
  - name: edge
    zones: [internet, dmz]
    interfaces: {internet: wan0, dmz: dmz0}
    nat:
      destination:
        - public: 198.51.100.10
          to: 172.20.1.10
          ports: [443, 8443]
        - public: "2001:db8:20::10"
          to: "fd00:20:1::10"
          ports: [443, 8443]
        - public: 198.51.100.5
          to: 172.20.1.5
      source:
        - from: core
          as: masquerade
        - from: xms1
          as: 198.51.100.11
"""


def dual_stack_nat_site(folder: Path, *, interfaces: bool = True) -> Path:
    """The dual-stack example in site format 2, its edge as ``DUAL_STACK_EDGE`` (without
    its ``interfaces`` line when ``interfaces`` is false)."""
    text = upgrade_text(example_text("enterprise-dual-stack"), "enterprise-dual-stack").text
    edge = DUAL_STACK_EDGE
    if not interfaces:
        edge = edge.replace("    interfaces: {internet: wan0, dmz: dmz0}\n", "")
    original = "  - name: edge\n    zones: [internet, dmz]\n"
    assert original in text
    path = folder / ("dual-stack-nat.yaml" if interfaces else "dual-stack-nat-no-if.yaml")
    path.write_text(text.replace(original, edge), encoding="utf-8")
    return path
