"""Every real ruleset of the shared data: read without error, or what is not read is
named with its line; then audited against a site, with no crash and sound output."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.audit.judging import audit_plan
from flowmatrix.audit.loader import kernel_reader_available, load_ruleset
from flowmatrix.errors import UserError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "rulesets"
DUMPS = (
    sorted(
        p
        for p in (SHARED / "net-network").glob("*")
        if p.suffix not in (".txt", ".md") and not p.name.startswith(("LICENSE", "UPSTREAM"))
    )
    if SHARED.exists()
    else []
)
REFS = sorted((SHARED / "aerleon").glob("*.ref")) if SHARED.exists() else []


def _need_data() -> None:
    if not SHARED.exists():
        pytest.skip(f"real rulesets not found at {SHARED}")


@pytest.mark.parametrize("path", DUMPS + REFS, ids=lambda p: p.name[:60])
def test_real_ruleset_reads_or_says_what_it_cannot(path: Path) -> None:
    _need_data()
    if path.name.endswith(".asa.ref"):
        # aerleon's ASA output is read by the Cisco ASA reader: every ACL entry with its line
        ruleset = load_ruleset(path)
        assert ruleset.dialect == "ciscoasa" and not ruleset.problems
        entries = [r for r in ruleset.rules if " line " in (r.origin.name or "")]
        assert len({r.origin.line for r in entries}) > 50
        assert all(r.origin.line is not None and r.origin.text for r in entries)
        return
    ruleset = load_ruleset(path, nft_reader="text")
    assert ruleset.rules
    for problem in ruleset.problems:
        assert problem.file == str(path) and problem.message
    for rule in ruleset.rules:
        assert rule.origin.line is not None and rule.origin.text
    # every base chain and every jump target is known
    for base in ruleset.bases:
        assert base.chain in ruleset.chains
    for rule in ruleset.rules:
        if rule.action.kind in ("jump", "goto"):
            assert rule.action.target in ruleset.chains


def test_the_big_dump_reads_completely() -> None:
    _need_data()
    path = (
        SHARED
        / "net-network"
        / ("configs_chair_for_Network_Architectures_and_Services_iptables-save-2016-06-27_16-29-01")
    )
    ruleset = load_ruleset(path)
    assert len(ruleset.chains) > 90 and len(ruleset.rules) > 5500 and not ruleset.problems
    kinds = {
        text.split()[1]
        for rule in ruleset.rules
        for text in rule.match.opaque
        if text.startswith("-m ")
    }
    assert kinds == {"recent", "mac", "limit"}


def test_nft_golden_file_that_nft_refuses_is_read_as_text() -> None:
    _need_data()
    path = SHARED / "aerleon" / "TestRegressionDemo.testSmokeTest.sample_nftables.nft.ref"
    ruleset = load_ruleset(path, nft_reader="auto")
    assert ruleset.dialect == "nftables"
    assert len(ruleset.chains["ip filtering_policies/allow-anything"].rules) == 2
    if kernel_reader_available():
        assert any("nft refused the file" in note for note in ruleset.notes)
        with pytest.raises(UserError, match="nft could not load"):
            load_ruleset(path, nft_reader="kernel")


@pytest.mark.parametrize(
    "path", [p for p in DUMPS if "ip6tables" not in p.name], ids=lambda p: p.name[:60]
)
def test_real_dumps_audit_without_crash(path: Path) -> None:
    """The default site's firewall, audited against each real dump: a verdict per flow."""
    _need_data()
    plan = load_plan(None)
    ruleset = load_ruleset(path, nft_reader="text")
    report = audit_plan(plan, ruleset, firewall="fw-back")
    assert report.flows
    for flow in report.flows:
        assert flow.status in ("allowed", "blocked", "partial", "depends")
        for part in flow.parts:
            assert part.fates
            if part.status == "depends":
                assert any(f.conditions for f in part.fates) or any(
                    f.decision.startswith(("QUEUE", "unknown")) for f in part.fates
                )
