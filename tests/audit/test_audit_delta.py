"""The walk of a ruleset with inserted rules (a fix checked against the audited ruleset)
reuses the compiled engine of the original: it must give exactly what a fresh compiled
engine of the new ruleset gives, for random rulesets, insertions and regions; the new
ruleset's chains, made only when read, must be those of the rules inserted one by one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.test_audit_engine import (
    IIFS,
    MATCHES,
    OIFS,
    OPAQUE,
    STATES,
    queries,
    rulesets,
)
from flowmatrix.audit.delta import DeltaWalker, _decided_for_all
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Action, BaseChain, Chain, Match, Origin, Rule, Ruleset
from flowmatrix.audit.packet import Ctx, Region
from flowmatrix.audit.pipeline import evaluate_path
from flowmatrix.audit.verdict import evaluate_flow

KINDS = ["accept", "accept", "drop", "reject", "continue", "notrack"]


def _insert(draw: Any, ruleset: Ruleset, match: Match) -> Ruleset:
    key = draw(st.sampled_from(sorted(ruleset.chains)))
    chain = ruleset.chains[key]
    index = draw(st.none() | st.integers(0, len(chain.rules)))
    kind = draw(st.sampled_from(KINDS))
    position = len(chain.rules) + 1 if index is None else index + 1
    origin = Origin("(proposed fix)", None, "fix", chain.table, chain.name, position)
    rule = Rule(-1 - ruleset.rule_count, match, Action(kind), origin)  # type: ignore[arg-type]
    return ruleset.with_rule_inserted(key, index, rule)


@st.composite
def insertions(draw: Any, ruleset: Ruleset) -> Ruleset:
    """One to three rules of any match inserted anywhere."""
    current = ruleset
    for _ in range(draw(st.integers(1, 3))):
        current = _insert(draw, current, draw(MATCHES))
    return current


@st.composite
def fixes_of(draw: Any, ruleset: Ruleset, query: tuple[Ctx, Region]) -> Ruleset:
    """Rules whose box holds the region, as a fix's does (the walk over it is then one
    that no inserted rule splits), with random conditions on the connection."""
    _ctx, region = query
    current = ruleset
    for _ in range(draw(st.integers(1, 2))):
        match = Match(
            family=4,
            src=draw(st.sampled_from([None, region.src])),
            dst=draw(st.sampled_from([None, region.dst])),
            protos=draw(st.sampled_from([None, frozenset({6, 17})])),
            sport=draw(st.sampled_from([None, region.sport])),
            dport=draw(st.sampled_from([None, region.dport])),
            states=draw(STATES),
            iif=draw(IIFS),
            oif=draw(OIFS),
            opaque=draw(OPAQUE),
        )
        current = _insert(draw, current, match)
    return current


@st.composite
def points(draw: Any) -> tuple[Ctx, Region]:
    """A query of one address each way and one destination port (most lie in one class
    of the engine: the walk that no rule splits)."""
    ctx, region = draw(queries())
    src, dst, dport = region.src[0][0], region.dst[0][0], region.dport[0][0]
    sport = draw(st.sampled_from([region.sport, ((region.sport[0][0],) * 2,)]))
    return ctx, Region(((src, src),), ((dst, dst),), sport, ((dport, dport),))


def _compare(base: CompiledWalker, changed: Ruleset, asked: list[tuple[Ctx, Region]]) -> None:
    delta = DeltaWalker(base, changed)
    fresh = CompiledWalker(changed)
    for ctx, region in asked:
        assert evaluate_path(delta, "forward", ctx, region) == evaluate_path(
            fresh, "forward", ctx, region
        )
        assert evaluate_flow(delta, "forward", ctx, region) == evaluate_flow(
            fresh, "forward", ctx, region
        )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_delta_walk_equals_a_fresh_compiled_walk(data: Any) -> None:
    ruleset = data.draw(rulesets())
    base = CompiledWalker(ruleset)
    for ctx, region in data.draw(st.lists(queries(), min_size=1, max_size=4)):
        evaluate_path(base, "forward", ctx, region)  # the base memo is filled, as in an audit
    changed = data.draw(insertions(ruleset))
    _compare(base, changed, data.draw(st.lists(queries() | points(), min_size=1, max_size=6)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_delta_walk_of_a_fix_equals_a_fresh_compiled_walk(data: Any) -> None:
    """The walk of a region that the inserted rules cover, as in the check of a fix."""
    ruleset = data.draw(rulesets())
    base = CompiledWalker(ruleset)
    query = data.draw(points() | queries())
    evaluate_flow(base, "forward", *query)
    changed = data.draw(fixes_of(ruleset, query))
    _compare(base, changed, [query, *data.draw(st.lists(points(), max_size=2))])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(queries(), min_size=1, max_size=4))
def test_a_chain_its_first_rule_decides(ruleset: Ruleset, asked: list[tuple[Ctx, Region]]) -> None:
    """What a chain does with every region of a context, known from its first rule that
    may match there, is what the engine finds for each region."""
    walker = CompiledWalker(ruleset)
    for ctx, region in asked:
        for key in ruleset.chains:
            decided = _decided_for_all(ruleset, key, ctx)
            if decided is not None:
                at, outcome = decided
                assert walker.run(key, ctx, region) == [(region, outcome)]
                assert outcome.rule == ruleset.chains[key].rules[at].uid


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_chains_of_a_copy_are_the_rules_inserted_one_by_one(data: Any) -> None:
    ruleset = data.draw(rulesets())
    changed = data.draw(insertions(ruleset))
    inserted = changed.inserted_since(ruleset)
    assert inserted is not None
    assert "chains" not in changed.__dict__  # made when first read
    expected = dict(ruleset.chains)
    by_uid = {rule.uid: rule for rule in ruleset.rules}
    for key, added in inserted.items():
        rules = list(expected[key].rules)
        for position, rule in added:
            rules.insert(position, rule)
            by_uid[rule.uid] = rule
        expected[key] = replace(expected[key], rules=tuple(rules))
    assert changed.chains == expected
    assert changed == replace(ruleset, chains=expected)
    assert changed.rule_count == len(by_uid) == len(changed.rules)
    assert all(changed.rule(uid) is rule for uid, rule in by_uid.items())


def _one_chain(chain: Chain) -> Ruleset:
    """A ruleset of one base chain on the forward hook that drops what falls off it."""
    base = BaseChain(chain.key, "forward", 0, "filter", "drop", frozenset({4}), 0)
    return Ruleset("iptables", "r", {chain.key: chain}, (base,), frozenset({4}))


def test_insertions_shift_the_rules_after_them() -> None:
    origin = Origin("r", 1, "rule", "filter", "C0", 1)
    old = tuple(Rule(uid, Match(), Action("accept"), origin) for uid in range(3))
    chain = Chain("filter/C0", "filter", "C0", old)
    ruleset = _one_chain(chain)
    new = [Rule(-1 - n, Match(), Action("drop"), origin) for n in range(3)]
    changed = ruleset.with_rule_inserted(chain.key, 1, new[0])
    changed = changed.with_rule_inserted(chain.key, None, new[1])  # at the end
    changed = changed.with_rule_inserted(chain.key, 0, new[2])
    assert changed.inserted_since(ruleset) == {chain.key: ((0, new[2]), (2, new[0]), (5, new[1]))}
    expected = (new[2], old[0], new[0], old[1], old[2], new[1])
    assert changed.chains[chain.key].rules == expected
    assert ruleset.chains[chain.key].rules == old
    with pytest.raises(IndexError):
        ruleset.with_rule_inserted(chain.key, 4, new[0])


def test_the_check_of_a_fix_reads_no_chain_of_the_new_ruleset() -> None:
    """Copying a chain of thousands of rules for each fix is what the walk avoids."""
    origin = Origin("r", 1, "rule", "filter", "C0", 1)
    rules = tuple(
        Rule(uid, Match(family=4, dst=((uid, uid),)), Action("drop"), origin) for uid in range(50)
    )
    chain = Chain("filter/C0", "filter", "C0", rules)
    ruleset = _one_chain(chain)
    base = CompiledWalker(ruleset)
    region = Region(((1, 1),), ((7, 7),), ((1024, 65535),), ((80, 80),))
    ctx = Ctx(4, 6, "new", 2, "eth0", "eth1")
    assert evaluate_flow(base, "forward", ctx, region)[0].alternatives[0].status == "blocked"
    fix = Rule(-100, Match(family=4, dst=((7, 7),)), Action("accept"), origin)
    changed = ruleset.with_rule_inserted(chain.key, 7, fix)
    cells = evaluate_flow(DeltaWalker(base, changed), "forward", ctx, region)
    assert cells == evaluate_flow(CompiledWalker(changed), "forward", ctx, region)
    assert cells[0].alternatives[0].request.decider.outcome.rule == -100  # type: ignore[union-attr]
    assert "chains" in changed.__dict__  # read by the fresh engine, not before
    again = ruleset.with_rule_inserted(chain.key, 7, fix)
    evaluate_flow(DeltaWalker(base, again), "forward", ctx, region)
    assert "chains" not in again.__dict__


def test_a_rule_met_once_conntrack_is_off() -> None:
    """An inserted rule that only applies to untracked packets, after a notrack rule:
    the walk meets it although the packets come in tracked."""
    origin = Origin("r", 1, "rule", "filter", "C0", 1)
    notrack = Rule(0, Match(), Action("notrack"), origin)
    chain = Chain("filter/C0", "filter", "C0", (notrack,))
    ruleset = _one_chain(chain)
    base = CompiledWalker(ruleset)
    region = Region(((1, 1),), ((7, 7),), ((1024, 65535),), ((80, 80),))
    ctx = Ctx(4, 6, "new", 2, "eth0", "eth1")
    fix = Rule(-1, Match(states=frozenset({"untracked"})), Action("accept"), origin)
    changed = ruleset.with_rule_inserted(chain.key, None, fix)
    path = evaluate_path(DeltaWalker(base, changed), "forward", ctx, region)
    assert path == evaluate_path(CompiledWalker(changed), "forward", ctx, region)
    assert path[0][1].verdict == "accept"


@pytest.mark.parametrize("kind", ["notrack", "jump"])
def test_a_walk_longer_than_the_recursion_limit(kind: str) -> None:
    """Thousands of rules the walk goes on after (a jump back, conntrack turned off),
    then the fix: the walk loops, it does not recurse."""
    origin = Origin("r", 1, "rule", "filter", "C0", 1)
    target = "filter/C1" if kind == "jump" else None
    rules = tuple(Rule(n, Match(), Action(kind, target), origin) for n in range(3000))  # type: ignore[arg-type]
    chain = Chain("filter/C0", "filter", "C0", rules)
    ruleset = _one_chain(chain)
    back = Chain("filter/C1", "filter", "C1", (Rule(3000, Match(), Action("return"), origin),))
    ruleset = replace(ruleset, chains={chain.key: chain, back.key: back})
    base = CompiledWalker(ruleset)
    region = Region(((1, 1),), ((7, 7),), ((1024, 65535),), ((80, 80),))
    ctx = Ctx(4, 6, "new", 2, "eth0", "eth1")
    fix = Rule(-1, Match(family=4, dst=((7, 7),)), Action("accept"), origin)
    changed = ruleset.with_rule_inserted(chain.key, None, fix)
    path = evaluate_path(DeltaWalker(base, changed), "forward", ctx, region)
    assert path[0][1].verdict == "accept"
    assert path[0][1].decisions[0].outcome.rule == -1


@pytest.mark.parametrize("index", [0, 1, None])
def test_a_rule_inserted_before_the_rule_that_decides_every_region(index: int | None) -> None:
    """A chain whose first rule takes every packet of known connections: the walk of the
    new ruleset is that rule's only when no inserted rule comes before it."""
    origin = Origin("r", 1, "rule", "filter", "C0", 1)
    known = Rule(0, Match(states=frozenset({"established"})), Action("accept"), origin)
    chain = Chain("filter/C0", "filter", "C0", (known,))
    ruleset = _one_chain(chain)
    base = CompiledWalker(ruleset)
    region = Region(((7, 7),), ((1, 1),), ((80, 80),), ((1024, 65535),))
    ctx = Ctx(4, 6, "established", 0x12, "eth1", "eth0", True)
    assert evaluate_path(base, "forward", ctx, region)[0][1].decisions[0].outcome.rule == 0
    fix = Rule(-1, Match(family=4, src=((7, 7),)), Action("drop"), origin)
    changed = ruleset.with_rule_inserted(chain.key, index, fix)
    path = evaluate_path(DeltaWalker(base, changed), "forward", ctx, region)
    assert path == evaluate_path(CompiledWalker(changed), "forward", ctx, region)
    assert path[0][1].decisions[0].outcome.rule == (-1 if index == 0 else 0)
