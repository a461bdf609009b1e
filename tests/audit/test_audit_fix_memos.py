"""What the fixes keep from one flow to the next is what they would work out again:
the place of a fix (per way of deciding) and the addresses a fix opens (per address set),
for every blocked flow of the vendor configurations and of a Linux ruleset."""

from __future__ import annotations

from typing import Any

import pytest

from audit.vendor_lab import DATA, audit_file
from flowmatrix.api import load_plan
from flowmatrix.audit import aftermath, fixes, ranges
from flowmatrix.audit.fixes import MAX_LISTED, Blocked, _blocking_leg, _placed, _placement
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.pipeline import Decision
from flowmatrix.audit.vendor.fixwriters import opening

LINUX = DATA.parent / "back.rules"


def _calls(monkeypatch: pytest.MonkeyPatch, path: Any) -> list[tuple[Ruleset, list[Blocked]]]:
    """(ruleset, blocked pieces) of every call of ``propose`` in the audit of ``path``."""
    seen: list[tuple[Ruleset, list[Blocked]]] = []
    propose = fixes.propose

    def spy(ruleset: Ruleset, path: Any, blocked: list[Blocked], walker: Any = None) -> Any:
        seen.append((ruleset, blocked))
        return propose(ruleset, path, blocked, walker)

    monkeypatch.setattr(aftermath, "propose", spy)
    monkeypatch.setattr(aftermath, "can_fork", lambda: False)  # every call seen here
    if path == LINUX:
        audit(None, ruleset=path, firewall="fw-back", plan=load_plan(None))
    else:
        audit_file(path)
    return seen


def _opened(items: list[Blocked]) -> tuple[Any, ...]:
    """What ``opening`` gives, worked out directly for each call."""
    family = items[0].ctx.family
    out: list[Any] = []
    for side in ("src", "dst"):
        ivs = ranges.normalize(iv for item in items for iv in getattr(item.region, side))
        cidrs = ranges.to_cidrs(ivs, family)
        if ivs == ranges.ALL_ADDRESSES[family] or len(cidrs) > MAX_LISTED:
            out += [None, []]
        else:
            out += [ivs, cidrs]
    return tuple(out)


PATHS = [*sorted(DATA.glob("edge.*")), LINUX]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_placements_and_openings_kept_are_those_worked_out(
    monkeypatch: pytest.MonkeyPatch, path: Any
) -> None:
    calls = _calls(monkeypatch, path)
    assert calls, "the configuration has blocked flows"
    for ruleset, blocked in calls:
        writer = ruleset.device.fix_writer if ruleset.device is not None else None
        place = writer.placement if writer is not None else _placement
        for item in blocked:
            decision = _blocking_leg(item.alternative)[1].decider
            assert decision is not None
            assert _placed(ruleset, decision, place) == place(ruleset, decision)
            # what a placement may depend on: not the assumptions, not conntrack
            other = Decision(decision.base, decision.end, decision.outcome._replace(assumptions=()))
            assert _placed(ruleset, other, place) == place(ruleset, other)
            o = opening([item])
            assert (o.src, o.sources, o.dst, o.destinations) == _opened([item])
        o = opening(blocked)
        assert (o.src, o.sources, o.dst, o.destinations) == _opened(blocked)
