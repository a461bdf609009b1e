"""The head every JSON document of flowmatrix starts with, and the one reader of it.

Every document a command writes begins with the same keys::

    {"format": "flowmatrix-<kind>/<n>", "site": "<the site's name>",
     "site_digest": "sha256:<hex of the site file's bytes>", ...}

so a reader knows what it holds, which version of its contract, and which site (and
which state of the site file) it speaks of, without guessing from the other keys.
``read_header`` reads it, and also the heads of the previous version of flowmatrix that
named their kind (``"schema": "flowmatrix.audit/1"``, the fleet plan's
``"format": "flowmatrix-fleet-plan"``), for one version.

Standard library only: the remote probe of ``fleet`` (a zipapp) writes verify documents
with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowmatrix.i18n import _

PREFIX = "flowmatrix-"
#: Each kind of document and the newest version of its contract this flowmatrix writes.
VERSIONS: dict[str, int] = {
    "plan": 2,
    "verify": 1,
    "listen": 1,
    "audit": 1,
    "lab": 1,
    "matrix": 2,
    "matrix-check": 1,
    "import": 1,
    "certs-collect": 1,
    "certs-check": 1,
    "ads": 1,
    "fleet-plan": 1,
}
#: Heads of the previous version: the old ``schema`` key of audit documents.
_OLD_SCHEMAS = {"flowmatrix.audit/1": ("audit", 1)}


def site_digest(raw: bytes) -> str:
    """``sha256:<hex>`` of a site file's bytes: which state of the file a document is of."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True)
class SiteRef:
    """The site a document speaks of: its name and the digest of its file."""

    name: str
    digest: str | None = None


def header(kind: str, site: SiteRef | None = None) -> dict[str, Any]:
    """The head of a document of ``kind`` (its newest version), for ``site``."""
    head: dict[str, Any] = {"format": f"{PREFIX}{kind}/{VERSIONS[kind]}"}
    if site is not None:
        head["site"] = site.name
        head["site_digest"] = site.digest
    return head


@dataclass(frozen=True, slots=True)
class Header:
    """What a document's head says."""

    kind: str
    version: int
    site: str | None = None
    site_digest: str | None = None
    legacy: bool = False
    """True for a head of the previous version (read for one version more)."""


class DocumentError(ValueError):
    """A document names a flowmatrix format this version cannot read."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def read_header(document: object) -> Header | None:
    """The head of ``document``; None when it has none (a list, another tool's file, or
    a document of the previous version whose head was a bare ``format_version``: its
    reader tells it by its keys, as before). A flowmatrix format of an unknown kind, or
    newer than this version writes, is a ``DocumentError``.
    """
    if not isinstance(document, Mapping):
        return None
    site = document.get("site")
    name = site if isinstance(site, str) else None
    digest = document.get("site_digest")
    digest = digest if isinstance(digest, str) else None
    declared = document.get("format")
    if isinstance(declared, str) and declared.startswith(PREFIX):
        kind, _slash, number = declared[len(PREFIX) :].partition("/")
        version = _version(number or document.get("format_version"))
        if kind not in VERSIONS or version is None:
            raise DocumentError(
                _("unknown document format {format!r}").format(format=declared),
                _("this flowmatrix reads {formats}").format(formats=", ".join(sorted(VERSIONS))),
            )
        if version > VERSIONS[kind]:
            raise DocumentError(
                _("{format} is newer than this flowmatrix reads ({kind} {version})").format(
                    format=declared, kind=kind, version=VERSIONS[kind]
                ),
                _("read it with the flowmatrix that wrote it, or upgrade"),
            )
        return Header(kind, version, name, digest, legacy=not number)
    schema = document.get("schema")
    if isinstance(schema, str) and schema in _OLD_SCHEMAS:
        kind, version = _OLD_SCHEMAS[schema]
        return Header(kind, version, name, digest, legacy=True)
    return None


def _version(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) >= 1:
        return int(value)
    return None
