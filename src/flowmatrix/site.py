"""The site file: the user's inventory (zones, firewalls, hosts per role, options).

Validation happens in two steps so that every error has a position: pydantic checks
shapes and values field by field, then ``check_site`` checks what refers to what
(roles, zones, firewalls, features) with the catalog at hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from flowmatrix.catalog import Catalog, NetScalerAddress, Role, RoleKind, Text
from flowmatrix.errors import HintedValueError
from flowmatrix.i18n import _
from flowmatrix.networks import IPNetwork, exact_network, parse_network
from flowmatrix.portset import PortSet
from flowmatrix.site_view import all_addresses, serves
from flowmatrix.sitefields import (
    NAME_PATTERN,
    AddressText,
    CidrText,
    InterfaceName,
    Name,
    Port,
    PortItem,
    ports_of,
)

__all__ = ["NAME_PATTERN", "IPNetwork", "parse_network"]

SITE_VERSION = 2
"""The newest site format: what ``flowmatrix site upgrade`` writes."""
SITE_VERSIONS = (1, 2)
"""Every format this flowmatrix reads. Version 2 lists a host's roles (``roles: [...]``)
and lets a site declare its own roles; version 1 files are read unchanged."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Zone(_Strict):
    """A network zone: the addresses on one side of a firewall."""

    name: Name
    cidrs: tuple[CidrText, ...] = Field(
        default=(),
        description="networks of the zone (version 2: they may hold other zones' networks; "
        "an address belongs to the most specific zone)",
    )
    internet: bool = Field(
        default=False,
        description="the zone holds every address that is in no other zone (the Internet)",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _has_addresses(self) -> Zone:
        if not self.cidrs and not self.internet:
            raise HintedValueError(
                _("zone {zone!r} has no cidrs").format(zone=self.name),
                _("list its networks under 'cidrs', or set 'internet: true'"),
            )
        return self


class PublishedAddress(_Strict):
    """Static destination NAT: traffic from the outside to ``public`` reaches ``to``."""

    public: AddressText = Field(description="the public address (a single address)")
    to: str = Field(
        description="the host it reaches (a NetScaler: its VIP; another host: its one "
        "address), or one address of a host"
    )
    ports: tuple[PortItem, ...] = Field(
        default=(), description="only these ports are published (default: every port)"
    )

    @property
    def port_set(self) -> PortSet | None:
        """The published ports; None for every port."""
        return ports_of(self.ports) if self.ports else None


class SourceTranslation(_Strict):
    """Source NAT: traffic of a zone or a host leaving to the outside, as one address."""

    model_config = ConfigDict(populate_by_name=True)

    sources: str = Field(alias="from", description="a zone or a host of the site")
    leaves_as: str = Field(
        alias="as", description="the address it leaves as, or 'masquerade' (the firewall's own)"
    )

    @property
    def masquerade(self) -> bool:
        return self.leaves_as == "masquerade"

    @model_validator(mode="after")
    def _address_or_masquerade(self) -> SourceTranslation:
        if not self.masquerade:
            network = exact_network(self.leaves_as)
            if network is None or network.num_addresses != 1:
                raise HintedValueError(
                    _("source NAT 'as: {value}' is not an address").format(value=self.leaves_as),
                    _("give the single address the traffic leaves as, or 'masquerade'"),
                )
        return self


class FirewallNat(_Strict):
    """The address translations of a firewall (version 2)."""

    outside: str | None = Field(
        default=None,
        description="the zone the public addresses face (default: the firewall's Internet zone)",
    )
    destination: tuple[PublishedAddress, ...] = Field(
        default=(), description="static destination NAT: public address -> host"
    )
    source: tuple[SourceTranslation, ...] = Field(
        default=(), description="source NAT: a zone's or a host's traffic leaving to the outside"
    )


class Firewall(_Strict):
    """A firewall and the zones it separates (two or more)."""

    name: Name
    zones: tuple[str, ...] = Field(min_length=2, description="zones this firewall connects")
    interfaces: dict[str, InterfaceName] = Field(
        default_factory=dict, description="zone name -> interface name on this firewall"
    )
    nat: FirewallNat | None = Field(
        default=None, description="version 2: address translations (published addresses, SNAT)"
    )
    description: str | None = None


class NetScalerAddresses(_Strict):
    """The addresses of a NetScaler: which one a flow uses depends on the flow."""

    nsip: str | None = Field(default=None, description="management address (NSIP)")
    vip: tuple[str, ...] = Field(default=(), description="virtual server addresses (VIP)")
    snip: tuple[str, ...] = Field(default=(), description="subnet addresses (SNIP)")
    aaa: str | None = Field(
        default=None,
        description="dedicated source address for LDAP/RADIUS (set aaa parameter -aaadnatIp)",
    )

    @model_validator(mode="after")
    def _valid(self) -> NetScalerAddresses:
        for item in (self.nsip, self.aaa, *self.vip, *self.snip):
            if item is not None:
                network = parse_network(item)
                if network.num_addresses != 1:
                    raise HintedValueError(
                        _("NetScaler address {address!r} is a network").format(address=item),
                        _("give a single address"),
                    )
        return self


class Host(_Strict):
    """A host, a cluster node or a network of clients, in one role or several (a domain
    controller that is also the DNS server)."""

    name: Name
    role: str | None = Field(default=None, description="version 1: the host's role")
    roles: tuple[str, ...] = Field(
        default=(), description="version 2: the host's roles (catalog or site role ids)"
    )
    addresses: tuple[AddressText, ...] = Field(default=(), description="addresses or CIDRs")
    fqdn: str | None = Field(default=None, pattern=r"^[A-Za-z0-9*_.-]+$")
    zone: str | None = Field(default=None, description="zone; inferred from addresses if omitted")
    netscaler: NetScalerAddresses | None = None
    kind: str | None = Field(
        default=None,
        description="version 2: which part of its role the host is, where the role lumps "
        "several (XenApp/XenDesktop: controller, vda or both; default both)",
    )
    description: str | None = None

    def serves(self, part: str | None) -> bool:
        """Whether the host is the part of its role a flow needs (None: any part)."""
        return serves(self.kind, part)

    @property
    def role_ids(self) -> tuple[str, ...]:
        """The host's roles, the first one being the one it is shown with."""
        return self.roles if self.roles else (self.role,) if self.role else ()

    @model_validator(mode="after")
    def _one_way_to_say_roles(self) -> Host:
        if self.role is not None and self.roles:
            raise HintedValueError(
                _("host {host!r} has both 'role' and 'roles'").format(host=self.name),
                _("version 2 lists them all under 'roles'"),
            )
        if self.role is None and not self.roles:
            raise HintedValueError(
                _("host {host!r} has no role").format(host=self.name),
                _("give 'roles: [...]' (version 1: 'role:')"),
            )
        if len(set(self.roles)) != len(self.roles):
            raise HintedValueError(
                _("host {host!r} lists a role twice").format(host=self.name),
                _("list each role once"),
            )
        return self

    @model_validator(mode="after")
    def _reachable_somehow(self) -> Host:
        if not self.addresses and not self.fqdn and self.netscaler is None:
            raise HintedValueError(
                _("host {host!r} has no addresses, fqdn or netscaler addresses").format(
                    host=self.name
                ),
                _("give 'addresses: [...]' or 'fqdn:'"),
            )
        return self

    def all_addresses(self) -> tuple[str, ...]:
        """Every address of the host, NetScaler ones included, without duplicates."""
        return all_addresses(self.addresses, self.netscaler)


class SiteFlow(_Strict):
    """A site-specific flow that the catalog does not know."""

    name: Name
    source: str = Field(description="role id or host name")
    destination: str = Field(description="role id or host name")
    protocols: tuple[Literal["tcp", "udp"], ...] = Field(default=("tcp",), min_length=1)
    ports: tuple[PortItem, ...] = Field(
        min_length=1, description="ports (443) and ranges of ports (5228-5230)"
    )
    description: str = ""
    tls: bool = False
    service: str | None = None
    via: NetScalerAddress | None = Field(
        default=None,
        description="version 2: the address of the NetScaler end the flow uses (nsip, vip, "
        "snip, aaa); by default SNIP from a NetScaler, NSIP from admins to it, VIP otherwise",
    )

    @property
    def port_set(self) -> PortSet:
        """The flow's ports, ranges kept as ranges."""
        return ports_of(self.ports)


class Proxy(_Strict):
    """The site's outbound web proxy: flows to names no packet filter can match go through it."""

    host: str | None = Field(default=None, description="a host of the site (any role)")
    address: AddressText | None = Field(default=None, description="or the proxy's address")
    port: Port = Field(description="the port clients connect to (3128, 8080...)")

    @model_validator(mode="after")
    def _one_way_to_reach_it(self) -> Proxy:
        if (self.host is None) == (self.address is None):
            raise HintedValueError(
                _("the proxy needs a 'host' or an 'address' (one of them)"),
                _("host: a host name of the site, or address: its IP address"),
            )
        if self.address is not None and parse_network(self.address).num_addresses != 1:
            raise HintedValueError(
                _("proxy address {address!r} is a network").format(address=self.address),
                _("give a single address"),
            )
        return self


class External(_Strict):
    """How the flows to one Internet service (a catalog role) are opened."""

    internet: Literal["any", "names"] = Field(
        description="any: any Internet address on the flow's ports (say why under 'reason'); "
        "names: the service's names (name sets, FQDN objects), overriding the catalog's 'any'"
    )
    reason: str | None = Field(
        default=None, description="why (required with 'any': it goes into the rules' comments)"
    )

    @model_validator(mode="after")
    def _any_says_why(self) -> External:
        if self.internet == "any" and not (self.reason or "").strip():
            raise HintedValueError(
                _("'internet: any' needs a reason"),
                _("add 'reason: ...': it is written into the rules' comments"),
            )
        return self


class SiteRole(_Strict):
    """A role the catalog does not know (an Exchange server for ActiveSync, a SIEM...),
    declared by the site for its own flows and hosts (version 2)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="role id used by hosts and flows")
    name: Text = Field(description="the role's name, in French and English")
    kind: RoleKind = "server"


class Site(_Strict):
    """A deployment: zones, firewalls, hosts per role, options."""

    version: Literal[1, 2] = Field(description="format version of the site file")
    name: str = Field(min_length=1)
    description: str | None = None
    catalog: str = Field(default="xenmobile-10", description="catalog id or file")
    zones: tuple[Zone, ...] = Field(min_length=1)
    firewalls: tuple[Firewall, ...] = ()
    roles: tuple[SiteRole, ...] = Field(
        default=(), description="version 2: the site's own roles, beside the catalog's"
    )
    hosts: tuple[Host, ...] = ()
    features: dict[str, bool] = Field(default_factory=dict, description="feature id -> on/off")
    choices: dict[str, Port] = Field(
        default_factory=dict, description="requirement id -> the alternative port used"
    )
    flows: tuple[SiteFlow, ...] = Field(default=(), description="site-specific extra flows")
    proxy: Proxy | None = Field(
        default=None,
        description="outbound web proxy: web flows to wildcards and to names without stable "
        "addresses go through it",
    )
    external: dict[str, External] = Field(
        default_factory=dict,
        description="Internet service role id -> how its flows are opened (internet: any | names)",
    )
    publish: dict[str, Literal["direct", "netscaler-lb"]] = Field(
        default_factory=dict,
        description="version 2: role id -> how the Internet reaches its servers: direct (as "
        "the page draws it), or netscaler-lb (Internet -> the NetScaler's VIP, its SNIP -> the "
        "servers)",
    )
    exclude: dict[str, str] = Field(
        default_factory=dict,
        description="version 2: requirement id -> why the site does not want it (left out of "
        "the plan, with the reason shown in 'plan --explain', the HTML and the XLSX)",
    )
    keep_obsolete: bool | tuple[str, ...] = Field(
        default=False,
        description="open obsolete and legacy requirements anyway: true for all, or a list of "
        "requirement ids (by default they are in the matrix, marked, and not opened)",
    )

    def with_own_roles(self, catalog: Catalog) -> Catalog:
        """``catalog`` with the site's own roles added (the catalog itself when none)."""
        if not self.roles:
            return catalog
        own = tuple(Role(id=r.id, name=r.name, kind=r.kind) for r in self.roles)
        return catalog.model_copy(update={"roles": (*catalog.roles, *own)})

    def keeps(self, requirement: str) -> bool:
        """Whether the site keeps this obsolete or legacy requirement open."""
        if isinstance(self.keep_obsolete, bool):
            return self.keep_obsolete
        return requirement in self.keep_obsolete

    @field_validator("version", mode="before")
    @classmethod
    def _known_version(cls, value: object) -> object:
        if isinstance(value, bool) or value not in SITE_VERSIONS:
            raise HintedValueError(
                _("unsupported site version {version!r}").format(version=value),
                _("this flowmatrix reads versions {versions}").format(
                    versions=_(" and ").join(map(str, SITE_VERSIONS))
                ),
            )
        return value


def _duplicates(names: Sequence[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    found = []
    for index, name in enumerate(names):
        if name in seen:
            found.append((index, name))
        seen.add(name)
    return found
