"""The one error type a user ever sees, and the exit codes."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


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
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text
