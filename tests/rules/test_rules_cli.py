"""``flowmatrix rules`` on the command line: outputs, exit codes, errors without tracebacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowmatrix.api import example_text

HOSTILE = Path(__file__).parent / "data" / "hostile.yaml"
EDGE = Path(__file__).parents[1] / "lab" / "data" / "edge-cases.yaml"


def test_nftables_for_a_firewall(run_cli: Any) -> None:
    result = run_cli("rules", "--firewall", "fw-back", "--target", "nftables")
    assert result.code == 0, result
    assert result.stdout.startswith("#!/usr/sbin/nft -f\n")
    assert (
        "firewall fw-back: 23 flows: 21 rendered (2 as explicit any), 0 missing, "
        "2 left out as obsolete; 18 rules (nftables), 0 errors, 0 warnings"
    ) in result.stderr
    assert (
        "info: XM-ADD-02.1: explicit any: destination fcm opened to any Internet" in result.stderr
    )


def test_strict_makes_warnings_count(run_cli: Any, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    text = example_text("small-office")
    site.write_text(
        text.replace(
            "hosts:\n",
            "hosts:\n  - name: spare\n    role: web-proxy\n    addresses: [192.168.10.99]\n",
        )
    )
    # a host no flow concerns: a warning, exit 0; with --strict, exit 1
    assert run_cli("rules", str(site), "--host", "spare").code == 0
    assert run_cli("rules", str(site), "--host", "spare", "--strict").code == 1


def test_output_file_is_written(run_cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "fw.asa"
    result = run_cli("rules", "-F", "fw-front", "-t", "ciscoasa", "-o", str(target))
    assert result.code == 0, result
    assert result.stdout == ""
    written = target.read_text()
    # the Internet is every address outside the site's zones: the other zones are denied
    # right before 'any' is permitted
    lines = written.splitlines()
    deny = (
        "access-list fw-front extended deny tcp 10.10.50.0 255.255.255.0 host 172.16.10.10 eq https"
    )
    permit = "access-list fw-front extended permit tcp any host 172.16.10.10 eq https"
    assert lines.index(deny) < lines.index(permit)
    assert "0.0.0.0 248.0.0.0" not in written


def test_host_scope(run_cli: Any) -> None:
    result = run_cli(
        "rules", "example:enterprise-dual-stack", "--host", "adc1", "-t", "windows_advfirewall"
    )
    assert result.code == 0, result
    assert "dir=in" in result.stdout and "dir=out" in result.stdout


def test_the_only_firewall_is_the_default(run_cli: Any) -> None:
    result = run_cli("rules", "example:small-office", "-t", "iptables")
    assert result.code == 0, result
    assert ":FLOWMATRIX-FW - [0:0]" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rules", "-F", "fw-middle"], "unknown firewall 'fw-middle'"),
        (["rules", "--host", "ghost"], "unknown host 'ghost'"),
        (["rules"], "which firewall?"),
        (["rules", "-F", "fw-back", "-H", "xms1"], "not both"),
        (["rules", "-F", "fw-back", "-t", "junos"], "junos"),
        (["rules", "-F", "fw-back", "-t", "windows_advfirewall"], "host firewall"),
        (["rules", "-F", "fw-back", "-t", "srx", "--check"], "no validator"),
        (["rules", "does-not-exist.yaml"], "does-not-exist.yaml"),
        (["rules", str(EDGE), "-F", "pa-edge"], "'ethernet1/1' is not a Linux interface name"),
    ],
)
def test_bad_input_is_exit_2(run_cli: Any, args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.code == 2, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.kernel
def test_check_validates_in_a_namespace(run_cli: Any) -> None:
    result = run_cli("rules", str(HOSTILE), "-t", "ip6tables", "--check")
    assert result.code == 0, result
    assert "check: ip6tables accepts the rules" in result.stderr
