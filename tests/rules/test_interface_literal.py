"""Interface names are literal on every target: a wildcard is refused at site load.

``interfaces: {lan: lan+}`` was accepted: nftables matches the literal name ``lan+``
while iptables reads ``-i lan+`` as every ``lan*`` interface, a silent widening.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SITE = Path(__file__).parents[2] / "src" / "flowmatrix" / "examples" / "small-office.yaml"
LOCATION = re.compile(r"^flowmatrix: error: .*site\.yaml:(\d+):(\d+): ")


@pytest.mark.parametrize("name", ["lan+", "lan*", "eth?", "eth[0-3]", "br+0"])
@pytest.mark.parametrize("command", [("plan",), ("rules", "-t", "iptables"), ("rules",)])
def test_a_wildcard_interface_name_is_refused_with_its_place(
    name: str, command: tuple[str, ...], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    text = SITE.read_text()
    assert "lan: lan0}" in text
    site = tmp_path / "site.yaml"
    site.write_text(text.replace("lan: lan0}", f"lan: {name!r}}}"))
    done = run_cli(*command, str(site))
    assert done.code == 2, done.stdout
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    where = LOCATION.match(line)
    assert where is not None, line
    row = int(where.group(1))
    assert name in site.read_text().splitlines()[row - 1]
    assert "wildcard" in line and "literal" in line


def test_literal_names_stay_literal_on_iptables_and_nftables(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text().replace("lan: lan0}", "lan: bond0.20}"))
    iptables = run_cli("rules", str(site), "-t", "iptables")
    assert iptables.code == 0, iptables.stderr
    assert "-i bond0.20 " in iptables.stdout or "-o bond0.20 " in iptables.stdout
    nft = run_cli("rules", str(site), "-t", "nftables")
    assert nft.code == 0, nft.stderr
    assert '"bond0.20"' in nft.stdout
