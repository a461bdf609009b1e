"""Reading a user's input file: a regular file, of bounded size, with errors that name it.

Every reader of a site, catalog, ruleset, results file, certificate file, spreadsheet or
configuration goes through :func:`read_input_bytes` (or :func:`read_input_text`), so that
a device (``/dev/zero``), a FIFO or a directory is refused by name instead of read
forever, and a file past the size limit is refused before it is read. The limit is
``FLOWMATRIX_MAX_INPUT_BYTES`` (bytes, default 64 MiB); a reader with a smaller natural
bound (a certificate file) passes its own.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _

#: The environment variable that sets the size limit of every input file, in bytes.
LIMIT_VARIABLE = "FLOWMATRIX_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024
#: How deep a JSON document may nest (an nft ruleset nests about 10 levels).
MAX_JSON_DEPTH = 200
#: How much of a value an error message quotes.
QUOTE_LIMIT = 200

_KINDS = (
    (stat.S_ISDIR, N_("a directory")),
    (stat.S_ISCHR, N_("a character device")),
    (stat.S_ISBLK, N_("a block device")),
    (stat.S_ISFIFO, N_("a FIFO (named pipe)")),
    (stat.S_ISSOCK, N_("a socket")),
)


def max_input_bytes() -> int:
    """The size limit of an input file: ``FLOWMATRIX_MAX_INPUT_BYTES``, else 64 MiB."""
    raw = os.environ.get(LIMIT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise UserError(
            _("{variable}={value} is not a positive number of bytes").format(
                variable=LIMIT_VARIABLE, value=quote(raw)
            ),
            hint=_("unset it for the default of {limit} bytes").format(
                limit=DEFAULT_MAX_INPUT_BYTES
            ),
        )
    return value


def file_kind(mode: int) -> str | None:
    """What a non-regular file is ('a directory', 'a FIFO (named pipe)'...), else None."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else N_("not a regular file")


def read_input_bytes(
    path: str | Path, *, what: str = N_("input file"), limit: int | None = None
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (default: the
    configured input limit); anything else is a one-line UserError naming the file."""
    shown = str(path)
    bound = max_input_bytes() if limit is None else limit
    what = _(what)
    if not shown:
        raise UserError(
            _("an empty path is not a {what}").format(what=what), hint=_("give the file's path")
        )
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not hang before it is refused
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UserError(_("no such file"), file=shown, hint=_("check the path")) from None
    except OSError as exc:
        raise UserError(
            _("cannot read the file: {reason}").format(reason=exc.strerror), file=shown
        ) from None
    try:
        info = os.fstat(fd)
        kind = file_kind(info.st_mode)
        if kind is not None:
            raise UserError(
                _("is {kind}, not a {what}").format(kind=_(kind), what=what),
                file=shown,
                hint=_("give a {what} to read").format(what=what),
            )
        if info.st_size > bound:
            raise _too_large(shown, info.st_size, bound, what, limit is None)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(bound + 1)  # the file may have grown since fstat
    except OSError as exc:
        raise UserError(
            _("cannot read the file: {reason}").format(reason=exc.strerror), file=shown
        ) from None
    finally:
        os.close(fd)
    if len(data) > bound:
        raise _too_large(shown, len(data), bound, what, limit is None)
    return data


def _too_large(shown: str, size: int, bound: int, what: str, configurable: bool) -> UserError:
    hint = (
        _("raise {variable} (bytes) if this {what} is genuine").format(
            variable=LIMIT_VARIABLE, what=what
        )
        if configurable
        else _("a {what} is small").format(what=what)
    )
    message = (
        _("more than {size} bytes is over the limit of {limit} bytes for a {what}")
        if size > bound and size == bound + 1
        else _("{size} bytes is over the limit of {limit} bytes for a {what}")
    )
    return UserError(message.format(size=size, limit=bound, what=what), file=shown, hint=hint)


def read_input_text(
    path: str | Path,
    *,
    what: str = N_("input file"),
    limit: int | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> str:
    """:func:`read_input_bytes`, decoded; text that does not decode is a located UserError."""
    raw = read_input_bytes(path, what=what, limit=limit)
    try:
        return raw.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(
            _("not valid UTF-8 text"),
            file=str(path),
            line=line,
            col=col,
            hint=_("save it as UTF-8"),
        ) from None


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)``, cut to about ``limit`` characters: error messages stay one short line."""
    return clip(repr(value), limit)


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return _("{text}... ({n} characters)").format(text=text[:limit], n=len(text))


def parse_json(
    text: str, file: str, *, hint: str | None = None, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Decode a JSON document, refusing one nested past ``max_depth`` before decoding it
    (Python's decoder recurses); syntax errors become located UserErrors."""
    if json_depth(text, max_depth) > max_depth:
        where = _depth_offset(text, max_depth + 1)
        line = text.count("\n", 0, where) + 1
        col = where - (text.rfind("\n", 0, where) + 1) + 1
        raise UserError(
            _("JSON nested more than {depth} levels deep").format(depth=max_depth),
            file=file,
            line=line,
            col=col,
            hint=hint or _("this is not a document flowmatrix reads"),
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            _("invalid JSON: {problem}").format(problem=exc.msg),
            file=file,
            line=exc.lineno,
            col=exc.colno,
            hint=hint,
        ) from None
    except RecursionError:  # a stack smaller than max_depth needs
        raise UserError(_("JSON nested too deeply to read"), file=file, hint=hint) from None


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
#: Every byte but brackets and the double quote.
_ALL_BUT_BRACKETS = bytes(code for code in range(256) if code not in b'[]{}"')
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]', re.DOTALL)


def json_depth(text: str, stop_at: int) -> int:
    """How deep ``[``/``{`` nest in ``text`` outside strings, counted up to ``stop_at + 1``.

    Only brackets outside strings are kept, then the innermost pairs are removed level by
    level: a few passes at C speed for a real document, at most ``stop_at + 1`` for a
    hostile one.
    """
    brackets = _outside_brackets(text)
    depth = 0
    while brackets and depth <= stop_at:
        # the marker keeps "{[]}" from losing both levels in one pass
        inner = brackets.replace(b"[]", b"\0").replace(b"{}", b"\0").replace(b"\0", b"")
        if len(inner) == len(brackets):  # unbalanced: the decoder reports where
            break
        brackets, depth = inner, depth + 1
    return depth


def _outside_brackets(text: str) -> bytes:
    """The brackets of ``text`` that are not inside a string, in order."""
    if "\\" not in text:  # no escapes: quotes delimit strings, no more
        reduced = text.encode("utf-8", "surrogatepass").translate(None, _ALL_BUT_BRACKETS)
        outside = reduced.replace(b'""', b"")
        if b'"' not in outside:  # every string held no bracket: the common case
            return outside
    stripped = _JSON_STRING.sub("", text)
    return stripped.encode("utf-8", "surrogatepass").translate(None, _ALL_BUT_BRACKETS + b'"')


def _depth_offset(text: str, depth: int) -> int:
    """The offset in ``text`` where nesting first reaches ``depth`` (an error path only)."""
    level = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            level += 1
            if level >= depth:
                return match.start()
        elif token in "]}":
            level -= 1
    return 0
