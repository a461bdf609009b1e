"""The site's address translations checked (``nat:`` of a firewall, site format 2): every
name and address resolves, each public address and port reaches one host, and the
public side faces the outside. Each problem is one located error."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from flowmatrix.model import Nat
from flowmatrix.nat import host_with_address, outside_zone, published_address
from flowmatrix.nat import resolve as resolve_nat
from flowmatrix.site import Firewall, Site, parse_network
from flowmatrix.topology import ZoneIndex
from flowmatrix.yamlio import YamlDocument


def _suggest(word: str, choices: Iterable[str]) -> str:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(options) or 'none'}"


def check_nat(doc: YamlDocument, site: Site) -> None:
    zones = ZoneIndex.from_site(site)
    for fi, firewall in enumerate(site.firewalls):
        if firewall.nat is None:
            continue
        where: list[str | int] = ["firewalls", fi, "nat"]
        if site.version == 1:
            raise doc.error(
                where,
                "address translations need site version 2",
                "set 'version: 2' (flowmatrix site upgrade FILE writes it)",
            )
        outside = _check_outside(doc, site, firewall, where)
        _check_published(doc, site, zones, firewall, outside, [*where, "destination"])
        _check_leaving(doc, site, zones, firewall, outside, [*where, "source"])
    _check_claims(doc, resolve_nat(site))


def _check_outside(
    doc: YamlDocument, site: Site, firewall: Firewall, where: list[str | int]
) -> str:
    assert firewall.nat is not None
    given = firewall.nat.outside
    if given is not None and given not in firewall.zones:
        raise doc.error(
            [*where, "outside"],
            f"nat outside zone {given!r} is not a zone of firewall {firewall.name!r}",
            f"its zones: {', '.join(firewall.zones)}",
        )
    outside = outside_zone(site, firewall)
    if outside is None:
        raise doc.error(
            where,
            f"firewall {firewall.name!r} has no Internet zone for its public addresses",
            "say which of its zones they face: 'outside: ZONE' under nat",
        )
    return outside


def _zone_of(zones: ZoneIndex, address: str) -> str | None:
    return zones.zone_of(parse_network(address))


def _check_published(
    doc: YamlDocument,
    site: Site,
    zones: ZoneIndex,
    firewall: Firewall,
    outside: str,
    where: list[str | int],
) -> None:
    assert firewall.nat is not None
    hosts = {h.name: h for h in site.hosts}
    for di, published in enumerate(firewall.nat.destination):
        at: list[str | int] = [*where, di]
        if parse_network(published.public).num_addresses != 1:
            raise doc.error(
                [*at, "public"],
                f"public address {published.public!r} is a network",
                "publish one address per entry",
            )
        zone = _zone_of(zones, published.public)
        if zone != outside:
            raise doc.error(
                [*at, "public"],
                f"public address {published.public} is in zone {zone!r}, not on the outside "
                f"of {firewall.name} (zone {outside!r})",
                "a published address is one the outside reaches: give an address of the "
                f"{outside} zone, or set 'outside:'",
            )
        host = hosts.get(published.to)
        private: str | None
        if host is not None:
            private = published_address(host)
            if private is None:
                choices = ", ".join(host.netscaler.vip if host.netscaler else host.addresses)
                raise doc.error(
                    [*at, "to"],
                    f"host {host.name!r} has no single address to publish ({choices})",
                    "give the address itself: 'to: ADDRESS'",
                )
        else:
            try:
                parse_network(published.to)
            except ValueError:
                raise doc.error(
                    [*at, "to"],
                    f"nat to unknown host {published.to!r}",
                    _suggest(published.to, hosts),
                ) from None
            owner = host_with_address(site, published.to)
            if owner is None:
                raise doc.error(
                    [*at, "to"],
                    f"no host of the site has address {published.to}",
                    "publish a host: its name, or one of its addresses",
                )
            private = owner[1]
        if _zone_of(zones, private) == outside:
            raise doc.error(
                [*at, "to"],
                f"{published.to} is on the outside of {firewall.name} (zone {outside!r})",
                "a published address reaches a host inside the firewall",
            )


def _check_leaving(
    doc: YamlDocument,
    site: Site,
    zones: ZoneIndex,
    firewall: Firewall,
    outside: str,
    where: list[str | int],
) -> None:
    assert firewall.nat is not None
    names = {z.name for z in site.zones} | {h.name for h in site.hosts}
    seen: set[str] = set()
    for si, leaving in enumerate(firewall.nat.source):
        at: list[str | int] = [*where, si]
        if leaving.sources not in names:
            raise doc.error(
                [*at, "from"],
                f"source NAT from unknown zone or host {leaving.sources!r}",
                _suggest(leaving.sources, names),
            )
        if leaving.sources == outside:
            raise doc.error(
                [*at, "from"],
                f"source NAT from the outside zone {outside!r} of {firewall.name}",
                "translate a zone or host inside the firewall",
            )
        if leaving.sources in seen:
            raise doc.error(
                [*at, "from"],
                f"source NAT from {leaving.sources!r} is given twice on {firewall.name}",
                "one translation per zone or host",
            )
        seen.add(leaving.sources)
        if not leaving.masquerade and _zone_of(zones, leaving.leaves_as) != outside:
            raise doc.error(
                [*at, "as"],
                f"source NAT address {leaving.leaves_as} is not on the outside of "
                f"{firewall.name} (zone {outside!r})",
                f"give an address of the {outside} zone, or 'masquerade'",
            )


def _check_claims(doc: YamlDocument, translations: tuple[Nat, ...]) -> None:
    """One public address and port reaches one host."""
    claimed: list[Nat] = []
    for nat in translations:
        if nat.kind != "destination":
            continue
        for earlier in claimed:
            if earlier.public != nat.public:
                continue
            if nat.ports is None or earlier.ports is None:
                shared = "every port"
            elif nat.ports.intersection(earlier.ports):
                shared = "port " + nat.ports.intersection(earlier.ports).text(",")
            else:
                continue
            line, _ = doc.position([*earlier.site_path, "public"])
            raise doc.error(
                [*nat.site_path, "public"],
                f"public address {nat.public} is published twice on {shared} (also on line "
                f"{line}, by firewall {earlier.firewall})",
                "one public address and port reaches one host: give other ports or addresses",
            )
        claimed.append(nat)
