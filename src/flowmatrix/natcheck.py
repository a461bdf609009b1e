"""The site's address translations checked (``nat:`` of a firewall, site format 2): every
name and address resolves, each public address and port reaches one host, and the
public side faces the outside. Each problem is one located error."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from flowmatrix.i18n import _
from flowmatrix.model import Nat
from flowmatrix.nat import host_with_address, outside_zone, published_address
from flowmatrix.nat import resolve as resolve_nat
from flowmatrix.site import Firewall, Site, parse_network
from flowmatrix.topology import ZoneIndex
from flowmatrix.yamlio import YamlDocument


def _suggest(word: str, choices: Iterable[str]) -> str:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return _("did you mean {name!r}?").format(name=close[0])
    return _("known: {names}").format(names=", ".join(options) or _("none"))


def check_nat(doc: YamlDocument, site: Site) -> None:
    zones = ZoneIndex.of(site.zones)
    for fi, firewall in enumerate(site.firewalls):
        if firewall.nat is None:
            continue
        where: list[str | int] = ["firewalls", fi, "nat"]
        if site.version == 1:
            raise doc.error(
                where,
                _("address translations need site version 2"),
                _("set 'version: 2' (flowmatrix site upgrade FILE writes it)"),
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
            _("nat outside zone {zone!r} is not a zone of firewall {firewall!r}").format(
                zone=given, firewall=firewall.name
            ),
            _("its zones: {zones}").format(zones=", ".join(firewall.zones)),
        )
    outside = outside_zone(site, firewall)
    if outside is None:
        raise doc.error(
            where,
            _("firewall {firewall!r} has no Internet zone for its public addresses").format(
                firewall=firewall.name
            ),
            _("say which of its zones they face: 'outside: ZONE' under nat"),
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
                _("public address {address!r} is a network").format(address=published.public),
                _("publish one address per entry"),
            )
        zone = _zone_of(zones, published.public)
        if zone != outside:
            raise doc.error(
                [*at, "public"],
                _(
                    "public address {address} is in zone {zone!r}, not on the outside "
                    "of {firewall} (zone {outside!r})"
                ).format(
                    address=published.public, zone=zone, firewall=firewall.name, outside=outside
                ),
                _(
                    "a published address is one the outside reaches: give an address of the "
                    "{outside} zone, or set 'outside:'"
                ).format(outside=outside),
            )
        host = hosts.get(published.to)
        private: str | None
        if host is not None:
            private = published_address(host)
            if private is None:
                choices = ", ".join(host.netscaler.vip if host.netscaler else host.addresses)
                raise doc.error(
                    [*at, "to"],
                    _("host {host!r} has no single address to publish ({choices})").format(
                        host=host.name, choices=choices
                    ),
                    _("give the address itself: 'to: ADDRESS'"),
                )
        else:
            try:
                parse_network(published.to)
            except ValueError:
                raise doc.error(
                    [*at, "to"],
                    _("nat to unknown host {host!r}").format(host=published.to),
                    _suggest(published.to, hosts),
                ) from None
            owner = host_with_address(site, published.to)
            if owner is None:
                raise doc.error(
                    [*at, "to"],
                    _("no host of the site has address {address}").format(address=published.to),
                    _("publish a host: its name, or one of its addresses"),
                )
            private = owner[1]
        if _zone_of(zones, private) == outside:
            raise doc.error(
                [*at, "to"],
                _("{target} is on the outside of {firewall} (zone {outside!r})").format(
                    target=published.to, firewall=firewall.name, outside=outside
                ),
                _("a published address reaches a host inside the firewall"),
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
                _("source NAT from unknown zone or host {name!r}").format(name=leaving.sources),
                _suggest(leaving.sources, names),
            )
        if leaving.sources == outside:
            raise doc.error(
                [*at, "from"],
                _("source NAT from the outside zone {outside!r} of {firewall}").format(
                    outside=outside, firewall=firewall.name
                ),
                _("translate a zone or host inside the firewall"),
            )
        if leaving.sources in seen:
            raise doc.error(
                [*at, "from"],
                _("source NAT from {name!r} is given twice on {firewall}").format(
                    name=leaving.sources, firewall=firewall.name
                ),
                _("one translation per zone or host"),
            )
        seen.add(leaving.sources)
        if not leaving.masquerade and _zone_of(zones, leaving.leaves_as) != outside:
            raise doc.error(
                [*at, "as"],
                _(
                    "source NAT address {address} is not on the outside of "
                    "{firewall} (zone {outside!r})"
                ).format(address=leaving.leaves_as, firewall=firewall.name, outside=outside),
                _("give an address of the {outside} zone, or 'masquerade'").format(outside=outside),
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
                shared = _("every port")
            elif nat.ports.intersection(earlier.ports):
                shared = _("port {ports}").format(
                    ports=nat.ports.intersection(earlier.ports).text(",")
                )
            else:
                continue
            line, _col = doc.position([*earlier.site_path, "public"])
            raise doc.error(
                [*nat.site_path, "public"],
                _(
                    "public address {address} is published twice on {shared} (also on line "
                    "{line}, by firewall {firewall})"
                ).format(address=nat.public, shared=shared, line=line, firewall=earlier.firewall),
                _("one public address and port reaches one host: give other ports or addresses"),
            )
        claimed.append(nat)
