"""The vendor catalog: documented port requirements as validated data.

A catalog is package data (``catalogs/<id>.yaml``) validated on load by these models.
It keeps what the vendor page says (French verbatim, English translation, the protocol
as documented) beside what is really needed (protocols with the reason), and the
reading chosen wherever the source table is ambiguous.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowmatrix.catalog_cache import cache_key, cached
from flowmatrix.catalog_files import (
    DEFAULT_CATALOG,
    available_catalogs,
    catalog_source,
    is_catalog_file,
)
from flowmatrix.catalog_view import by_id
from flowmatrix.errors import UserError
from flowmatrix.i18n import Lang, _

__all__ = [
    "DEFAULT_CATALOG",
    "available_catalogs",
    "catalog_source",
    "is_catalog_file",
]

Protocol = Literal["tcp", "udp"]
RoleKind = Literal["server", "appliance", "client", "external", "network"]
Status = Literal["current", "obsolete", "legacy", "odd"]
#: Which of a NetScaler's addresses a flow uses (see the domain notes: NSIP, VIP, SNIP, AAA).
NetScalerAddress = Literal["nsip", "vip", "snip", "aaa"]


class _Frozen(BaseModel):
    # built on first validation: a run that loads the shipped catalog from the cache
    # (catalog_cache) never validates one, and skips building the validators
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Text(_Frozen):
    """A text in both languages of the catalog.

    A catalog file may give a plain string instead: it is then both the French and the
    English text (a user's own catalog written in one language).
    """

    fr: str = Field(
        min_length=1, description="French, verbatim from the source where it comes from it"
    )
    en: str = Field(min_length=1, description="English")

    @model_validator(mode="before")
    @classmethod
    def _plain_string(cls, value: object) -> object:
        if isinstance(value, str):
            return {"fr": value, "en": value}
        return value

    def get(self, lang: Lang) -> str:
        return self.fr if lang == "fr" else self.en


class CatalogInfo(_Frozen):
    id: str
    title: Text
    product: str
    source: str = Field(description="where the requirements come from (document, page)")
    source_file: str | None = Field(default=None, description="file of the source text, if kept")
    date: dt.date
    intro: Text | None = Field(default=None, description="the source's opening paragraph")
    languages: tuple[Lang, ...] = ("fr", "en")


class InternetAny(_Frozen):
    """Why an endpoint is opened to any Internet address: its vendor publishes none."""

    reason: Text = Field(description="why no address or name can restrict the flow")
    source: str = Field(description="where the vendor says so")


class Endpoint(_Frozen):
    """A documented destination of an external role: an FQDN and/or addresses."""

    fqdn: str | None = None
    addresses: tuple[str, ...] = ()
    note: Text | None = None
    status: Status = "current"
    internet_any: InternetAny | None = Field(
        default=None,
        description="the vendor publishes no stable address for this name: without a web "
        "proxy, its flows are opened to any Internet address (on their ports), for this reason",
    )

    @property
    def wildcard(self) -> bool:
        return bool(self.fqdn and self.fqdn.startswith("*."))

    @field_validator("addresses")
    @classmethod
    def _valid_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            ip_network(item, strict=False)
        return value


class Role(_Frozen):
    """A participant of the flows: a server, an appliance, clients, or an Internet service."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: Text
    aliases: tuple[str, ...] = Field(default=(), description="every spelling used in the source")
    kind: RoleKind
    modern_name: Text | None = Field(default=None, description="today's product name, if renamed")
    endpoints: tuple[Endpoint, ...] = ()
    default_zone: str | None = Field(
        default=None,
        description="zone a site gets this role in when it declares no host for it (e.g. internet)",
    )
    netscaler: bool = Field(
        default=False, description="a NetScaler with NSIP / VIP / SNIP addresses"
    )
    proxy_bypass: Text | None = Field(
        default=None,
        description="flows to this role do not go through a web proxy, for this reason",
    )
    parts: tuple[str, ...] = Field(
        default=(),
        description="the kinds of servers the source lumps under this role (XenApp/XenDesktop: "
        "controller, vda); a site's host says which it is, and each requirement which it needs",
    )


class Feature(_Frozen):
    """A deployment option that turns requirements on or off."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: Text
    default: bool


class Replacement(_Frozen):
    """What replaces an obsolete requirement today."""

    description: Text
    ports: tuple[int, ...] = ()
    protocols: tuple[Protocol, ...] = ()
    fqdn: str | None = None
    since: dt.date | None = None
    source: str | None = None


class Section(_Frozen):
    id: str
    number: int
    title: Text
    intro: Text | None = None


class Requirement(_Frozen):
    """One row of the vendor's table, as data."""

    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    section: str
    ports: tuple[int, ...] = Field(min_length=1)
    port_choice: Literal["all", "any"] = Field(
        description="'all': every port is needed ('80 et 443'); 'any': alternatives ('21 ou 22')"
    )
    default_port: int | None = Field(default=None, description="the alternative used by default")
    documented_protocol: str = Field(description="protocol as the page writes it (e.g. 'TCP')")
    protocols: tuple[Protocol, ...] = Field(min_length=1, description="protocols really needed")
    protocol_reason: Text | None = Field(
        default=None, description="why the protocols differ from the page's"
    )
    sources: tuple[str, ...] = Field(min_length=1)
    destinations: tuple[str, ...] = Field(min_length=1)
    source_address: NetScalerAddress | None = Field(
        default=None, description="which NetScaler address is the source, when a source is one"
    )
    destination_address: NetScalerAddress | None = Field(
        default=None, description="which NetScaler address is the destination, when one is"
    )
    destination_part: str | None = Field(
        default=None,
        description="which part of the destination role serves the flow (a XenApp/XenDesktop "
        "Delivery Controller or VDA), when the role lumps several",
    )
    description: Text
    source_text: str = Field(description="the row as it stands in the source, verbatim")
    notes: tuple[Text, ...] = ()
    reading: Text | None = Field(
        default=None, description="how an ambiguous row of the page was read"
    )
    condition: str | None = Field(default=None, description="feature id that must be on")
    status: Status = "current"
    flags: tuple[str, ...] = ()
    replacement: Replacement | None = None
    tls: bool = Field(default=False, description="the service on every one of the ports speaks TLS")
    tls_ports: tuple[int, ...] = Field(
        default=(),
        description="when only some of the ports speak TLS (80 beside 443): those ports; "
        "tls is then false, so a consumer that reads only tls never starts TLS on a plain port",
    )
    service: str | None = Field(
        default=None,
        description="application protocol (dns, ntp, radius, syslog, ldap, https, ...): "
        "picks the live probe",
    )

    @field_validator("ports")
    @classmethod
    def _valid_ports(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for port in value:
            if not 1 <= port <= 65535:
                raise ValueError(_("port {port} is outside 1-65535").format(port=port))
        return value

    @model_validator(mode="after")
    def _default_port_is_listed(self) -> Requirement:
        if self.default_port is not None and self.default_port not in self.ports:
            raise ValueError(
                _("default_port {port} is not one of {ports}").format(
                    port=self.default_port, ports=self.ports
                )
            )
        if self.port_choice == "any" and self.default_port is None:
            raise ValueError(_("a requirement with alternative ports needs a default_port"))
        return self

    @model_validator(mode="after")
    def _tls_ports_are_a_strict_subset(self) -> Requirement:
        if not self.tls_ports:
            return self
        if self.tls:
            raise ValueError(_("with 'tls: true' every port speaks TLS: omit tls_ports"))
        unknown = sorted(set(self.tls_ports) - set(self.ports))
        if unknown:
            raise ValueError(
                _("tls_ports {unknown} are not among the ports {ports}").format(
                    unknown=unknown, ports=self.ports
                )
            )
        if set(self.tls_ports) == set(self.ports):
            raise ValueError(_("every port speaks TLS: write 'tls: true' instead of tls_ports"))
        return self

    def tls_on(self, port: int) -> bool:
        """Whether the service speaks TLS on ``port`` (one of this requirement's ports)."""
        return self.tls or port in self.tls_ports

    def chosen_ports(self, choice: int | None = None) -> tuple[int, ...]:
        """The ports a site needs: all of them, or the chosen (or default) alternative."""
        if self.port_choice == "all":
            return self.ports
        return (choice if choice is not None else self.default_port or self.ports[0],)


class Procedure(_Frozen):
    """A documented procedure or note that is not a port (proxy bypass, certificate pinning)."""

    id: str
    section: str
    title: Text
    text: Text
    steps: tuple[Text, ...] = ()


class JourneyStep(_Frozen):
    """One requirement a journey needs, from all its sources or from some of them."""

    requirement: str
    sources: tuple[str, ...] = Field(
        default=(), description="only the flows from these source roles (default: every source)"
    )


class Journey(_Frozen):
    """What users do, as the requirements it needs: up when all its required flows are."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: Text = Field(description="what the user does, in both languages")
    steps: tuple[JourneyStep, ...] = Field(min_length=1)


class Catalog(_Frozen):
    catalog: CatalogInfo
    sections: tuple[Section, ...]
    roles: tuple[Role, ...]
    features: tuple[Feature, ...]
    requirements: tuple[Requirement, ...]
    procedures: tuple[Procedure, ...] = ()
    journeys: tuple[Journey, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        role_ids = {r.id for r in self.roles}
        feature_ids = {f.id for f in self.features}
        section_ids = {s.id for s in self.sections}
        seen: set[str] = set()
        for req in self.requirements:
            if req.id in seen:
                raise ValueError(_("duplicate requirement id {id}").format(id=req.id))
            seen.add(req.id)
            if req.section not in section_ids:
                raise ValueError(
                    _("{id}: unknown section {section!r}").format(id=req.id, section=req.section)
                )
            for role in (*req.sources, *req.destinations):
                if role not in role_ids:
                    raise ValueError(_("{id}: unknown role {role!r}").format(id=req.id, role=role))
            if req.condition is not None and req.condition not in feature_ids:
                raise ValueError(
                    _("{id}: unknown feature {feature!r}").format(id=req.id, feature=req.condition)
                )
            if req.destination_part is not None:
                for lumped in self.roles:
                    if lumped.id in req.destinations and req.destination_part not in lumped.parts:
                        raise ValueError(
                            _("{id}: {role} has no part {part!r}").format(
                                id=req.id, role=lumped.id, part=req.destination_part
                            )
                        )
        if len(role_ids) != len(self.roles):
            raise ValueError(_("duplicate role id"))
        self._journeys_resolve(role_ids)
        return self

    def _journeys_resolve(self, role_ids: set[str]) -> None:
        by_id = {r.id: r for r in self.requirements}
        if len({j.id for j in self.journeys}) != len(self.journeys):
            raise ValueError(_("duplicate journey id"))
        for journey in self.journeys:
            for step in journey.steps:
                req = by_id.get(step.requirement)
                if req is None:
                    raise ValueError(
                        _("journey {journey}: unknown requirement {requirement!r}").format(
                            journey=journey.id, requirement=step.requirement
                        )
                    )
                for role in step.sources:
                    if role not in role_ids:
                        raise ValueError(
                            _("journey {journey}: unknown role {role!r}").format(
                                journey=journey.id, role=role
                            )
                        )
                    if role not in req.sources:
                        raise ValueError(
                            _(
                                "journey {journey}: {role!r} is not a source of {requirement}"
                            ).format(journey=journey.id, role=role, requirement=req.id)
                        )

    def role(self, role_id: str) -> Role:
        return by_id(self.roles, role_id)

    def requirement(self, req_id: str) -> Requirement:
        return by_id(self.requirements, req_id)

    def feature_defaults(self) -> dict[str, bool]:
        return {f.id: f.default for f in self.features}


@cache
def load_catalog(ref: str = DEFAULT_CATALOG) -> Catalog:
    """Load a shipped catalog by id, or a catalog file by path."""
    from flowmatrix.yamlio import load_yaml, parse_yaml_bytes  # not when the cache holds it

    if is_catalog_file(ref):
        return load_yaml(Path(ref)).validate(Catalog)
    if ref not in available_catalogs():
        raise UserError(
            _("unknown catalog {catalog!r}").format(catalog=ref),
            hint=_("shipped catalogs: {catalogs}; or give a file path").format(
                catalogs=", ".join(available_catalogs())
            ),
        )
    raw = catalog_source(ref)
    return cached(
        Catalog,
        f"catalog-{ref}",
        cache_key(raw, Path(__file__)),
        lambda: parse_yaml_bytes(raw, f"catalogs/{ref}.yaml").validate(Catalog),
    )
