"""The shipped catalogs validated once, not on every run.

Parsing a catalog's YAML and validating it with pydantic costs more than everything else
a ``flowmatrix plan`` does. The validated ``Catalog`` is kept as a pickle in the user's
cache folder (:mod:`flowmatrix.disk_cache`: where, how it is kept safe,
``FLOWMATRIX_NO_CACHE=1``), under a name that is the SHA-256 of everything the result
depends on: the catalog's bytes, the source of the models that validate it, and the
versions of flowmatrix, pydantic and Python. Any change gives another name, so a stale
entry is never read; any problem with the entry means validating the YAML as before.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from flowmatrix.disk_cache import cache_folder, entry, read_entry, write_entry

__all__ = ["cache_folder", "cache_key", "cached"]

T = TypeVar("T")


def cache_key(raw: bytes, *depends_on: Path, models: bool = True) -> str:
    """The digest naming a cache entry for ``raw`` read by the code in ``depends_on``.

    ``models``: the entry pickles validated models, so pydantic's version is part of the
    key (a plan holds none: plain records only)."""
    from flowmatrix import __version__

    if models:
        import pydantic

        library = pydantic.VERSION
    else:
        library = "-"
    digest = hashlib.sha256(raw)
    versions = f"{__version__}|{library}|{sys.version}|{pickle.HIGHEST_PROTOCOL}"
    digest.update(versions.encode())
    for source in depends_on:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def cached(kind: type[T], name: str, key: str, build: Callable[[], T]) -> T:
    """The ``kind`` cached as ``name``-``key``, or ``build()`` (then cached)."""
    path = entry(name, key)
    if path is None:
        return build()
    found = read_entry(path)
    if isinstance(found, kind):
        return found
    value = build()
    write_entry(path, value)
    return value
