"""The site as the plan carries it downstream: zones, firewalls, hosts and the proxy, as
plain frozen data (standard library only).

``site.py`` reads and validates the site file (pydantic); ``plan_views`` turns the
validated site into these records once, when the plan is built, and every package after
the plan (rules, lab, audit, report, fleet, the remote probe) reads them through
``Plan.site``. The field names are the site file's, so a reader of the file knows them;
what the validated model says in two ways (version 1 ``role`` and version 2 ``roles``)
is said once here (``roles``). The topology computed from them (zone networks, the
Internet's complement, paths between zones) is ``SiteView.topology``, computed once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from flowmatrix.topology import Topology

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Zone:
    """A network zone: its CIDRs, and whether it is the Internet (every address that is
    in no other zone)."""

    name: str
    cidrs: tuple[str, ...] = ()
    internet: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Firewall:
    """A firewall and the zones it joins; ``interfaces`` maps a zone to the interface
    (or the vendor zone) that faces it, where the site says so."""

    name: str
    zones: tuple[str, ...]
    interfaces: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NetScalerAddresses:
    """The addresses of a NetScaler: which one a flow uses depends on the flow."""

    nsip: str | None = None
    vip: tuple[str, ...] = ()
    snip: tuple[str, ...] = ()
    aaa: str | None = None


class NetScalerLike(Protocol):
    """A NetScaler's addresses, validated (``site.NetScalerAddresses``) or plain."""

    @property
    def nsip(self) -> str | None: ...
    @property
    def vip(self) -> tuple[str, ...]: ...
    @property
    def snip(self) -> tuple[str, ...]: ...
    @property
    def aaa(self) -> str | None: ...


def all_addresses(addresses: tuple[str, ...], netscaler: NetScalerLike | None) -> tuple[str, ...]:
    """Every address of a host, NetScaler ones included, without duplicates."""
    found: dict[str, None] = dict.fromkeys(addresses)
    if netscaler is not None:
        for item in (netscaler.nsip, *netscaler.vip, *netscaler.snip, netscaler.aaa):
            if item is not None:
                found.setdefault(item, None)
    return tuple(found)


def serves(kind: str | None, part: str | None) -> bool:
    """Whether a host of ``kind`` is the part of its role a flow needs (None: any part)."""
    return part is None or kind in (None, "both", part)


@dataclass(frozen=True, slots=True)
class Host:
    """A host, a cluster node or a network of clients, in one role or several."""

    name: str
    roles: tuple[str, ...]
    """The host's roles, the first one being the one it is shown with."""
    addresses: tuple[str, ...] = ()
    fqdn: str | None = None
    zone: str | None = None
    """As the site gives it (None: inferred from the addresses)."""
    netscaler: NetScalerAddresses | None = None
    kind: str | None = None
    """Which part of its role the host is, where the role lumps several."""
    description: str | None = None

    @property
    def role_ids(self) -> tuple[str, ...]:
        return self.roles

    def serves(self, part: str | None) -> bool:
        return serves(self.kind, part)

    def all_addresses(self) -> tuple[str, ...]:
        return all_addresses(self.addresses, self.netscaler)


@dataclass(frozen=True, slots=True)
class Proxy:
    """The site's outbound web proxy: a host of the site, or an address."""

    port: int
    host: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class SiteFlow:
    """A site-specific flow as the site file writes it (reports show it beside the
    catalog's requirements)."""

    name: str
    source: str
    destination: str
    protocols: tuple[str, ...]
    ports: tuple[int | str, ...]
    """As written: ports and ``low-high`` ranges."""
    description: str = ""


@dataclass(frozen=True)
class SiteView:
    """The site, as everything after the plan reads it."""

    name: str
    zones: tuple[Zone, ...]
    firewalls: tuple[Firewall, ...] = ()
    hosts: tuple[Host, ...] = ()
    proxy: Proxy | None = None
    flows: tuple[SiteFlow, ...] = ()
    description: str | None = None
    catalog: str = ""
    """The catalog the site names (id or file)."""

    @cached_property
    def topology(self) -> Topology:
        """Zone networks, address to zone, paths and the Internet's complement: computed
        once per site, shared by rules, lab, audit and report."""
        from flowmatrix.topology import Topology

        return Topology(self.zones, self.firewalls)

    def firewall(self, name: str) -> Firewall | None:
        return next((f for f in self.firewalls if f.name == name), None)

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)

    @property
    def internet(self) -> str | None:
        """The name of the Internet zone, if the site has one."""
        return self.topology.internet

    def __getstate__(self) -> dict[str, object]:
        # the topology is recomputed after unpickling (it is cheap, and caches by site)
        return {k: v for k, v in self.__dict__.items() if k != "topology"}
