"""The audit's shortcuts give what the plain way gives: the JSON document with its fates
shared is the document with every fate written out on its own, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.api import load_plan
from flowmatrix.audit import engine, formats, ranges
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.ir import Action, BaseChain, Chain, Match, Origin, Rule, Ruleset
from flowmatrix.audit.naive import NaiveWalker
from flowmatrix.audit.packet import SYN, Ctx, Region
from flowmatrix.audit.parse_iptables import parse_iptables
from flowmatrix.audit.pipeline import evaluate_path
from flowmatrix.audit.result import AuditReport
from flowmatrix.audit.scope import EndScopes, end_scope
from flowmatrix.audit.vendor import fortios, shared
from flowmatrix.render import to_json_bytes

from .test_audit_engine import MATCHES, queries

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
            part_written["fates"] = [formats._fate(fate, {}) for fate in part.fates]
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


HOST_RULES = st.builds(
    lambda src, dst, port: Match(
        family=4, src=((src, src),), dst=((dst, dst),), protos=frozenset({6}), dport=((port, port),)
    ),
    st.integers(0, 63),
    st.integers(0, 63),
    st.integers(0, 31),
)
"""A rule for one host and port: most regions miss most of them."""


@st.composite
def long_chains(draw: Any) -> Ruleset:
    """A base chain of many rules (most of them for other hosts, some jumping to a
    second chain): a region that spans several classes misses most candidates, so the
    compiled engine narrows them (``engine._meeting``)."""
    tail = [
        Rule(
            1000 + i,
            draw(MATCHES),
            Action(draw(st.sampled_from(["accept", "drop", "return"]))),  # type: ignore[arg-type]
            Origin("r", 1000 + i, "tail", "filter", "T", i + 1),
        )
        for i in range(draw(st.integers(0, 12)))
    ]
    rules = []
    for position in range(draw(st.integers(10, 60))):
        kind = draw(st.sampled_from(["accept", "drop", "drop", "continue", "jump"]))
        origin = Origin("r", position + 1, "rule", "filter", "F", position + 1)
        match = draw(MATCHES) if draw(st.integers(0, 4)) == 0 else draw(HOST_RULES)
        rules.append(
            Rule(position, match, Action(kind, "filter/T" if kind == "jump" else None), origin)
        )  # type: ignore[arg-type]
    chains = {
        "filter/F": Chain("filter/F", "filter", "F", tuple(rules)),
        "filter/T": Chain("filter/T", "filter", "T", tuple(tail)),
    }
    policy = draw(st.sampled_from(["accept", "drop"]))
    bases = (BaseChain("filter/F", "forward", 0, "filter", policy, frozenset({4}), 0),)
    return Ruleset("iptables", "r", chains, bases, frozenset({4}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_chains(), queries())
def test_narrowed_candidates_walk_as_the_plain_interpreter(
    ruleset: Ruleset, query: tuple[Ctx, Region]
) -> None:
    ctx, region = query
    plain = evaluate_path(NaiveWalker(ruleset), "forward", ctx, region)
    assert evaluate_path(CompiledWalker(ruleset), "forward", ctx, region) == plain


def test_candidates_are_narrowed_on_a_rule_base_of_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Host rules all missing a region of two distant hosts: the narrowing happens, and
    the walk is still the plain interpreter's."""
    lines = ["*filter", ":FORWARD DROP [0:0]"]
    lines += [f"-A FORWARD -s 10.0.0.{i} -d 10.9.0.{i} -j ACCEPT" for i in range(1, 60)]
    lines += ["-A FORWARD -s 10.0.0.200 -j ACCEPT", "COMMIT"]
    ruleset = parse_iptables("\n".join(lines) + "\n", "hosts.rules")
    calls: list[int] = []
    meeting = engine._meeting

    def counted(comp: Any, region: Region) -> int:
        calls.append(1)
        return meeting(comp, region)

    monkeypatch.setattr(engine, "_meeting", counted)
    first, last = ranges.parse_prefix("10.0.0.100")[1], ranges.parse_prefix("10.0.0.200")[1]
    region = Region(
        (first, last), ranges.parse_prefix("10.9.0.0/16")[1:], ((1024, 65535),), ((443, 443),)
    )
    ctx = Ctx(4, 6, "new", SYN, None, None, False)
    plain = evaluate_path(NaiveWalker(ruleset), "forward", ctx, region)
    assert evaluate_path(CompiledWalker(ruleset), "forward", ctx, region) == plain
    assert calls


FORTIOS_LINES = [
    'set srcaddr "lan-1" "lan-2"',
    'edit "port1"',
    'set comments ""',
    'set comments "two words"',
    'set name "a"b',
    'set name a"b c"',
    'set name "a\\"b"',
    "set name 'single quoted'",
    'set x "" ""',
    'set x """',
    'set x "',
    'set x a\\b "c"',
    '"lonely"',
]


def test_fortios_words_are_the_shell_grammar_s() -> None:
    config = (DATA / "vendor" / "edge.fortigate.conf").read_text("utf-8")
    lines = [line.strip() for line in config.splitlines() if line.strip()]
    for line in lines + FORTIOS_LINES:
        assert fortios._tokens(line) == fortios._shell_words(line), line
