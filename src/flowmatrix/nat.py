"""The site's address translations (``nat:`` of a firewall, site format 2), resolved, and
which of them each planned flow goes through.

A flow's ends keep the addresses the hosts really have. A published address (static
destination NAT) applies to a flow that enters its firewall from the outside zone toward
the host's address; a source NAT applies to a flow of its zone or host that leaves the
firewall into the outside zone. ``Flow.seen_by`` and the others then give each place on
the way the address it sees. The site check (``natcheck.py``) has made sure every name
and address here resolves.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from flowmatrix.i18n import _
from flowmatrix.model import FlowEnd, Nat
from flowmatrix.portset import PortSet
from flowmatrix.site import Firewall, Host, Site
from flowmatrix.topology import Topology, zone_networks


def outside_zone(site: Site, firewall: Firewall) -> str | None:
    """The zone a firewall's public addresses face: ``nat.outside``, else its Internet zone."""
    if firewall.nat is not None and firewall.nat.outside is not None:
        return firewall.nat.outside
    internet = {z.name for z in site.zones if z.internet}
    return next((z for z in firewall.zones if z in internet), None)


def published_address(host: Host) -> str | None:
    """The address a published host is reached on: a NetScaler's one VIP, another host's
    one single address; None when that is not one address (the site must say which)."""
    if host.netscaler is not None and host.netscaler.vip:
        candidates: Sequence[str] = host.netscaler.vip
    else:
        candidates = host.addresses
    singles = [a for a in candidates if _single(a)]
    return singles[0] if len(singles) == 1 and len(candidates) == 1 else None


def _single(text: str) -> bool:
    try:
        return ipaddress.ip_network(text, strict=False).num_addresses == 1
    except ValueError:
        return False


def _same_address(a: str, b: str) -> bool:
    return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)


def host_with_address(site: Site, address: str) -> tuple[Host, str] | None:
    """The host that has ``address`` (as the host writes it), if any."""
    for host in site.hosts:
        for own in host.all_addresses():
            if _single(own) and _same_address(own, address):
                return host, own
    return None


def resolve(site: Site) -> tuple[Nat, ...]:
    """Every translation of the site's firewalls, in site order."""
    found: list[Nat] = []
    hosts = {h.name: h for h in site.hosts}
    zones = {z.name for z in site.zones}
    for fi, firewall in enumerate(site.firewalls):
        if firewall.nat is None:
            continue
        outside = outside_zone(site, firewall)
        if outside is None:
            continue
        for di, published in enumerate(firewall.nat.destination):
            host = hosts.get(published.to)
            if host is not None:
                private = published_address(host)
                subject = host.name
            else:
                owner = host_with_address(site, published.to)
                private = owner[1] if owner else None
                subject = owner[0].name if owner else published.to
            if private is None:
                continue
            found.append(
                Nat(
                    firewall.name,
                    "destination",
                    outside,
                    str(ipaddress.ip_network(published.public, strict=False).network_address),
                    (private,),
                    subject,
                    published.port_set,
                    ("firewalls", fi, "nat", "destination", di),
                )
            )
        for si, leaving in enumerate(firewall.nat.source):
            translated: tuple[str, ...]
            if leaving.sources in zones:
                networks = zone_networks(site.zones).get(leaving.sources, ())
                translated = tuple(str(n) for n in networks)
            else:
                owner_host = hosts.get(leaving.sources)
                translated = owner_host.all_addresses() if owner_host is not None else ()
            found.append(
                Nat(
                    firewall.name,
                    "source",
                    outside,
                    "" if leaving.masquerade else leaving.leaves_as,
                    translated,
                    leaving.sources,
                    None,
                    ("firewalls", fi, "nat", "source", si),
                )
            )
    return tuple(found)


@dataclass
class NatPath:
    """Finds the translations a flow goes through (the planner asks once per flow)."""

    topology: Topology
    translations: tuple[Nat, ...]
    warnings: list[str] = field(default_factory=list)

    def of(
        self,
        flow_id: str,
        source: FlowEnd,
        destination: FlowEnd,
        ports: PortSet,
        firewalls: tuple[str, ...],
    ) -> tuple[Nat, ...]:
        if not self.translations or not firewalls:
            return ()
        zones = self.topology.walk(source.zone, destination.zone, firewalls)
        if zones is None:
            return ()
        found: list[Nat] = []
        for nat in self.translations:
            if nat.firewall not in firewalls:
                continue
            index = firewalls.index(nat.firewall)
            entering, leaving = zones[index], zones[index + 1]
            if nat.kind == "destination":
                if entering != nat.outside or not _reaches(destination, nat):
                    continue
                if nat.ports is not None:
                    shared = ports.intersection(nat.ports)
                    if not shared:
                        continue
                    if shared != ports:
                        self.warnings.append(
                            _(
                                "{flow}: ports {ports} of the flow to {address} are not "
                                "published by {nat}"
                            ).format(
                                flow=flow_id,
                                ports=ports.difference(nat.ports).text(","),
                                address=nat.private[0],
                                nat=nat.describe(),
                            )
                        )
                found.append(nat)
            elif leaving == nat.outside and _leaves(source, nat):
                found.append(nat)
        return tuple(found)


def _reaches(destination: FlowEnd, nat: Nat) -> bool:
    return any(nat.private[0] in h.addresses for h in destination.hosts)


def _leaves(source: FlowEnd, nat: Nat) -> bool:
    if source.zone == nat.subject:
        return True
    return any(h.name == nat.subject for h in source.hosts)
