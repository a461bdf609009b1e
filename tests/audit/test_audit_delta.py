"""The walk of a ruleset with inserted rules (a fix checked against the audited ruleset)
reuses the compiled engine of the original: it must give exactly what a fresh compiled
engine of the new ruleset gives, for random rulesets, insertions and regions."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.test_audit_engine import MATCHES, queries, rulesets
from flowmatrix.audit.delta import DeltaWalker
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Action, Origin, Rule, Ruleset
from flowmatrix.audit.pipeline import evaluate_path


@st.composite
def insertions(draw: Any, ruleset: Ruleset) -> Ruleset:
    current = ruleset
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(current.chains)))
        chain = current.chains[key]
        index = draw(st.integers(0, len(chain.rules)))
        kind = draw(st.sampled_from(["accept", "drop"]))
        origin = Origin("(proposed fix)", None, "fix", chain.table, chain.name, index + 1)
        rule = Rule(-1 - current.rule_count, draw(MATCHES), Action(kind), origin)  # type: ignore[arg-type]
        current = current.with_rule_inserted(key, index, rule)
    return current


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_delta_walk_equals_a_fresh_compiled_walk(data: Any) -> None:
    ruleset = data.draw(rulesets())
    base = CompiledWalker(ruleset)
    for ctx, region in data.draw(st.lists(queries(), min_size=1, max_size=4)):
        evaluate_path(base, "forward", ctx, region)  # the base memo is filled, as in an audit
    changed = data.draw(insertions(ruleset))
    delta = DeltaWalker(base, changed)
    fresh = CompiledWalker(changed)
    for ctx, region in data.draw(st.lists(queries(), min_size=1, max_size=6)):
        assert evaluate_path(delta, "forward", ctx, region) == evaluate_path(
            fresh, "forward", ctx, region
        )
