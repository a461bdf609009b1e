"""A private folder of pickles: what a run computed, kept for the next one.

The folder is ``$FLOWMATRIX_CACHE_DIR``, else ``$XDG_CACHE_HOME/flowmatrix``, else
``~/.cache/flowmatrix``; ``FLOWMATRIX_NO_CACHE=1`` turns every cache off. Each entry is
named by its kind and a digest of everything its value depends on (the callers make the
digest), so a stale entry is never read; each file starts with the SHA-256 of its payload,
checked before unpickling; a folder that another user could write to is not used; and any
problem (unreadable, corrupt, a read-only home) means the caller computes the value afresh.
Standard library only: the remote probe of ``fleet`` carries it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path

from flowmatrix.collector import collector_paused

_DIGEST = 32


def cache_folder() -> Path | None:
    """Where cached values live (None: caching is off)."""
    if os.environ.get("FLOWMATRIX_NO_CACHE"):
        return None
    chosen = os.environ.get("FLOWMATRIX_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flowmatrix"


def _private(folder: Path) -> bool:
    """The folder is ours alone (a pickle from someone else's file could run their code)."""
    info = folder.lstat()
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def read_entry(path: Path) -> object | None:
    """The value kept in ``path`` (None: missing, unreadable, corrupt, not ours)."""
    try:
        blob = path.read_bytes()
        if not _private(path.parent):
            return None
    except OSError:
        return None
    payload = blob[_DIGEST:]
    if len(blob) <= _DIGEST or hashlib.sha256(payload).digest() != blob[:_DIGEST]:
        return None
    try:
        with collector_paused():  # a plan or a catalog: many small objects, no cycles
            value: object = pickle.loads(payload)
    except Exception:  # an entry from an incompatible build: validate again
        return None
    return value


def write_entry(path: Path, value: object) -> None:
    """Keep ``value`` in ``path``, atomically (silently not, when it cannot be written)."""
    with collector_paused():
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    folder = path.parent
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def entry(name: str, key: str) -> Path | None:
    """Where the value ``name``-``key`` is kept (None: caching is off)."""
    folder = cache_folder()
    return None if folder is None else folder / f"{name}-{key[:32]}.pickle"


def lookup(name: str, key: str) -> object | None:
    """The value stored as ``name``-``key`` (None: caching is off, or no usable entry)."""
    path = entry(name, key)
    return None if path is None else read_entry(path)


def store(name: str, key: str, value: object) -> None:
    """Keep ``value`` as ``name``-``key`` (silently not, when the cache cannot be written)."""
    path = entry(name, key)
    if path is not None:
        write_entry(path, value)
