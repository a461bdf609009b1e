"""Command-line values converted without building a pydantic validator per parameter.

Typer (0.29) coerces every parameter's value through a pydantic ``TypeAdapter`` that it
builds on first use: a run imports pydantic and builds one validator per parameter it
reads, about 60 ms before a command does anything (measured on ``flowmatrix verify``:
more than its whole output step). For the plain annotations flowmatrix's commands use
(``str``, ``Path`` without checks, enumerations, numbers with bounds, and lists of
these) a value that is plainly valid is converted here directly: exactly what Typer's
validator returns for it (``tests/test_cli_params.py`` compares both on every parameter
of every command). Any other value (a bad number, an unknown choice, a number out of
bounds) and any other annotation go through Typer's own coercion, so its checks and its
error messages stay the ones users see.

This module rebinds one method of Typer (``_TyperParameter.get_runtime_param``), once
per process (:func:`install`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import typer.core
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})")

_MISS = object()
"""What a converter returns for a value it leaves to Typer."""


Converter = Callable[[Any], Any]
"""Converts one parameter's plainly valid values; ``_MISS`` for the others."""


def _number(kind: type[int] | type[float], pattern: re.Pattern[str], info: Any) -> Converter:
    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            return _MISS
        if isinstance(value, int) or (kind is float and isinstance(value, float)):
            number = kind(value)  # a default, given as a number
        elif isinstance(value, str) and pattern.fullmatch(value):
            number = kind(value)
        else:
            return _MISS
        low, high = info.min, info.max
        if (low is not None and number < low) or (high is not None and number > high):
            return _MISS  # Typer says why (or clamps)
        return number

    return convert


def _enumeration(kind: type[Enum]) -> Converter:
    members = {str(member.value): member for member in kind}

    def convert(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        return members.get(value, _MISS) if isinstance(value, str) else _MISS

    return convert


def _path(info: Any) -> Converter:
    """A path: as Typer takes it, one that is missing (unless it must exist), or one that
    is there with the kind and access the parameter asks for; anything else is Typer's
    to refuse, with its words."""

    def convert(value: Any) -> Any:
        if isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value or value == "-":
            return _MISS
        path = Path(value)
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return _MISS if info.exists else path
        if (not info.file_okay and stat.S_ISREG(mode)) or (
            not info.dir_okay and stat.S_ISDIR(mode)
        ):
            return _MISS
        if info.readable and not os.access(path, os.R_OK):
            return _MISS
        if info.writable and not os.access(path, os.W_OK):
            return _MISS
        return path

    return convert


def _flag(value: Any) -> Any:
    return value if isinstance(value, bool) else _MISS


def _text(value: Any) -> Any:
    return value if isinstance(value, str) else _MISS


def _listed(item: Converter) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            return _MISS
        converted = [item(one) for one in value]
        return _MISS if any(one is _MISS for one in converted) else converted

    return convert


def converter(annotation: Any, info: Any) -> Converter | None:
    """The direct converter of a parameter, or None: Typer's coercion only."""
    if info.parser is not None:
        return None
    if annotation is str:
        return _text
    if annotation is bool:
        return _flag
    if annotation is Path:
        if info.resolve_path or info.allow_dash or info.path_type not in (None, Path):
            return None
        return _path(info)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enumeration(annotation) if info.case_sensitive else None
    if annotation is int and not info.clamp:
        return _number(int, _INTEGER, info)
    if annotation is float and not info.clamp:
        return _number(float, _DECIMAL, info)
    if get_origin(annotation) is list and len(get_args(annotation)) == 1:
        item = converter(get_args(annotation)[0], info)
        return None if item is None else _listed(item)
    return None


class DirectRuntimeParam(RuntimeParam):
    """Typer's runtime coercion of one parameter, its plain values converted directly."""

    def __init__(self, descriptor: TypeDescriptor, convert: Converter) -> None:
        object.__setattr__(self, "parameter_info", descriptor.parameter_info)
        object.__setattr__(self, "annotation", descriptor.annotation)
        object.__setattr__(self, "_descriptor", descriptor)
        object.__setattr__(self, "_convert", convert)
        object.__setattr__(self, "_typer", None)

    _descriptor: TypeDescriptor
    _convert: Converter
    _typer: RuntimeParam | None

    def typer_param(self) -> RuntimeParam:
        """Typer's own coercion of this parameter (built, with its validator, on need)."""
        if self._typer is None:  # a frozen dataclass of Typer's: set as its own code would
            object.__setattr__(self, "_typer", build_runtime_param(self._descriptor))
        assert self._typer is not None
        return self._typer

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        converted = self._convert(value)
        if converted is not _MISS:
            return converted
        return self.typer_param()._coerce_value(value, param, ctx)


def runtime_param(descriptor: TypeDescriptor) -> RuntimeParam:
    """The coercion of a parameter: direct where :func:`converter` has one, else Typer's."""
    if descriptor.file_annotation is not None:
        return build_runtime_param(descriptor)
    convert = converter(descriptor.annotation, descriptor.parameter_info)
    if convert is None:
        return build_runtime_param(descriptor)
    return DirectRuntimeParam(descriptor, convert)


def _get_runtime_param(self: Any) -> RuntimeParam:
    if self._runtime_param is None:
        self._runtime_param = runtime_param(self.type_descriptor)
    return self._runtime_param  # type: ignore[no-any-return]


def install() -> None:
    """Have Typer's parameters use :func:`runtime_param` (idempotent)."""
    typer.core._TyperParameter.get_runtime_param = _get_runtime_param  # type: ignore[method-assign]
