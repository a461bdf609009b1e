"""The shipped catalogs validated once, not on every run.

Parsing a catalog's YAML and validating it with pydantic costs more than everything else
a ``flowmatrix plan`` does. The validated ``Catalog`` is kept as a pickle in the user's
cache folder (``$FLOWMATRIX_CACHE_DIR``, else ``$XDG_CACHE_HOME/flowmatrix``, else
``~/.cache/flowmatrix``), under a name that is the SHA-256 of everything the result
depends on: the catalog's bytes, the source of the models that validate it, and the
versions of flowmatrix, pydantic and Python. Any change gives another name, so a stale
entry is never read. Each file starts with the SHA-256 of its payload, checked before
unpickling; a folder that another user could write to is not used; and any problem
(unreadable, corrupt, a read-only home) means validating the YAML as before.
``FLOWMATRIX_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_DIGEST = 32


def cache_folder() -> Path | None:
    """Where cached catalogs live (None: caching is off)."""
    if os.environ.get("FLOWMATRIX_NO_CACHE"):
        return None
    chosen = os.environ.get("FLOWMATRIX_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flowmatrix"


def cache_key(raw: bytes, *depends_on: Path) -> str:
    """The digest naming a cache entry for ``raw`` read by the code in ``depends_on``."""
    import pydantic

    from flowmatrix import __version__

    digest = hashlib.sha256(raw)
    versions = f"{__version__}|{pydantic.VERSION}|{sys.version}|{pickle.HIGHEST_PROTOCOL}"
    digest.update(versions.encode())
    for source in depends_on:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _private(folder: Path) -> bool:
    """The folder is ours alone (a pickle from someone else's file could run their code)."""
    info = folder.lstat()
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _read(path: Path) -> object | None:
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
        value: object = pickle.loads(payload)
    except Exception:  # an entry from an incompatible build: validate again
        return None
    return value


def _write(path: Path, value: object) -> None:
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


def _entry(folder: Path, name: str, key: str) -> Path:
    return folder / f"{name}-{key[:32]}.pickle"


def lookup(name: str, key: str) -> object | None:
    """The value stored as ``name``-``key`` (None: caching is off, or no usable entry)."""
    folder = cache_folder()
    return None if folder is None else _read(_entry(folder, name, key))


def store(name: str, key: str, value: object) -> None:
    """Keep ``value`` as ``name``-``key`` (silently not, when the cache cannot be written)."""
    folder = cache_folder()
    if folder is not None:
        _write(_entry(folder, name, key), value)


def cached(kind: type[T], name: str, key: str, build: Callable[[], T]) -> T:
    """The ``kind`` cached as ``name``-``key``, or ``build()`` (then cached)."""
    folder = cache_folder()
    if folder is None:
        return build()
    path = _entry(folder, name, key)
    found = _read(path)
    if isinstance(found, kind):
        return found
    value = build()
    _write(path, value)
    return value
