"""The one error type a user ever sees, and the exit codes."""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

from flowmatrix.i18n import _


class ExitCode(IntEnum):
    """Process exit codes: the contract with scripts and CI pipelines."""

    OK = 0
    FINDINGS = 1  # a blocked flow, a failed probe, an audit gap
    USAGE = 2  # bad input, bad configuration, bad command line


class UserError(Exception):
    """A mistake in the user's input: reported as ``file:line:col: message (hint)``, exit 2."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.col = col
        self.hint = hint

    @property
    def location(self) -> str:
        """``file:line:col`` (as much of it as is known), or an empty string."""
        if self.file is None:
            return ""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def __str__(self) -> str:
        message = _shortened(self.message)
        text = f"{self.location}: {message}" if self.location else message
        if self.hint:
            text += " " + _("(hint: {hint})").format(hint=_shortened(self.hint))
        return text


#: An error line quotes at most about this much of one value, and this much in all.
VALUE_LIMIT = 200
MESSAGE_LIMIT = 1000
_LONG_RUN = re.compile(r"\S{" + str(VALUE_LIMIT + 1) + ",}")


def _shortened(text: str) -> str:
    """``text`` with every run of more than 200 non-blank characters cut (a value from
    the input, most likely), and cut to 1,000 characters in all; one line."""
    if len(text) <= VALUE_LIMIT and "\n" not in text:
        return text
    text = _LONG_RUN.sub(lambda run: f"{run[0][:VALUE_LIMIT]}...({len(run[0])} chars)", text)
    text = " ".join(text.splitlines())
    return text if len(text) <= MESSAGE_LIMIT else f"{text[:MESSAGE_LIMIT]}...({len(text)} chars)"


class HintedValueError(ValueError):
    """A validator's complaint that carries a hint for the user (``yamlio`` turns it into
    a located UserError)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
