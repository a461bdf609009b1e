"""Fixtures of the fleet tests: site files written by the tests, and the SSH lab's needs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CATALOG = DATA / "catalog.yaml"


def write_site(
    folder: Path,
    app: str,
    db: str,
    network: str,
    *,
    web: str | None = None,
    name: str = "fleet lab",
) -> Path:
    """A site with hosts app1 and db1 (and web1), admin workstations, and three flows:

    app1 -> db1 tcp 5432 and 5433, db1 -> app1 tcp 8443, admins -> app1 tcp 8443
    (and web1 -> app1 tcp 8443).
    """
    hosts = [
        f"  - {{name: app1, role: app-server, addresses: [{app}]}}",
        f"  - {{name: db1, role: db-server, addresses: [{db}]}}",
        "  - {name: admins, role: workstations, addresses: [198.51.100.0/24]}",
    ]
    flows = [
        "  - {name: app-to-db, source: app1, destination: db1, ports: [5432, 5433]}",
        "  - {name: db-to-app, source: db1, destination: app1, ports: [8443]}",
        "  - {name: admin-to-app, source: admins, destination: app1, ports: [8443]}",
    ]
    if web is not None:
        hosts.append(f"  - {{name: web1, role: app-server, addresses: [{web}]}}")
        flows.append("  - {name: web-to-app, source: web1, destination: app1, ports: [8443]}")
    text = (
        "\n".join(
            [
                "version: 1",
                f"name: {name}",
                f"catalog: {CATALOG}",
                "zones:",
                "  - {name: lab, cidrs: [" + network + "]}",
                "  - {name: admin, cidrs: [198.51.100.0/24]}",
                "firewalls:",
                "  - {name: fw, zones: [admin, lab]}",
                "hosts:",
                *hosts,
                "flows:",
                *flows,
            ]
        )
        + "\n"
    )
    path = folder / "site.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def ssh_lab_support() -> None:
    """The SSH lab also needs sshd, ssh and nft: skip without them, fail when required."""
    from fleet.sshlab import lab_support

    reason = lab_support()
    if reason is None:
        return
    if os.environ.get("FLOWMATRIX_REQUIRE_KERNEL_TESTS") == "1":
        pytest.fail(f"kernel tests are required (FLOWMATRIX_REQUIRE_KERNEL_TESTS=1): {reason}")
    pytest.skip(f"fleet lab: {reason}")
