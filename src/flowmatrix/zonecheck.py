"""The site's zones checked against each other: nesting (site format 2), and the private
addresses that fall into the Internet zone (warnings, each located)."""

from __future__ import annotations

import ipaddress

from flowmatrix.i18n import _
from flowmatrix.site import IPNetwork, Site, parse_network
from flowmatrix.topology import ZoneIndex
from flowmatrix.yamlio import YamlDocument

Place = tuple[list[str | int], str, str]
"""Where an address is written, what holds it ("host 'dc1'"), the address."""


def check_zones(doc: YamlDocument, site: Site) -> None:
    internet = [i for i, z in enumerate(site.zones) if z.internet]
    if len(internet) > 1:
        raise doc.error(
            ["zones", internet[1], "internet"],
            _("more than one internet zone"),
            _("only one zone can hold 'everything else'"),
        )
    seen: list[tuple[int, int, IPNetwork]] = []
    inside: dict[tuple[int, int], tuple[IPNetwork, IPNetwork]] = {}  # (inner, outer) zone
    for zi, zone in enumerate(site.zones):
        for ci, cidr in enumerate(zone.cidrs):
            network = parse_network(cidr)
            for other_zi, other_ci, other in seen:
                if other_zi == zi or other.version != network.version:
                    continue
                if other.overlaps(network):  # CIDRs that share addresses: one holds the other
                    _check_nesting(doc, site, (zi, ci, network), (other_zi, other_ci, other))
                    longer = network.prefixlen > other.prefixlen  # the longer prefix is inside
                    inner, outer = (network, other) if longer else (other, network)
                    pair = (zi, other_zi) if inner is network else (other_zi, zi)
                    reverse = inside.get((pair[1], pair[0]))
                    if reverse is not None:
                        raise doc.error(
                            ["zones", zi, "cidrs", ci],
                            _(
                                "zone {zone!r} lies inside zone {other!r} ({inner} in {outer}) "
                                "and holds part of it ({held} in {holder})"
                            ).format(
                                zone=site.zones[pair[0]].name,
                                other=site.zones[pair[1]].name,
                                inner=inner,
                                outer=outer,
                                held=reverse[0],
                                holder=reverse[1],
                            ),
                            _("a zone may nest inside another, not both ways: split the networks"),
                        )
                    inside.setdefault(pair, (inner, outer))
            seen.append((zi, ci, network))


def _check_nesting(
    doc: YamlDocument,
    site: Site,
    mine: tuple[int, int, IPNetwork],
    theirs: tuple[int, int, IPNetwork],
) -> None:
    """Two zones' networks that share addresses: allowed when one lies inside the other
    (the most specific zone holds an address), in format 2, outside the Internet zone."""
    zi, ci, network = mine
    other_zi, _other_ci, other = theirs
    zone, other_zone = site.zones[zi], site.zones[other_zi]
    where: list[str | int] = ["zones", zi, "cidrs", ci]
    if network == other:
        raise doc.error(
            where,
            _("zones {first!r} and {second!r} both hold {network}").format(
                first=other_zone.name, second=zone.name, network=network
            ),
            _("a network belongs to one zone: remove it from one of them"),
        )
    inner, outer = (zone, other_zone) if network.prefixlen > other.prefixlen else (other_zone, zone)
    if site.version == 1:
        raise doc.error(
            where,
            _("zone {zone!r} overlaps zone {other_zone!r} ({network} and {other})").format(
                zone=zone.name, other_zone=other_zone.name, network=network, other=other
            ),
            _(
                "zones must not share addresses in site version 1; nested zones need "
                "'version: 2' (flowmatrix site upgrade FILE writes it)"
            ),
        )
    if outer.internet or inner.internet:
        internet, other_one = (outer, inner) if outer.internet else (inner, outer)
        raise doc.error(
            where,
            _(
                "zone {zone!r} shares addresses with the Internet zone {internet!r} "
                "({network} and {other})"
            ).format(zone=other_one.name, internet=internet.name, network=network, other=other),
            _(
                "the Internet zone holds every address of no other zone: "
                "do not nest zones in its networks, or it in theirs"
            ),
        )


#: Addresses no Internet host has: RFC 1918, shared address space (RFC 6598, carrier-grade
#: NAT), IPv6 unique local (RFC 4193). One of them in the Internet zone is most likely a
#: typo, or a network the site forgot to declare.
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


def private_in_the_internet(
    doc: YamlDocument, site: Site, in_the_internet: list[Place]
) -> tuple[str, ...]:
    """A warning for each private address that falls into the Internet zone (it is in no
    declared zone), naming the nearest zone."""
    internet = next((z.name for z in site.zones if z.internet), None)
    proxy = site.proxy.address if site.proxy is not None else None
    places = list(in_the_internet)
    if proxy is not None and ZoneIndex.of(site.zones).zone_of(parse_network(proxy)) == internet:
        places.append((["proxy", "address"], _("the proxy"), proxy))
    found: list[str] = []
    for where, what, address in places:
        network = parse_network(address)
        if not any(network.version == p.version and network.subnet_of(p) for p in _PRIVATE):  # type: ignore[arg-type]
            continue
        nearest = _nearest_zone(site, network)
        hint = _("add its network to a zone's cidrs, or fix the address")
        if nearest is not None:
            hint = _("nearest zone: {zone} ({cidr}); {hint}").format(
                zone=nearest[0], cidr=nearest[1], hint=hint
            )
        message = _(
            "{what}: private address {address} is in no declared zone, so it counts as "
            "the Internet ({internet})"
        ).format(what=what, address=address, internet=internet)
        found.append(str(doc.error(where, message, hint)))
    return tuple(found)


def _nearest_zone(site: Site, network: IPNetwork) -> tuple[str, str] | None:
    """The zone CIDR sharing the longest prefix with ``network``."""
    best: tuple[int, str, str] | None = None
    width = network.max_prefixlen
    for zone in site.zones:
        for cidr in zone.cidrs:
            candidate = parse_network(cidr)
            if candidate.version != network.version:
                continue
            common = (
                width - (int(candidate.network_address) ^ int(network.network_address)).bit_length()
            )
            if best is None or common > best[0]:
                best = (common, zone.name, cidr)
    return None if best is None else (best[1], best[2])
