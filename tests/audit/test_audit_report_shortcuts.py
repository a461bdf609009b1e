"""The report's shortcuts give what the plain way gives: a describer that keeps what it
described (fates by alternative, a fate that assumes nothing shared by every context) makes
the parts a fresh describer makes; the journeys of an audit are judged from the outcomes of
their own flows as from all of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.api import load_plan
from flowmatrix.audit.describe import Describer, _path_key
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.judging import EPHEMERAL
from flowmatrix.audit.packet import Ctx
from flowmatrix.audit.result import AuditReport, Fate, Part
from flowmatrix.audit.verdict import Cell, evaluate_flow
from flowmatrix.journeys import audit_outcomes, audit_summaries, summaries

from .test_audit_engine import queries, rulesets

DATA = Path(__file__).parent / "data"


def _plain_part(describer: Describer, cell: Cell, ctx: Ctx) -> Part:
    """``Describer.part`` the plain way: each alternative's fate made anew, the fates
    told apart by their rule paths and the whole context, then sorted."""
    context = (ctx.iif is None, ctx.oif is None, ctx.src_names, ctx.dst_names)
    fates: dict[tuple[object, ...], Fate] = {}
    for alternative in cell.alternatives:
        key = (_path_key(alternative.request), _path_key(alternative.reply), context)
        if key not in fates:
            fates[key] = describer.fate(alternative, ctx)
    ordered = sorted(fates.values(), key=lambda f: sum(c.holds for c in f.conditions))
    return describer._part(ctx.family, cell.region, (cell.iif, cell.oif), cell.status, ordered)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(queries(), min_size=1, max_size=4), st.data())
def test_a_describer_that_keeps_its_fates_describes_as_a_fresh_one(
    ruleset: object, asked: list[tuple[Ctx, object]], data: st.DataObject
) -> None:
    """Cells of several queries, each described in its own context and in others (the
    interfaces known or not): the same alternatives meet other contexts, as the flow
    ports of an audit that ask the same question do; a cell that lists an alternative
    twice has its fate once."""
    kept = Describer(ruleset, EPHEMERAL)  # type: ignore[arg-type]
    walker = CompiledWalker(ruleset)  # type: ignore[arg-type]
    contexts = [ctx for ctx, _region in asked]
    for ctx, region in asked:
        for found in evaluate_flow(walker, "forward", ctx, region):  # type: ignore[arg-type]
            twice = found._replace(alternatives=found.alternatives * 2)
            for cell, seen_in in ((found, ctx), (twice, data.draw(st.sampled_from(contexts)))):
                fresh = Describer(ruleset, EPHEMERAL)  # type: ignore[arg-type]
                plain = _plain_part(fresh, cell, seen_in)
                assert kept.part(cell, seen_in.family, seen_in) == plain


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit(None, ruleset=DATA / "back.rules", firewall="fw-back", plan=load_plan(None))


def test_the_journeys_of_an_audit_are_judged_from_their_own_flows(report: AuditReport) -> None:
    plan = load_plan(None)
    lines = audit_summaries(report, plan)
    assert lines  # the example's journeys cross fw-back
    assert lines == summaries(plan, audit_outcomes(report, plan))
    needed = {"no flow of the plan"}
    assert audit_outcomes(report, plan, needed) == []
    ids = {flow.flow_id for flow in report.flows[:3]}
    assert audit_outcomes(report, plan, ids) == [
        outcome for outcome in audit_outcomes(report, plan) if outcome.flow in ids
    ]
