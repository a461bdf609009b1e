"""Interval sets against the plain sets of integers they stand for: intersection,
difference and "do they meet", whatever the lengths (one network against a finely split
set takes the bisecting path, two long sets the linear merge)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatrix.audit import ranges

SPAN = 80


@st.composite
def interval_sets(draw: st.DrawFn) -> ranges.Ivs:
    bounds = sorted(draw(st.sets(st.integers(0, SPAN), max_size=14)))
    pairs = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds) - 1, 2)]
    shrink = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    return ranges.normalize(
        (low, high - 1) if cut and high > low else (low, high)
        for (low, high), cut in zip(pairs, shrink, strict=True)
    )


def values(ivs: ranges.Ivs) -> set[int]:
    return {value for low, high in ivs for value in range(low, high + 1)}


def as_ivs(found: set[int]) -> ranges.Ivs:
    return ranges.normalize((value, value) for value in found)


@settings(max_examples=400, deadline=None)
@given(interval_sets(), interval_sets())
def test_set_operations_equal_those_of_the_values(a: ranges.Ivs, b: ranges.Ivs) -> None:
    assert ranges.intersect(a, b) == as_ivs(values(a) & values(b))
    assert ranges.difference(a, b) == as_ivs(values(a) - values(b))
    assert ranges.meets(a, b) == bool(values(a) & values(b))


@settings(max_examples=200, deadline=None)
@given(interval_sets(), st.integers(0, SPAN), st.integers(0, SPAN))
def test_one_network_against_a_split_set(a: ranges.Ivs, x: int, y: int) -> None:
    one = ((min(x, y), max(x, y)),)
    assert ranges.intersect(a, one) == ranges.intersect(one, a) == as_ivs(values(a) & values(one))
    assert ranges.difference(a, one) == as_ivs(values(a) - values(one))
    assert ranges.meets(one, a) == bool(values(a) & values(one))
