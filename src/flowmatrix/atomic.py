"""Atomic file output: a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from flowmatrix.errors import UserError


def write_atomic(path: str | Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and an atomic rename."""
    target = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(
            f"cannot write {target}: folder {folder} does not exist", hint="create the folder first"
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
