"""The audit's shortcuts give what the plain way gives: the JSON document with its fates
shared is the document with every fate written out on its own, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.api import load_plan
from flowmatrix.audit import formats
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport
from flowmatrix.audit.scope import EndScopes, end_scope
from flowmatrix.audit.vendor import shared
from flowmatrix.render import to_json_bytes

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def reports() -> list[AuditReport]:
    lab = DATA / "lab_site.yaml"
    vendor = DATA / "vendor"
    return [
        audit(None, ruleset=DATA / "back.rules", firewall="fw-back", plan=load_plan(None)),
        audit(lab, ruleset=DATA / "lab.iptables", firewall="fw"),
        audit(lab, ruleset=DATA / "lab.nft", firewall="fw", nft_reader="text"),
        *(
            audit(vendor / "site.yaml", ruleset=vendor / name, firewall="edge")
            for name in ("edge.fortigate.conf", "edge.ciscoasa.cfg", "edge.srx.conf")
        ),
    ]


def _unshared(report: AuditReport) -> dict[str, Any]:
    """The document with a fresh dictionary for every fate of every part."""
    document = formats.to_document(report)
    for flow, written in zip(report.flows, document["flows"], strict=True):
        for part, part_written in zip(flow.parts, written["parts"], strict=True):
            part_written["fates"] = [formats._fate(fate) for fate in part.fates]
    return document


def test_shared_fates_write_the_same_document(reports: list[AuditReport]) -> None:
    for report in reports:
        assert any(flow.parts for flow in report.flows)
        shared = to_json_bytes(formats.to_document(report))
        assert shared == to_json_bytes(_unshared(report))
        expected = json.dumps(_unshared(report), ensure_ascii=False, indent=2) + "\n"
        assert shared == expected.encode()


@pytest.mark.parametrize(
    "site", [None, "example:enterprise-dual-stack", str(DATA / "vendor" / "site.yaml")]
)
def test_end_scopes_are_end_scope(site: str | None) -> None:
    plan = load_plan(site)
    scope_of = EndScopes(plan.site)
    ends = [end for flow in plan.flows for end in (flow.source, flow.destination)]
    for end in ends + ends:  # the second time from what was made the first
        assert scope_of(end) == end_scope(plan.site, end)


ADDRESS_TEXTS = [
    "10.0.0.0/8",
    "10.0.0.1",
    " 10.0.0.1 ",
    "2001:db8::/32",
    "10.1.2.3/24",
    "fe80::1",
    "not an address",
    "",
    "10.0.0.256",
]


def test_address_readings_kept_are_those_made_again() -> None:
    masks = ["255.0.0.0", "255.255.255.255", "0.0.0.0", "255.0.255.0", "64", "junk"]
    for _round in range(2):  # the second time from what the first kept
        for text in ADDRESS_TEXTS:
            assert shared.network(text) == shared.network.__wrapped__(text)
            for mask in masks:
                made = shared.address_mask.__wrapped__(text.strip(), mask)
                assert shared.address_mask(text.strip(), mask) == made
            for last in ADDRESS_TEXTS:
                made = shared.address_range.__wrapped__(text, last)
                assert shared.address_range(text, last) == made
