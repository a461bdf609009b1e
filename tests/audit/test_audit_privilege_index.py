"""Least privilege looks up the earlier rules that may cover a rule's reach in an index
(``privilege._candidates``) instead of trying each: the same narrowed reach as trying
every earlier rule in turn, on random chains."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Action, BaseChain, Chain, Match, Origin, Rule, Ruleset
from flowmatrix.audit.privilege import _enders, _minus_earlier, _plain
from flowmatrix.audit.ranges import Ivs

ADDRESS = st.integers(min_value=0, max_value=300)


@st.composite
def address_sets(draw: st.DrawFn) -> Ivs | None:
    if draw(st.integers(0, 5)) == 0:
        return None
    pieces = draw(st.lists(st.tuples(ADDRESS, st.integers(0, 40)), min_size=0, max_size=3))
    out = [(low, low + length) for low, length in pieces]
    if not out or draw(st.integers(0, 3)) == 0:
        # a network far wider than hosts (the index tries those one by one)
        low = draw(st.integers(0, 200))
        out.append((low, low + (1 << 20)))
    return ranges.normalize(out)


@st.composite
def chains(draw: st.DrawFn) -> Ruleset:
    count = draw(st.integers(1, 40))
    rules = []
    for index in range(count):
        match = Match(
            family=4,
            src=draw(address_sets()),
            dst=draw(address_sets()),
            protos=draw(st.sampled_from([None, None, None, frozenset({6}), frozenset({17})])),
            dport=draw(st.sampled_from([None, None, None, ((80, 80),), ((0, 1000),)])),
        )
        kind = draw(st.sampled_from(["accept", "drop", "reject", "return"]))
        # a source rule may be several IR rules sharing its position
        position = index // 2 + 1 if draw(st.booleans()) else index + 1
        origin = Origin("t", index + 1, f"rule {index}", "filter", "FORWARD", position)
        rules.append(Rule(index, match, Action(kind, kind.upper()), origin))  # type: ignore[arg-type]
    chain = Chain("filter/FORWARD", "filter", "FORWARD", tuple(rules))
    base = BaseChain("filter/FORWARD", "forward", 0, "filter", "drop", frozenset({4}), 0)
    return Ruleset("iptables", "t", {chain.key: chain}, (base,), frozenset({4}))


def each_earlier(
    ruleset: Ruleset,
    uid: int,
    src: Ivs | None,
    dst: Ivs | None,
    dport: Ivs | None,
    protos: frozenset[int] | None,
) -> tuple[Ivs | None, Ivs | None]:
    """Every earlier rule tried in turn: what the index must give."""
    rule = ruleset.rule(uid)
    full = ranges.ALL_ADDRESSES[4]
    for earlier in _enders(ruleset, "filter/FORWARD"):
        if earlier.uid == uid or earlier.origin.position >= rule.origin.position:
            break
        m = earlier.match
        if m.protos is not None and (protos is None or not protos <= m.protos):
            continue
        if m.dport is not None and (dport is None or not ranges.is_subset(dport, m.dport)):
            continue
        covers_src = m.src is None or (src is not None and ranges.is_subset(src, m.src))
        covers_dst = m.dst is None or (dst is not None and ranges.is_subset(dst, m.dst))
        if not (covers_src or covers_dst) or not _plain(m, rule, 4):
            continue
        if covers_dst and m.src is not None:
            src = ranges.difference(src or full, m.src) or src
        if covers_src and m.dst is not None:
            dst = ranges.difference(dst or full, m.dst) or dst
    return src, dst


@settings(max_examples=150, deadline=None)
@given(chains(), st.data())
def test_indexed_earlier_rules_narrow_as_trying_each(ruleset: Ruleset, data: st.DataObject) -> None:
    rules = ruleset.chains["filter/FORWARD"].rules
    for _ in range(5):
        rule = rules[data.draw(st.integers(len(rules) // 2, len(rules) - 1))]
        src, dst = data.draw(address_sets()), data.draw(address_sets())
        dport = data.draw(st.sampled_from([None, ((80, 80),), ((22, 22),)]))
        protos = data.draw(st.sampled_from([None, frozenset({6})]))
        expected = each_earlier(ruleset, rule.uid, src, dst, dport, protos)
        assert _minus_earlier(ruleset, rule.uid, 4, src, dst, dport, protos) == expected
