"""PortSet: ranges kept as ranges, read as the sorted tuple of the ports they hold."""

from __future__ import annotations

import pickle
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowmatrix.portset import PortSet, parse_port_range
from flowmatrix.rules.grouping import covers

PORTS = st.integers(min_value=1, max_value=65535)
RANGES = st.lists(
    st.tuples(PORTS, st.integers(min_value=0, max_value=300)).map(
        lambda item: (item[0], min(65535, item[0] + item[1]))
    ),
    max_size=8,
)


def expanded(ranges: list[tuple[int, int]]) -> tuple[int, ...]:
    """The plain meaning of a list of ranges: every port they hold, once, ascending."""
    return tuple(sorted({port for low, high in ranges for port in range(low, high + 1)}))


@given(RANGES)
def test_reads_as_the_sorted_distinct_ports(ranges: list[tuple[int, int]]) -> None:
    ports = PortSet(ranges)
    plain = expanded(ranges)
    assert tuple(ports) == plain
    assert len(ports) == len(plain)
    assert bool(ports) == bool(plain)
    assert tuple(reversed(ports)) == plain[::-1]
    assert [ports[i] for i in range(len(plain))] == list(plain)
    if plain:
        assert ports[-1] == plain[-1]
    assert ports[1:3] == plain[1:3]
    with pytest.raises(IndexError):
        ports[len(plain)]


@given(RANGES, st.lists(PORTS, max_size=20))
def test_membership_and_coverage(ranges: list[tuple[int, int]], probes: list[int]) -> None:
    ports = PortSet(ranges)
    plain = set(expanded(ranges))
    for port in [*probes, *(p + d for p in plain for d in (-1, 1) if len(plain) < 50)]:
        assert (port in ports) == (port in plain)
    subset = PortSet.of(probes)  # the rules' coverage check works on the ranges
    assert covers(ports.ranges, subset.ranges) == set(probes).issubset(plain)


@given(RANGES)
def test_ranges_are_disjoint_and_never_adjacent(ranges: list[tuple[int, int]]) -> None:
    kept = PortSet(ranges).ranges
    assert all(low <= high for low, high in kept)
    assert all(a[1] + 1 < b[0] for a, b in pairwise(kept))
    assert PortSet.of(expanded(ranges)) == PortSet(ranges)
    assert hash(PortSet.of(expanded(ranges))) == hash(PortSet(ranges))


def test_a_full_range_is_one_range_not_65535_numbers() -> None:
    everything = PortSet([(1, 65535)])
    assert everything.ranges == ((1, 65535),)
    assert len(everything) == 65535 and 65535 in everything and 0 not in everything
    assert everything[40000] == 40001
    assert len(pickle.dumps(everything)) < 100
    assert pickle.loads(pickle.dumps(everything)) == everything


def test_text_and_equality() -> None:
    ports = PortSet.of([443, 80, 5229, 5228, 5230, 80])
    assert ports.text() == "80, 443, 5228-5230"
    assert ports.text(",") == "80,443,5228-5230"
    assert PortSet().text() == ""
    assert ports != (80, 443, 5228, 5229, 5230)  # a port set equals only a port set
    assert tuple(ports) == (80, 443, 5228, 5229, 5230)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("443", (443, 443)), ("5228-5230", (5228, 5230)), (" 1 - 65535 ", (1, 65535))],
)
def test_parse_port_range(text: str, expected: tuple[int, int]) -> None:
    assert parse_port_range(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "port 0 is outside 1-65535"),
        ("1-70000", "port 70000 is outside 1-65535"),
        ("5230-5228", "port range 5230-5228 ends before it starts"),
        ("https", "'https' is not a port or a range of ports"),
        ("1-2-3", "'1-2-3' is not a port or a range of ports"),
    ],
)
def test_parse_port_range_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_port_range(text)
