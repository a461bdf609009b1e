"""What the audit works out once the verdicts are known (the ruleset's own findings, the
fixes of the blocked flows) is shared with a forked copy of the process (aftermath.py,
forked.py): the report is the same as when everything runs here."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from flowmatrix import forked
from flowmatrix.api import load_plan
from flowmatrix.audit import aftermath
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
def test_a_copy_finds_and_fixes_what_this_process_would(
    site: Path | None, config: Path, firewall: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not config.exists():
        pytest.skip(f"{config} not found")
    monkeypatch.setattr(aftermath, "Beside", _Seen)
    _Seen.made.clear()
    monkeypatch.setattr(aftermath, "can_fork", lambda: False)
    here = _document(site, config, firewall)
    assert _Seen.made and not any(b.forked for b in _Seen.made)
    _Seen.made.clear()
    monkeypatch.setattr(aftermath, "can_fork", lambda: True)
    beside = _document(site, config, firewall)
    assert _Seen.made and all(b.forked for b in _Seen.made)  # they came from the copy
    assert beside == here
    assert here["wide_rules"] or here["unused_rules"] or here["dead_rules"]  # something to find
    assert any(flow["fixes"] for flow in here["flows"])  # and to fix


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here (not Linux, or one CPU)")
def test_fixes_a_copy_took_but_never_sent_are_made_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site, config, firewall = None, CHAIR, "fw-back"  # 25 blocked flow ports: 2 shares
    if not config.exists():
        pytest.skip(f"{config} not found")
    monkeypatch.setattr(aftermath, "can_fork", lambda: False)
    here = _document(site, config, firewall)
    parent = os.getpid()
    real = aftermath.propose
    made: list[int] = []

    died = tmp_path / "died"

    def dies_in_the_copy(*args: Any) -> Any:
        if os.getpid() != parent:
            made.append(1)
            if len(made) > 1:  # its second fix: gone, with the share it took
                died.write_text("after one share")
                os._exit(3)
        elif not made:  # here, the first fix waits: the copy takes the other share
            made.append(1)
            time.sleep(1)
        return real(*args)

    monkeypatch.setattr(aftermath, "propose", dies_in_the_copy)
    monkeypatch.setattr(aftermath, "can_fork", lambda: True)
    assert sum(bool(flow["fixes"]) for flow in here["flows"]) > 2
    assert _document(site, config, firewall) == here
    assert died.exists()  # the copy did take shares, and died with them
