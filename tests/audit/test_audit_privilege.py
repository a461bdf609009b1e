"""Least privilege judged by the same evaluation as the verdicts: what flowmatrix itself
writes for the default site's fw-back (RETURN-chain exclusions, negated sets) is not
wider than planned; the same rules with a zone left out of the exclusion are, by that
zone exactly."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport
from flowmatrix.rules import Scope, generate

PLAN = load_plan(None)
DMZ = ipaddress.ip_network("172.16.10.0/24")


def _reaches_dmz(reason: str) -> bool:
    """Whether the addresses a 'source A, B-C (needed: ...)' reason shows meet the DMZ
    (172.16.10.0/24, a zone of the site: never a planned Internet source)."""
    shown = reason.removeprefix("source ").split(" (needed: ")[0]  # "A, B-C"
    for item in shown.split(", "):
        if "-" in item:
            low, high = (ipaddress.ip_address(x) for x in item.split("-"))
        else:
            net = ipaddress.ip_network(item)
            low, high = net[0], net[-1]
        if low <= DMZ[-1] and high >= DMZ[0]:  # type: ignore[operator]
            return True
    return False


def _audit(tmp_path: Path, target: str, edit: tuple[str, str] | None = None) -> AuditReport:
    out = generate(PLAN, Scope("firewall", "fw-back"), target)
    assert not out.errors, out.errors
    text = out.text
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    path = tmp_path / f"fw-back.{target}"
    path.write_text(text, "utf-8")
    return audit(None, ruleset=path, firewall="fw-back", plan=PLAN, nft_reader="text")


def test_the_generated_rules_are_exactly_as_wide_as_planned(tmp_path: Path) -> None:
    for target in ("iptables", "nftables"):
        report = _audit(tmp_path, target)
        assert [(w.rule.where, w.reasons) for w in report.wide_rules] == [], target
        assert report.unused_rules == () and report.dead_rules == (), target


def test_a_return_exclusion_that_misses_a_zone_is_wider_by_that_zone(tmp_path: Path) -> None:
    # the accept at the end of the exclusion chain reaches what the RETURNs before it
    # leave: without the DMZ's RETURN, the DMZ too
    report = _audit(
        tmp_path, "iptables", ("-A FLOWMATRIX-FW-BACK-INET-SRC -s 172.16.10.0/24 -j RETURN\n", "")
    )
    (wide,) = report.wide_rules
    assert wide.rule.text == "-A FLOWMATRIX-FW-BACK-INET-SRC -j ACCEPT"
    (reason,) = wide.reasons
    assert reason.startswith("source ") and _reaches_dmz(reason)


def test_a_negated_set_that_misses_a_zone_is_wider_by_that_zone(tmp_path: Path) -> None:
    report = _audit(
        tmp_path,
        "nftables",
        (
            "elements = { 10.10.20.0/24, 10.10.50.0/24, 10.10.96.0/22, 172.16.10.0/24 }",
            "elements = { 10.10.20.0/24, 10.10.50.0/24, 10.10.96.0/22 }",
        ),
    )
    assert report.wide_rules
    for wide in report.wide_rules:
        side = "source" if "ip saddr != @zone_not_internet_v4" in wide.rule.text else "destination"
        assert f"{'s' if side == 'source' else 'd'}addr != @zone_not_internet_v4" in wide.rule.text
        (reason,) = wide.reasons
        assert reason.startswith(f"{side} ") and _reaches_dmz(reason.removeprefix(f"{side} "))
