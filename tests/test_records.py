"""``quick_init``: a frozen, slotted dataclass made by the quicker ``__init__`` is the object
the dataclass's own ``__init__`` makes, and behaves as one (frozen, equal, hashed,
replaced, copied, pickled); what that ``__init__`` would not do the same is refused."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowmatrix.audit.result import Fate, FlowResult, Part, RuleRef, Step
from flowmatrix.evidence import Check
from flowmatrix.records import quick_init


@dataclass(frozen=True, slots=True)
class Plain:
    name: str
    count: int
    tags: tuple[str, ...] = ()
    note: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    name: str
    count: int
    tags: tuple[str, ...] = ()
    note: str | None = None


def _same(quick: Quick, plain: Plain) -> None:
    assert [getattr(quick, f.name) for f in dataclasses.fields(quick)] == [
        getattr(plain, f.name) for f in dataclasses.fields(plain)
    ]


@given(
    st.text(),
    st.integers(),
    st.none() | st.tuples(st.text()),
    st.none() | st.text(),
    st.booleans(),
)
def test_made_as_the_dataclass_makes_it(
    name: str, count: int, tags: tuple[str, ...] | None, note: str | None, by_keyword: bool
) -> None:
    given_args: dict[str, Any] = {} if tags is None else {"tags": tags}
    if note is not None:
        given_args["note"] = note
    if by_keyword:
        quick, plain = Quick(name=name, count=count, **given_args), Plain(name, count, **given_args)
    else:
        values = [name, count, *given_args.values()]
        quick, plain = Quick(*values), Plain(*values)
    _same(quick, plain)
    assert quick == Quick(name, count, quick.tags, quick.note)
    assert hash(quick) == hash(Quick(name, count, quick.tags, quick.note))
    assert repr(quick).removeprefix("Quick") == repr(plain).removeprefix("Plain")
    assert pickle.loads(pickle.dumps(quick)) == quick
    assert copy.deepcopy(quick) == quick
    assert dataclasses.replace(quick, count=count + 1).count == count + 1


def test_still_frozen_and_strict_about_its_arguments() -> None:
    quick = Quick("a", 1)
    with pytest.raises(FrozenInstanceError):
        quick.count = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Quick("a")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Quick("a", 1, (), None, "too many")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Quick("a", 1, colour="red")  # type: ignore[call-arg]
    assert str(inspect.signature(Quick)) == str(inspect.signature(Plain))


def test_what_the_quicker_init_would_not_do_the_same_is_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Factory:
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class Checked:
        count: int

        def __post_init__(self) -> None:
            raise ValueError

    @dataclass(frozen=True)
    class Unslotted:
        count: int

    @dataclass(slots=True)
    class Unfrozen:
        count: int

    for cls in (Factory, Checked, Unslotted, Unfrozen):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_the_report_s_records_are_made_quickly() -> None:
    """The records an audit makes by the thousand carry the quicker ``__init__``."""
    for cls in (RuleRef, Step, Fate, Part, FlowResult, Check):
        assert "_set0" in cls.__init__.__code__.co_names, cls
