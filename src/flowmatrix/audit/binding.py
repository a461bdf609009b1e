"""Which interface of a vendor's configuration each zone of the site is.

The site's firewall may say it (``interfaces: {dmz: port2}``): the value names an
interface of the configuration, or one of its zones. Otherwise a zone of the
configuration with the site zone's name is taken, then the interface whose own
address lies in the zone's networks; the Internet zone is the interface of the default
route, or the one interface left. The answer is the interface name the IR's rules use
(for a zone: one of its interfaces, or ``zone:<name>`` when the file lists none), and
each choice is said in a note.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from flowmatrix.audit.device import ZONE_PREFIX, Device
from flowmatrix.i18n import N_, _
from flowmatrix.networks import IPNetwork
from flowmatrix.site_view import Firewall, SiteView


def bind_zones(site: SiteView, firewall: Firewall, device: Device) -> tuple[Firewall, list[str]]:
    """``firewall`` with its ``interfaces`` filled in from the configuration, and notes."""
    if not device.interfaces and not device.zones:
        note = _(
            "the {vendor} configuration names no interface: its rules apply on every "
            "interface (the site's zones are not bound to it)"
        ).format(vendor=device.vendor)
        return firewall, [note]
    zones = {z.name: z for z in site.zones}
    own = site.topology.own_networks  # nested zones' networks are not their container's
    names = {i.name: i for i in device.interfaces}
    by_lower = {n.lower(): n for n in names}
    vendor_zones = device.zones or {}
    zone_lower = {z.lower(): z for z in vendor_zones}
    chosen: dict[str, str] = {}
    notes: list[str] = []
    taken: set[str] = set()

    def say(zone: str, name: str, how: str) -> None:
        chosen[zone] = name
        taken.add(name)
        member_of = device.zone_of(name)
        shown = name[len(ZONE_PREFIX) :] if name.startswith(ZONE_PREFIX) else name
        if name.startswith(ZONE_PREFIX):
            text = _("site zone {zone} is {vendor} zone {name}: {how}")
        elif member_of:
            text = _("site zone {zone} is {vendor} interface {name} (zone {member}): {how}")
        else:
            text = _("site zone {zone} is {vendor} interface {name}: {how}")
        notes.append(
            text.format(zone=zone, vendor=device.vendor, name=shown, member=member_of, how=_(how))
        )

    pending = []
    for zone_name in firewall.zones:
        given = firewall.interfaces.get(zone_name)
        networks = own.get(zone_name, ())
        if given is not None and given in names:
            say(zone_name, given, N_("the site's interfaces"))
        elif given is not None and given in vendor_zones:
            say(zone_name, _member(device, given, networks), N_("the site's interfaces"))
        elif zone_name.lower() in by_lower:
            say(zone_name, by_lower[zone_name.lower()], N_("same name"))
        elif zone_name.lower() in zone_lower:
            name = zone_lower[zone_name.lower()]
            say(zone_name, _member(device, name, networks), N_("same name"))
        else:
            pending.append(zone_name)
    left = []
    for zone_name in pending:
        found = _by_subnet(device, own.get(zone_name, ()), taken)
        if found is not None:
            say(zone_name, found, N_("its address is in the zone's networks"))
        else:
            left.append(zone_name)
    for zone_name in left:
        site_zone = zones.get(zone_name)
        if site_zone is None or not site_zone.internet:
            continue
        route = device.default_route
        if route is not None and route not in taken:
            say(zone_name, route, N_("the default route goes there"))
            continue
        free = [i.name for i in device.interfaces if i.addresses and i.name not in taken]
        if len(free) == 1:
            say(zone_name, free[0], N_("the only interface left"))
    for zone_name in firewall.zones:
        if zone_name not in chosen:
            given = firewall.interfaces.get(zone_name)
            text = (
                _(
                    "site zone {zone}: no interface of the configuration found (the site's "
                    "{given!r} is not in it); rules on its interfaces or zones depend on it "
                    "(name one in the site's interfaces)"
                )
                if given
                else _(
                    "site zone {zone}: no interface of the configuration found; "
                    "rules on its interfaces or zones depend on it (name one in the site's "
                    "interfaces)"
                )
            )
            notes.append(text.format(zone=zone_name, given=given))
    return replace(firewall, interfaces=chosen), notes


def _member(device: Device, zone: str, networks: tuple[IPNetwork, ...]) -> str:
    """The interface standing for a configuration zone: the member in the site zone's
    own networks, else the first member, else the zone itself."""
    members = [m for m in (device.zones or {}).get(zone, ()) if not m.startswith(ZONE_PREFIX)]
    by_name = {i.name: i for i in device.interfaces}
    for member in members:
        iface = by_name.get(member)
        if iface is not None and _overlaps(iface.addresses, networks):
            return member
    return members[0] if members else ZONE_PREFIX + zone


def _by_subnet(device: Device, networks: tuple[IPNetwork, ...], taken: set[str]) -> str | None:
    best: tuple[int, str] | None = None
    for iface in device.interfaces:
        if iface.name in taken:
            continue
        for text in iface.addresses:
            net = ipaddress.ip_interface(text).network
            for mine in networks:
                if mine.version == net.version and (
                    net.subnet_of(mine) or mine.subnet_of(net)  # type: ignore[arg-type]
                ):
                    score = net.prefixlen
                    if best is None or score > best[0]:
                        best = (score, iface.name)
    return None if best is None else best[1]


def _overlaps(addresses: tuple[str, ...], networks: tuple[IPNetwork, ...]) -> bool:
    for text in addresses:
        net = ipaddress.ip_interface(text).network
        for mine in networks:
            if mine.version == net.version and net.overlaps(mine):
                return True
    return False
