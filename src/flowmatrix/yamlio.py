"""YAML with positions: every validation error points at ``file:line:col``.

The document is parsed once with ruamel.yaml's round-trip loader, which records the
line and column of every key and item. The data handed to pydantic is converted to
plain Python types, so positions never leak into user data; a pydantic error ``loc``
is walked back through the ruamel tree to find where it happened.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from flowmatrix.collector import collector_paused
from flowmatrix.errors import HintedValueError, UserError
from flowmatrix.i18n import N_, _, ngettext
from flowmatrix.inputfile import clip, quote, read_input_bytes
from flowmatrix.yamlbuild import Builder

ModelT = TypeVar("ModelT", bound=BaseModel)


class YamlDocument:
    """A parsed YAML file: plain data, and (on demand) the tree that knows positions.

    The data comes from the fast safe loader (libyaml when present); the slower
    round-trip parse that records positions only runs when an error must be located.
    """

    def __init__(self, file: str, data: Any, text: str) -> None:
        self.file = file
        self.data = data
        self._text = text

    @property
    def text(self) -> str:
        """The file's text, as decoded."""
        return self._text

    @cached_property
    def tree(self) -> Any:
        from ruamel.yaml import YAML

        try:
            return YAML(typ="rt").load(io.StringIO(self._text))
        except Exception:  # the fast parser accepted it; positions are a best effort
            return None

    def position(self, loc: Sequence[str | int]) -> tuple[int, int]:
        """1-based (line, col) of the deepest node of ``loc`` that exists in the file."""
        node = self.tree
        line, col = 1, 1
        if hasattr(node, "lc"):
            line, col = node.lc.line + 1, node.lc.col + 1
        for key in loc:
            if isinstance(node, Mapping) and key in node:
                lc = getattr(node, "lc", None)
                if lc is not None:
                    k_line, k_col = lc.key(key)
                    line, col = k_line + 1, k_col + 1
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                lc = getattr(node, "lc", None)
                if lc is not None:
                    i_line, i_col = lc.item(key)
                    line, col = i_line + 1, i_col + 1
                node = node[key]
            # pydantic inserts tags (union members, validator names) into loc: skip them
        return line, col

    def error(self, loc: Sequence[str | int], message: str, hint: str | None = None) -> UserError:
        """A UserError located at ``loc`` in this document."""
        line, col = self.position(loc)
        return UserError(message, file=self.file, line=line, col=col, hint=hint)

    def validate(self, model: type[ModelT]) -> ModelT:
        """Validate the whole document against ``model``; the first error becomes a UserError."""
        if self.data is None:
            raise UserError(
                _("the file is empty"),
                file=self.file,
                line=1,
                col=1,
                hint=_("see 'flowmatrix schema' for the expected keys"),
            )
        if not isinstance(self.data, dict):
            raise self.error(
                [],
                _("expected a mapping at the top level, found {kind}").format(
                    kind=_kind(self.data)
                ),
                _("the file must start with keys such as 'version:'"),
            )
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise self._translate(exc, model) from None

    def _translate(self, exc: ValidationError, model: type[BaseModel]) -> UserError:
        err = _most_relevant(exc)
        loc = [part for part in err["loc"] if isinstance(part, (int, str))]
        kind = err["type"]
        hint: str | None = None
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(model, loc[:-1])
            close = difflib.get_close_matches(key, allowed, n=1)
            message = _("unknown key '{key}'").format(key=key)
            hint = (
                _("did you mean '{name}'?").format(name=close[0])
                if close
                else _("allowed keys here: {keys}").format(keys=", ".join(allowed))
                if allowed
                else None
            )
        elif kind == "missing":
            message = _("missing key '{key}'").format(key=loc[-1])
            loc = loc[:-1]
            hint = _("see 'flowmatrix schema' for the expected keys")
        else:
            original = (err.get("ctx") or {}).get("error")
            if isinstance(original, HintedValueError):
                message, hint = str(original), original.hint
            else:
                message, hint = _describe(err, loc)
        return self.error(loc, message, hint)


def _most_relevant(exc: ValidationError) -> Any:
    """Pick the error to show: the one deepest in the document, earliest in it."""
    errors = exc.errors(include_url=False)
    return max(errors, key=lambda e: len([p for p in e["loc"] if isinstance(p, int | str)]))


_HINTS = {
    "bool_parsing": N_("write true or false"),
    "bool_type": N_("write true or false"),
    "int_parsing": N_("write a whole number"),
    "int_type": N_("write a whole number"),
    "string_type": N_("write text (quote it if YAML reads it as something else)"),
    "list_type": N_("write a list, e.g. [a, b] or one '- item' per line"),
    "tuple_type": N_("write a list, e.g. [a, b] or one '- item' per line"),
    "dict_type": N_("write a mapping of 'key: value' lines"),
    "model_type": N_("write a mapping of 'key: value' lines"),
    "literal_error": None,
}


#: pydantic's messages for the wrong kinds of value (its own English, kept as it says it).
_PYDANTIC_MESSAGES = frozenset(
    (
        N_("Input should be a valid integer"),
        N_("Input should be a valid integer, unable to parse string as an integer"),
        N_("Input should be a valid integer, got a number with a fractional part"),
        N_("Input should be a valid string"),
        N_("Input should be a valid list"),
        N_("Input should be a valid tuple"),
        N_("Input should be a valid dictionary"),
        N_("Input should be a valid number"),
        N_("Input should be a valid number, unable to parse string as a number"),
        N_("Input should be a valid boolean"),
        N_("Input should be a valid boolean, unable to interpret input"),
        N_("Field required"),
    )
)


def _describe(err: Any, loc: Sequence[str | int]) -> tuple[str, str | None]:
    """A readable message and hint for a pydantic error that no validator of ours raised."""
    kind = err["type"]
    field = _field_name(loc)
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = (1, 65535) if field in ("ports", "port") or "port" in field else (None, None)
        if low is not None:
            return _("port {value} is outside {low}-{high}").format(
                value=quote(value), low=low, high=high
            ), _("ports are numbered 1 to 65535")
        return _("{field}: {value} is out of range").format(field=field, value=quote(value)), str(
            err["msg"]
        )
    if kind in ("bool_parsing", "bool_type"):
        return _("{field}: {value} is not true or false").format(
            field=field, value=quote(value)
        ), _("write true or false")
    if kind == "too_short":
        needed = ctx.get("min_length", 1)
        return ngettext(
            "'{field}' needs at least {n} item", "'{field}' needs at least {n} items", needed
        ).format(field=field, n=needed), None
    if kind == "literal_error":
        return _("{field}: {value} is not allowed").format(field=field, value=quote(value)), _(
            "expected {choices}"
        ).format(choices=_expected(str(ctx.get("expected", ""))))
    message = str(err["msg"]).removeprefix("Value error, ")
    if message in _PYDANTIC_MESSAGES:  # pydantic's own words, in the run's language
        message = _(message)
    if loc:
        message = _("{field}: {message}").format(field=field, message=message)
    hint = _HINTS.get(kind)
    return message, _(hint) if hint else None


def _expected(choices: str) -> str:
    """pydantic's list of the allowed values (``'a', 'b' or 'c'``), its 'or' translated."""
    head, sep, last = choices.rpartition(" or ")
    if not sep:
        return choices
    return _("{choices} or {last}").format(choices=head, last=last)


def _field_name(loc: Sequence[str | int]) -> str:
    for part in reversed(loc):
        if isinstance(part, str):
            return part
    return "value"


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names (aliases first) of the sub-model found at ``loc``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            for candidate in current.model_fields.values():
                if candidate.alias == part:
                    field = candidate
                    break
        if field is None:
            return []
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted((f.alias or name) for name, f in current.model_fields.items())
    return []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``list[X]``, ``X | None``, ``dict[str, X]``..."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, str):
        return _("a string")
    return _("a {type}").format(type=type(value).__name__)


#: PyYAML's most common complaints, in the run's language (others are shown as it says them).
_YAML_PROBLEMS = {
    "mapping values are not allowed here": N_("mapping values are not allowed here"),
    "could not find expected ':'": N_("could not find expected ':'"),
    "found undefined alias": N_("found undefined alias"),
    "found unexpected end of stream": N_("found unexpected end of stream"),
    "found unknown escape character": N_("found unknown escape character"),
    "found duplicate anchor; first occurrence": N_("found duplicate anchor; first occurrence"),
    "did not find expected key": N_("did not find expected key"),
    "did not find expected node content": N_("did not find expected node content"),
    "did not find expected '-' indicator": N_("did not find expected '-' indicator"),
    "did not find expected ',' or ']'": N_("did not find expected ',' or ']'"),
    "did not find expected ',' or '}'": N_("did not find expected ',' or '}'"),
    "found a tab character that violates indentation": N_(
        "found a tab character that violates indentation"
    ),
    "block sequence entries are not allowed in this context": N_(
        "block sequence entries are not allowed in this context"
    ),
    "found character that cannot start any token": N_(
        "found character that cannot start any token"
    ),
    "invalid YAML": N_("invalid YAML"),
}


#: PyYAML's complaints that quote a part of the file: (pattern, text with that part).
_YAML_PATTERNS = (
    (
        re.compile(r"found character (?P<char>.+) that cannot start any token"),
        N_("found character {char} that cannot start any token"),
    ),
    (
        re.compile(r"could not determine a constructor for the tag (?P<tag>.+)"),
        N_("could not determine a constructor for the tag {tag}"),
    ),
    (
        re.compile(r"expected (?P<expected><[^>]+>), but found (?P<found>.+)"),
        N_("expected {expected}, but found {found}"),
    ),
)


def _yaml_problem(problem: str) -> str:
    """``problem`` translated when it is one PyYAML often gives (:data:`_YAML_PROBLEMS`,
    :data:`_YAML_PATTERNS`); any other is shown as PyYAML says it."""
    known = _YAML_PROBLEMS.get(problem)
    if known:
        return _(known)
    for pattern, text in _YAML_PATTERNS:
        found = pattern.fullmatch(problem)
        if found:
            return _(text).format(**found.groupdict())
    return problem


class _FastLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's safe loader: it composes the node graph, :class:`Builder` makes the data
    (refusing duplicate keys, which PyYAML silently keeps the last of)."""


def parse_yaml_text(text: str, file: str) -> YamlDocument:
    """Parse ``text`` (already decoded) as YAML; syntax errors become UserErrors.

    The data comes from libyaml through PyYAML (fast); positions for error messages
    come from ruamel.yaml's round-trip parser, run only when an error must be located.
    """
    loader = _FastLoader(text)
    try:
        with collector_paused():  # one node per scalar, mapping and list: no cycles
            root = loader.get_single_node()
            data = None if root is None else Builder(loader, file, len(text)).build(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or _("invalid YAML")).strip()
        hint = _("check indentation, colons and quotes")
        duplicate = re.search(r'duplicate key "([^"]*)"', problem)
        if duplicate:
            problem = _("duplicate key '{key}'").format(key=duplicate.group(1))
            hint = _("each key may appear once in a mapping")
        else:
            problem = _yaml_problem(problem)
        raise UserError(
            _("YAML syntax error: {problem}").format(problem=problem),
            file=file,
            line=(mark.line + 1) if mark else None,
            col=(mark.column + 1) if mark else None,
            hint=hint,
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(
            _("YAML error: {problem}").format(problem=clip(str(exc))),
            file=file,
            line=1,
            col=1,
            hint=_("check the file is valid YAML"),
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(file=file, data=data, text=text)


def load_yaml(path: str | Path, display_name: str | None = None) -> YamlDocument:
    """Read and parse a YAML file; unreadable, binary or non-UTF-8 files become UserErrors."""
    name = display_name or str(path)
    try:
        raw = read_input_bytes(path, what=N_("YAML file"))
    except UserError as exc:
        exc.file = name
        raise
    return parse_yaml_bytes(raw, name)


def parse_yaml_bytes(raw: bytes, name: str) -> YamlDocument:
    """Decode and parse YAML bytes, refusing binary content with a located message."""
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        line = raw.count(b"\n", 0, offset) + 1
        col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        raise UserError(
            _("binary data (NUL byte), not a YAML text file"),
            file=name,
            line=line,
            col=col,
            hint=_("give the site's .yaml file"),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(
            _("not valid UTF-8 text"),
            file=name,
            line=line,
            col=col,
            hint=_("save the file as UTF-8"),
        ) from None
    if not text.strip():
        raise UserError(
            _("the file is empty"),
            file=name,
            line=1,
            col=1,
            hint=_("see 'flowmatrix schema' for the expected keys"),
        )
    return parse_yaml_text(text, name)
