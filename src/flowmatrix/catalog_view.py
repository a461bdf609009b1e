"""The catalog as the plan carries it downstream, as plain frozen data (standard library
only).

``catalog.py`` reads and validates a catalog file (pydantic); ``plan_views`` turns the
validated catalog into these records once, and the reports, the journeys, the matrix
check and the ADS check read them through ``Plan.catalog``. They keep the catalog's
field names and only what those readers use: the requirements as the vendor wrote them
(verbatim source text, the reading chosen, notes, replacement), the roles with their
documented endpoints, the procedures and the journeys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from flowmatrix.i18n import Lang


@dataclass(frozen=True, slots=True)
class Text:
    """A text in both languages of the catalog."""

    fr: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.fr if lang == "fr" else self.en


@dataclass(frozen=True, slots=True)
class CatalogInfo:
    id: str
    title: Text
    product: str
    source: str
    date: dt.date
    intro: Text | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A documented destination of an external role: an FQDN and/or addresses."""

    fqdn: str | None = None
    addresses: tuple[str, ...] = ()
    note: Text | None = None
    status: str = "current"

    @property
    def wildcard(self) -> bool:
        return bool(self.fqdn and self.fqdn.startswith("*."))


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    name: Text
    kind: str
    aliases: tuple[str, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Replacement:
    """What replaces an obsolete requirement today."""

    description: Text
    ports: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Requirement:
    """One row of the vendor's table, as the reports show it."""

    id: str
    section: str
    ports: tuple[int, ...]
    port_choice: str
    documented_protocol: str
    protocols: tuple[str, ...]
    sources: tuple[str, ...]
    destinations: tuple[str, ...]
    description: Text
    source_text: str
    status: str = "current"
    protocol_reason: Text | None = None
    notes: tuple[Text, ...] = ()
    reading: Text | None = None
    condition: str | None = None
    flags: tuple[str, ...] = ()
    replacement: Replacement | None = None


@dataclass(frozen=True, slots=True)
class Procedure:
    """A documented procedure that is not a port (proxy bypass, certificate pinning)."""

    id: str
    title: Text
    text: Text
    steps: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True)
class JourneyStep:
    requirement: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Journey:
    """What users do, as the requirements it needs."""

    id: str
    name: Text
    steps: tuple[JourneyStep, ...]


@dataclass(frozen=True)
class CatalogView:
    """The catalog, as everything after the plan reads it (the site's own roles included)."""

    catalog: CatalogInfo
    roles: tuple[Role, ...]
    requirements: tuple[Requirement, ...]
    procedures: tuple[Procedure, ...] = ()
    journeys: tuple[Journey, ...] = ()

    def role(self, role_id: str) -> Role:
        return by_id(self.roles, role_id)

    def requirement(self, req_id: str) -> Requirement:
        return by_id(self.requirements, req_id)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=_Identified)


def by_id(items: Iterable[Item], wanted: str) -> Item:
    """The item of ``items`` with this ``id`` (a KeyError if none): a role, a requirement,
    in the validated catalog and in its plain view alike."""
    for item in items:
        if item.id == wanted:
            return item
    raise KeyError(wanted)
