"""Frozen, slotted dataclasses that are quick to make, for records made by the thousand.

The ``__init__`` that ``dataclass`` writes for a frozen class sets each field through
``object.__setattr__`` (the class refuses its own): a call that looks the field up by
name, 1.1 µs for twelve fields against 0.15 µs when the class is not frozen. An audit of
10,000 flow ports makes tens of thousands of such records (parts, fates, steps, rule
references). :func:`quick_init` gives a frozen, slotted dataclass an ``__init__`` that
sets each slot through its own descriptor instead: the same signature, the same object
(still frozen, still equal, hashed, copied, pickled and ``replace``-d as a dataclass), in
less than half the time.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """``cls`` (a ``dataclass(frozen=True, slots=True)``) with the quicker ``__init__``.

    Only what that ``__init__`` would do is supported: fields set from parameters in
    their order, with plain defaults (a default factory, an ``init=False`` or keyword-only
    field, or a ``__post_init__`` is refused at import).
    """
    record: Any = cls  # a dataclass, whatever its static type says
    params = getattr(record, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init wants a frozen, slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init does not run __post_init__")
    namespace: dict[str, Any] = {}
    arguments, lines = [], []
    for index, field in enumerate(dataclasses.fields(record)):
        plain = field.init and not field.kw_only and field.name != "self"
        if not plain or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init sets plain fields only")
        slot = cls.__dict__.get(field.name)
        if slot is None:  # a field of a base class
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init sets its own slots only")
        namespace[f"_set{index}"] = slot.__set__
        if field.default is dataclasses.MISSING:
            arguments.append(field.name)
        else:
            namespace[f"_default{index}"] = field.default
            arguments.append(f"{field.name}=_default{index}")
        lines.append(f"    _set{index}(self, {field.name})\n")
    source = f"def __init__(self, {', '.join(arguments)}):\n" + "".join(lines or ["    pass\n"])
    exec(source, namespace)  # made from the field names above, as dataclass does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(record.__init__.__annotations__)
    record.__init__ = init
    return cls
