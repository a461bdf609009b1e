"""The ruleset's own findings (wider rules, unused and dead rules, unevaluated conditions)
are worked out in a forked copy of the process while the flows are described and fixed
(judging.py, forked.py): the report is the same as when everything runs here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from flowmatrix import forked
from flowmatrix.api import load_plan
from flowmatrix.audit import judging
from flowmatrix.audit.formats import to_document
from flowmatrix.audit.judging import audit_plan
from flowmatrix.audit.loader import load_ruleset
from flowmatrix.forked import Beside

DATA = Path(__file__).parent / "data"
VENDOR = DATA / "vendor"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "rulesets"
CHAIR = (
    SHARED
    / "net-network"
    / ("configs_chair_for_Network_Architectures_and_Services_iptables-save-2016-06-27_16-29-01")
)

CASES = [
    (VENDOR / "site.yaml", VENDOR / name, "edge")
    for name in ("edge.fortigate.conf", "edge.ciscoasa.cfg", "edge.paloalto.set", "edge.srx.conf")
] + [(DATA / "lab_site.yaml", DATA / "lab.nft", "fw"), (None, CHAIR, "fw-back")]


class _Seen(Beside[Any]):
    made: ClassVar[list[_Seen]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Seen.made.append(self)


def _document(site: Path | None, config: Path, firewall: str) -> dict[str, Any]:
    ruleset = load_ruleset(config, nft_reader="text", prefer=firewall)
    report = audit_plan(load_plan(site), ruleset, firewall=firewall)
    return to_document(report)


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here (not Linux, or one CPU)")
@pytest.mark.parametrize(("site", "config", "firewall"), CASES, ids=lambda v: getattr(v, "name", v))
def test_findings_from_a_copy_equal_those_made_here(
    site: Path | None, config: Path, firewall: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not config.exists():
        pytest.skip(f"{config} not found")
    monkeypatch.setattr(judging, "Beside", _Seen)
    _Seen.made.clear()
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    here = _document(site, config, firewall)
    assert _Seen.made and not any(b.forked for b in _Seen.made)
    _Seen.made.clear()
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    beside = _document(site, config, firewall)
    assert _Seen.made and all(b.forked for b in _Seen.made)  # they came from the copy
    assert beside == here
    assert here["wide_rules"] or here["unused_rules"] or here["dead_rules"]  # something to find
