"""A site's plan computed once, not on every run.

Parsing a big site's YAML, validating it and planning it cost more than what ``plan``,
``rules`` or ``verify`` then do with the plan. The plan is a pure function of the site's
bytes, the name it is shown under, the language, the catalog asked for (its bytes) and
flowmatrix's own code, so it is kept in the cache folder (:mod:`flowmatrix.disk_cache`:
private, a digest checked before unpickling, ``FLOWMATRIX_NO_CACHE=1`` turns it off)
under the SHA-256 of all of these but the catalog. The catalog a site names is only known
once the site is read, so the entry records which catalog it used and the digest of that
catalog's bytes; an entry whose catalog has changed since (or is gone) is not used. Only a
site that loaded without error is ever stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flowmatrix.catalog_cache import cache_key
from flowmatrix.catalog_files import catalog_source
from flowmatrix.disk_cache import lookup, store
from flowmatrix.errors import UserError
from flowmatrix.model import Plan

_NAME = "plan"


@dataclass(frozen=True)
class _Entry:
    catalog_ref: str
    catalog_digest: str
    plan: Plan


@cache
def _code() -> tuple[Path, ...]:
    """The modules that read, check and plan a site (every top-level one of the package)."""
    return tuple(sorted(Path(__file__).parent.glob("*.py")))


def plan_key(raw: bytes, shown: str, lang: str, catalog: str | None) -> str:
    """The digest naming the plan of the site ``raw`` shown as ``shown``."""
    asked = repr((shown, lang, catalog)).encode()
    return cache_key(asked + b"\n" + raw, *_code(), models=False)


def _catalog_digest(ref: str) -> str | None:
    try:
        return hashlib.sha256(catalog_source(ref)).hexdigest()
    except (OSError, UserError):
        return None


def cached_plan(key: str) -> Plan | None:
    """The plan stored under ``key``, if its catalog still has the bytes it was made from."""
    found = lookup(_NAME, key)
    if not isinstance(found, _Entry) or not isinstance(found.plan, Plan):
        return None
    if _catalog_digest(found.catalog_ref) != found.catalog_digest:
        return None
    return found.plan


def store_plan(key: str, catalog_ref: str, plan: Plan) -> None:
    """Keep ``plan`` under ``key``, with the catalog it was made with."""
    digest = _catalog_digest(catalog_ref)
    if digest is not None:
        store(_NAME, key, _Entry(catalog_ref, digest, plan))
