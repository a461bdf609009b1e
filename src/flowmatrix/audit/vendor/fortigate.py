"""FortiGate (FortiOS) configurations as an IR ruleset.

The policy table is evaluated top down in the order it is listed (not by policy id);
the first enabled policy whose interfaces, addresses, service and schedule match
decides; nothing matching is the implicit deny (policy 0). Interfaces may be zones
(``config system zone``), addresses are objects and groups (``exclude-member``
subtracts), FQDN objects match the plan's ends of that name, geography, dynamic and
ISDB (``internet-service``) objects make the verdict depend on them. A VIP in a
policy's destination matches the connections it translates (the policy sees the
mapped address), see ``docs/audit.md``; an accepting policy with ``set nat enable`` is a
source translation (to its IP pool, ``config firewall ippool``, or the interface's
address).

Size: one vendor's configuration language read whole: interfaces and zones, address
and service objects and groups, VIPs, policies and VDOMs, whose meanings depend on each
other.
"""

from __future__ import annotations

from dataclasses import replace

from flowmatrix.audit import ranges
from flowmatrix.audit.device import Device, DeviceInterface, Translation
from flowmatrix.audit.ir import IfaceMatch, Match, Origin, Ruleset
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.vendor import wildcard
from flowmatrix.audit.vendor.build import Assembly
from flowmatrix.audit.vendor.fortios import Block, Entry, parse_fortios
from flowmatrix.audit.vendor.policy import Addresses, Policy, Service
from flowmatrix.audit.vendor.shared import (
    Nesting,
    Notes,
    address_mask,
    address_range,
    interface_network,
    network,
    port_range,
)
from flowmatrix.i18n import N_, _

TABLE = "fortigate"
_TCP, _UDP, _SCTP, _ICMP, _ICMP6 = 6, 17, 132, 1, 58


def _svc(proto: int, *ports: str) -> tuple[Service, ...]:
    return tuple(Service(frozenset({proto}), None, port_range(p)) for p in ports) or (
        Service(frozenset({proto})),
    )


#: Services FortiOS predefines (used when the file does not define them itself).
PREDEFINED_SERVICES: dict[str, tuple[Service, ...]] = {
    "ALL": (Service(),),
    "ALL_TCP": _svc(_TCP, "1-65535"),
    "ALL_UDP": _svc(_UDP, "1-65535"),
    "ALL_ICMP": _svc(_ICMP),
    "ALL_ICMP6": _svc(_ICMP6),
    "PING": _svc(_ICMP),
    "GRE": _svc(47),
    "ESP": _svc(50),
    "AH": _svc(51),
    "OSPF": _svc(89),
    "BGP": _svc(_TCP, "179"),
    "DHCP": _svc(_UDP, "67-68"),
    "DNS": _svc(_TCP, "53") + _svc(_UDP, "53"),
    "FTP": _svc(_TCP, "21"),
    "HTTP": _svc(_TCP, "80"),
    "HTTPS": _svc(_TCP, "443"),
    "IKE": _svc(_UDP, "500", "4500"),
    "IMAP": _svc(_TCP, "143"),
    "IMAPS": _svc(_TCP, "993"),
    "KERBEROS": _svc(_TCP, "88") + _svc(_UDP, "88"),
    "LDAP": _svc(_TCP, "389"),
    "LDAP_UDP": _svc(_UDP, "389"),
    "MS-SQL": _svc(_TCP, "1433", "1434"),
    "MYSQL": _svc(_TCP, "3306"),
    "NTP": _svc(_TCP, "123") + _svc(_UDP, "123"),
    "POP3": _svc(_TCP, "110"),
    "POP3S": _svc(_TCP, "995"),
    "RADIUS": _svc(_UDP, "1812", "1813"),
    "RADIUS-OLD": _svc(_UDP, "1645", "1646"),
    "RDP": _svc(_TCP, "3389"),
    "SAMBA": _svc(_TCP, "139"),
    "SMB": _svc(_TCP, "445"),
    "SMTP": _svc(_TCP, "25"),
    "SMTPS": _svc(_TCP, "465"),
    "SNMP": _svc(_TCP, "161-162") + _svc(_UDP, "161-162"),
    "SSH": _svc(_TCP, "22"),
    "SYSLOG": _svc(_UDP, "514"),
    "TELNET": _svc(_TCP, "23"),
    "TFTP": _svc(_UDP, "69"),
    "VNC": _svc(_TCP, "5900"),
}


class _Reader:
    def __init__(self, vdom: Entry, top: Entry, notes: Notes, name: str | None) -> None:
        self.vdom = vdom
        self.top = top
        self.notes = notes
        self.name = name
        self.addresses: dict[str, Addresses] = {}
        self.services: dict[str, tuple[Service, ...]] = {}
        self.interfaces: dict[str, DeviceInterface] = {}
        self.zones: dict[str, tuple[str, ...]] = {}
        self.intrazone: list[tuple[str, int]] = []
        self.vips: dict[str, tuple[Addresses, Translation | None]] = {}
        self.vip_groups: dict[str, list[str]] = {}
        self.pools: dict[str, tuple[int, Ivs]] = {}
        self.source_nat: list[Translation] = []
        self.referenced: dict[str, None] = {}
        self._iface_matches: dict[tuple[str, ...], IfaceMatch | None] = {}

    def block(self, path: str) -> Block | None:
        """A block of the VDOM, or of the global part (interfaces in multi-VDOM files)."""
        for holder in (self.vdom, self.top):
            found = holder.blocks.get(path)
            if found is not None:
                return found
        return None

    def entries(self, path: str) -> list[Entry]:
        found = self.block(path)
        return list(found.entries.values()) if found is not None else []

    # -- interfaces and zones ------------------------------------------------------------

    def read_interfaces(self) -> None:
        for entry in self.entries("system interface"):
            owner = entry.get("vdom")
            if self.name is not None and owner is not None and owner != self.name:
                continue
            addresses: list[str] = []
            ip = entry.values("ip")
            if ip and ip[0] not in ("0.0.0.0", "0.0.0.0/0"):
                found = interface_network(ip[0], ip[1] if len(ip) > 1 else None)
                if found is not None:
                    addresses.append(found)
            six = entry.blocks.get("ipv6")
            if six is not None:
                value = six.settings.get("ip6-address")
                if value is not None and value != "::/0":
                    found = interface_network(value)
                    if found is not None:
                        addresses.append(found)
            self.interfaces[entry.name] = DeviceInterface(
                entry.name, None, tuple(addresses), None, entry.line
            )
        for entry in self.entries("system zone"):
            members = tuple(entry.values("interface"))
            self.zones[entry.name] = members
            if entry.get("intrazone", "deny") == "allow":
                self.intrazone.append((entry.name, entry.line_of("intrazone")))
            for member in members:
                known = self.interfaces.get(member)
                if known is not None:
                    self.interfaces[member] = DeviceInterface(
                        member, entry.name, known.addresses, None, known.line
                    )

    def iface_match(self, names: list[str], line: int) -> IfaceMatch | None:
        """The interfaces of ``srcintf``/``dstintf`` (zones are their members), made once
        per list of names: the interfaces and zones are all known by then."""
        key = tuple(names)
        if key not in self._iface_matches:
            self._iface_matches[key] = self._iface_match(names)
        return self._iface_matches[key]

    def _iface_match(self, names: list[str]) -> IfaceMatch | None:
        if not names or "any" in names:
            return None
        exact: set[str] = set()
        for name in names:
            members = self.zones.get(name)
            if members is not None:
                exact.update(members)
            else:
                exact.add(name)
                if name not in self.interfaces:
                    self.referenced.setdefault(name, None)
        return IfaceMatch(frozenset(exact))

    # -- addresses ------------------------------------------------------------------------

    def read_addresses(self) -> None:
        for path, family in (("firewall address", 4), ("firewall address6", 6)):
            for entry in self.entries(path):
                self.addresses[_key(entry.name, family)] = self._address(entry, family)
        for family in (4, 6):
            self.addresses.setdefault(_key("all", family), Addresses.family_any(family))
            self.addresses.setdefault(_key("none", family), Addresses())
        for path, family in (("firewall vip", 4), ("firewall vip6", 6)):
            for entry in self.entries(path):
                self.vips[_key(entry.name, family)] = self._vip(entry, family)
        for entry in self.entries("firewall ippool"):
            start = entry.get("startip", "") or ""
            found = address_range(start, entry.get("endip", start) or start)
            if found is None:
                self.notes.skip(
                    entry.line, _("IP pool {name!r}: bad range").format(name=entry.name)
                )
            else:
                self.pools[entry.name] = found
        for path, family in (("firewall vipgrp", 4), ("firewall vipgrp6", 6)):
            for entry in self.entries(path):
                self.vip_groups[_key(entry.name, family)] = entry.values("member")
        groups = {
            _key(e.name, family): e
            for path, family in (("firewall addrgrp", 4), ("firewall addrgrp6", 6))
            for e in self.entries(path)
        }
        nesting = Nesting()  # a group's members are of its family: its names are enough

        def resolve(key: str, line: int) -> Addresses:
            if key in self.addresses:
                return self.addresses[key]
            group = groups.get(key)
            if group is None:
                self.notes.skip(line, _("address {name!r} is not defined").format(name=key[2:]))
                return Addresses()
            cycle = nesting.cycle(group.name)
            if cycle is not None:
                self.notes.skip(
                    line,
                    _("address group {name!r} contains itself: {cycle}").format(
                        name=group.name, cycle=cycle
                    ),
                )
                return Addresses()
            nesting.enter(group.name)
            family = int(key[0])
            found = Addresses.union_of(
                [resolve(_key(m, family), group.line_of("member")) for m in group.values("member")]
            )
            if group.get("exclude") == "enable":
                line = group.line_of("exclude-member")
                excluded = Addresses.union_of(
                    [resolve(_key(m, family), line) for m in group.values("exclude-member")]
                )
                found = found.minus(
                    excluded,
                    _("exclusions of address group {name!r}").format(name=group.name),
                )
            nesting.leave()
            self.addresses[key] = found
            return found

        for key in groups:
            resolve(key, groups[key].line)

    def _address(self, entry: Entry, family: int) -> Addresses:
        kind = entry.get("type", "ipprefix" if family == 6 else "ipmask")
        name = entry.name
        if kind in ("ipmask", "ipprefix"):
            if family == 6:
                found = network(entry.get("ip6", "::/0") or "::/0")
            else:
                subnet = entry.values("subnet") or ["0.0.0.0", "0.0.0.0"]
                found = (
                    address_mask(subnet[0], subnet[1]) if len(subnet) > 1 else network(subnet[0])
                )
            if found is None:
                self.notes.skip(
                    entry.line_of("subnet"), _("address {name!r}: bad subnet").format(name=name)
                )
                return Addresses()
            return Addresses.of(*found)
        if kind == "iprange":
            first = entry.get("start-ip", "0.0.0.0" if family == 4 else "::") or ""
            last = entry.get("end-ip", "0.0.0.0" if family == 4 else "::") or ""
            found = address_range(first, last)
            if found is None:
                self.notes.skip(entry.line, _("address {name!r}: bad range").format(name=name))
                return Addresses()
            return Addresses.of(*found)
        if kind in ("fqdn", "wildcard-fqdn"):
            value = entry.get("fqdn" if kind == "fqdn" else "wildcard-fqdn")
            if not value:
                self.notes.skip(
                    entry.line,
                    _("address {name!r}: {kind} without a name").format(name=name, kind=kind),
                )
                return Addresses()
            return Addresses(names=frozenset({value.lower().rstrip(".")}))
        if kind == "wildcard":
            mask = entry.values("wildcard") or ["0.0.0.0", "0.0.0.0"]
            found_ivs = wildcard.intervals(mask[0], mask[1] if len(mask) > 1 else "0.0.0.0")
            if found_ivs is None:
                return Addresses(
                    depends=(_("wildcard address {name!r} (too many networks)").format(name=name),)
                )
            return Addresses.of(4, found_ivs)
        if kind == "interface-subnet":
            iface = self.interfaces.get(entry.get("interface") or "")
            if iface is not None and iface.addresses:
                out = Addresses()
                for text in iface.addresses:
                    net = network(text)
                    if net is not None:
                        out = out.union(Addresses.of(*net))
                return out
            return Addresses(depends=(_("interface-subnet address {name!r}").format(name=name),))
        if kind == "geography":
            country = entry.get("country", "?")
            return Addresses(
                depends=(
                    _("geography {country} (address {name!r})").format(country=country, name=name),
                )
            )
        return Addresses(depends=(_("{kind} address {name!r}").format(kind=kind, name=name),))

    def _vip(self, entry: Entry, family: int) -> tuple[Addresses, Translation | None]:
        name = entry.name
        kind = entry.get("type", "static-nat")
        mapped = Addresses()
        for value in entry.values("mappedip"):
            found = _range_or_net(value)
            if found is not None:
                mapped = mapped.union(Addresses.of(*found))
        extip = _range_or_net(entry.get("extip", "") or "")
        if kind != "static-nat" or extip is None or not mapped.by_family:
            return (
                Addresses(depends=(_("{kind} VIP {name!r}").format(kind=kind, name=name),)),
                None,
            )
        fam, ext_ivs = extip
        forward = entry.get("portforward") == "enable"
        protos = None
        ext_port = mapped_port = None
        if forward:
            proto = {"tcp": _TCP, "udp": _UDP, "sctp": _SCTP}.get(
                entry.get("protocol", "tcp") or ""
            )
            protos = frozenset({proto}) if proto else None
            ext_port = port_range(entry.get("extport", "0") or "0")
            mapped_port = port_range(entry.get("mappedport", "") or "") or ext_port
        extintf = entry.values("extintf")
        match = Match(
            family=fam,
            dst=ext_ivs,
            protos=protos,
            dport=ext_port,
            iif=self.iface_match(extintf, entry.line),
        )
        origin = Origin(
            self.notes.file, entry.line, f"VIP {name}", TABLE, "vip", 0, None, f"VIP {name}"
        )
        translation = Translation(
            f"VIP {name}",
            "destination",
            match,
            mapped.by_family.get(fam, ()),
            mapped_port,
            origin,
            one_to_one=True,
        )
        return mapped, translation

    # -- services -------------------------------------------------------------------------

    def read_services(self) -> None:
        self.services.update(PREDEFINED_SERVICES)
        for entry in self.entries("firewall service custom"):
            self.services[entry.name] = self._service(entry)
        groups = {e.name: e for e in self.entries("firewall service group")}
        nesting = Nesting()

        def resolve(name: str, line: int) -> tuple[Service, ...]:
            if name in self.services:
                return self.services[name]
            group = groups.get(name)
            if group is None:
                self.notes.skip(line, _("service {name!r} is not defined").format(name=name))
                return ()
            cycle = nesting.cycle(name)
            if cycle is not None:
                self.notes.skip(
                    line,
                    _("service group {name!r} contains itself: {cycle}").format(
                        name=name, cycle=cycle
                    ),
                )
                return ()
            nesting.enter(name)
            line = group.line_of("member")
            found = tuple(s for member in group.values("member") for s in resolve(member, line))
            nesting.leave()
            self.services[name] = found
            return found

        for name in groups:
            resolve(name, groups[name].line)

    def _service(self, entry: Entry) -> tuple[Service, ...]:
        protocol = (entry.get("protocol", "TCP/UDP/SCTP") or "").upper()
        if protocol == "IP":
            number = int(entry.get("protocol-number", "0") or "0")
            return (Service(None if number == 0 else frozenset({number})),)
        if protocol in ("ICMP", "ICMP6"):
            proto = _ICMP if protocol == "ICMP" else _ICMP6
            typed = entry.get("icmptype")
            depends = (
                _("ICMP type {type} (service {name!r})").format(type=typed, name=entry.name)
                if typed
                else None
            )
            return (Service(frozenset({proto}), depends=depends),)
        if protocol == "ALL":
            return (Service(),)
        out: list[Service] = []
        for key, proto in (
            ("tcp-portrange", _TCP),
            ("udp-portrange", _UDP),
            ("sctp-portrange", _SCTP),
        ):
            for item in entry.values(key):
                dst_text, _ignored, src_text = item.partition(":")
                dport = port_range(dst_text)
                sport = port_range(src_text) if src_text else None
                if dport is None or (src_text and sport is None):
                    self.notes.skip(
                        entry.line_of(key),
                        _("service {name!r}: bad port range {range!r}").format(
                            name=entry.name, range=item
                        ),
                    )
                    continue
                out.append(Service(frozenset({proto}), sport, dport))
        return tuple(out)

    # -- policies -------------------------------------------------------------------------

    def policy(self, entry: Entry, key: str, asm: Assembly) -> None:
        label = f"policy {entry.name}"
        title = entry.get("name")
        text = f"{label}" + (f" {title!r}" if title else "") + ": " + _summary(entry)
        if entry.get("status", "enable") == "disable":
            self.notes.note(
                _("{file}:{line}: {policy} is disabled (status disable): not evaluated").format(
                    file=self.notes.file, line=entry.line, policy=label
                )
            )
            return
        action_word = entry.get("action", "deny") or "deny"
        action = _ACTIONS.get(action_word, "unknown")
        conditions = _conditions(entry, label)
        iif = self.iface_match(entry.values("srcintf"), entry.line)
        oif = self.iface_match(entry.values("dstintf"), entry.line)
        services = self._policy_services(entry, label)
        origin = asm.origin(key, entry.line, text, label)
        for family, src_field, dst_field in (
            (4, "srcaddr", "dstaddr"),
            (6, "srcaddr6", "dstaddr6"),
        ):
            if not entry.values(src_field) and not entry.values(dst_field):
                continue
            src = self._policy_addresses(entry, src_field, family)
            if entry.get("internet-service-src") == "enable":
                src = Addresses(depends=(_("ISDB source ({policy})").format(policy=label),))
            dst, by_vip = self._policy_destination(entry, dst_field, family)
            if entry.get("internet-service") == "enable":
                isdb = " ".join(
                    entry.values("internet-service-name") or entry.values("internet-service-id")
                )
                dst = Addresses(
                    depends=(_("ISDB {names} ({policy})").format(names=isdb or "?", policy=label),)
                )
                by_vip = {}
            plain = _UNTRANSLATED if entry.get("match-vip") != "enable" else None
            if family == 4 and action == "accept" and entry.get("nat") == "enable":
                nat = self._policy_nat(entry, label, (src, dst), services, (iif, oif))
                self.source_nat.append(nat)
            asm.add(
                key,
                Policy(
                    origin,
                    action,  # type: ignore[arg-type]
                    action_word,
                    src=src,
                    dst=dst,
                    src_negate=entry.get(f"{src_field}-negate") == "enable",
                    dst_negate=entry.get(f"{dst_field}-negate") == "enable",
                    services=services,
                    iif=iif,
                    oif=oif,
                    conditions=tuple(conditions),
                    dnat=plain,
                    dst_by_translation=by_vip,
                    family=family,
                ),
            )

    def _policy_nat(
        self,
        entry: Entry,
        label: str,
        ends: tuple[Addresses, Addresses],
        services: tuple[Service, ...],
        interfaces: tuple[IfaceMatch | None, IfaceMatch | None],
    ) -> Translation:
        """``set nat enable``: the IPv4 connections of the policy leave from its IP pool
        (``set ippool enable``, ``set poolname``) or the outgoing interface's address."""
        to: Ivs | None = None
        name = f"{label} (set nat enable)"
        if entry.get("ippool") == "enable":
            pools = entry.values("poolname")
            name = f"{label} (IP pool {' '.join(pools)})"
            for pool in pools:
                found = self.pools.get(pool)
                if found is None:
                    self.notes.skip(
                        entry.line_of("poolname"),
                        _("{policy}: IP pool {pool!r} is not defined").format(
                            policy=label, pool=pool
                        ),
                    )
                elif found[0] == 4:
                    to = ranges.union(to or (), found[1])
        src, dst = (
            None if a.everything or a.names or a.depends else a.by_family.get(4) for a in ends
        )
        origin = Origin(self.notes.file, entry.line_of("nat"), name, TABLE, "nat", 0, None, name)
        match = Match(family=4, src=src, dst=dst, iif=interfaces[0], oif=interfaces[1])
        if len(services) == 1 and services[0].depends is None:  # one service: its ports too
            match = replace(match, protos=services[0].protos, dport=services[0].dport)
        return Translation(name, "source", match, to, None, origin, one_to_one=False)

    def _policy_services(self, entry: Entry, label: str) -> tuple[Service, ...]:
        names = entry.values("service")
        if not names:
            return ()
        out: list[Service] = []
        for name in names:
            found = self.services.get(name)
            if found is None:
                self.notes.skip(
                    entry.line_of("service"),
                    _("{policy}: service {name!r} is not defined").format(policy=label, name=name),
                )
                continue
            out.extend(found)
        if entry.get("service-negate") == "enable":
            return (Service(depends=_("negated service ({policy})").format(policy=label)),)
        return tuple(out)

    def _policy_addresses(self, entry: Entry, field_name: str, family: int) -> Addresses:
        found = []
        for name in entry.values(field_name):
            address = self.addresses.get(_key(name, family))
            if address is None:
                self.notes.skip(
                    entry.line_of(field_name),
                    _("policy {policy}: {field} {name!r} is not defined").format(
                        policy=entry.name, field=field_name, name=name
                    ),
                )
                continue
            found.append(address)
        return Addresses.union_of(found)

    def _policy_destination(
        self, entry: Entry, field_name: str, family: int
    ) -> tuple[Addresses, dict[str, Addresses]]:
        plain: list[Addresses] = []
        by_vip: dict[str, Addresses] = {}
        for name in entry.values(field_name):
            key = _key(name, family)
            members = self.vip_groups.get(key, [name] if key in self.vips else [])
            if members:
                for member in members:
                    mapped, translation = self.vips.get(_key(member, family), (Addresses(), None))
                    if translation is None:
                        plain.append(mapped)
                    else:
                        by_vip[translation.name] = mapped
                continue
            address = self.addresses.get(key)
            if address is None:
                self.notes.skip(
                    entry.line_of(field_name),
                    _("policy {policy}: {field} {name!r} is not defined").format(
                        policy=entry.name, field=field_name, name=name
                    ),
                )
                continue
            plain.append(address)
        return Addresses.union_of(plain), by_vip

    def default_route(self) -> str | None:
        for entry in self.entries("router static"):
            dst = entry.values("dst") or ["0.0.0.0", "0.0.0.0"]
            if dst[0] in ("0.0.0.0", "0.0.0.0/0") and (len(dst) == 1 or dst[1] == "0.0.0.0"):
                device = entry.get("device")
                if device:
                    return device
        return None


_ACTIONS = {"accept": "accept", "deny": "drop", "ipsec": "accept"}
_UNTRANSLATED = frozenset({""})
"""The connections no VIP translated (what a policy without ``match-vip`` matches)."""

#: Policy settings that narrow what it matches and that the audit does not evaluate.
_UNEVALUATED = (
    ("ztna-status", "ZTNA"),
    ("ztna-ems-tag", N_("ZTNA EMS tags")),
    ("src-vendor-mac", N_("source vendor MAC")),
    ("internet-service6", "ISDB (IPv6)"),
    ("internet-service6-src", N_("ISDB source (IPv6)")),
    ("devices", N_("device identification")),
)


_USERS = ("groups", "users", "fsso-groups")
_SELDOM = frozenset(_USERS + tuple(name for name, _what in _UNEVALUATED))
"""The settings of ``_conditions`` but the schedule: most policies have none of them."""


def _conditions(entry: Entry, label: str) -> list[str]:
    """What the policy matches that the audit does not evaluate, named."""
    conditions: list[str] = []
    schedule = entry.get("schedule", "always")
    if schedule and schedule != "always":
        conditions.append(
            _("schedule {schedule!r} ({policy})").format(schedule=schedule, policy=label)
        )
    if _SELDOM.isdisjoint(entry.settings):
        return conditions
    for field_name in _USERS:
        if entry.values(field_name):
            conditions.append(
                _("user {field} {names} ({policy})").format(
                    field=field_name, names=" ".join(entry.values(field_name)), policy=label
                )
            )
    for field_name, what in _UNEVALUATED:
        value = entry.values(field_name)
        if value and value != ["disable"]:
            conditions.append(_("{what} ({policy})").format(what=_(what), policy=label))
    return conditions


def _key(name: str, family: int) -> str:
    return f"{family}:{name}"


def _range_or_net(text: str) -> tuple[int, Ivs] | None:
    text = text.strip()
    if "-" in text:
        first, _ignored, last = text.partition("-")
        return address_range(first, last)
    return network(text) if text else None


_SUMMARY = (
    *("srcintf", "dstintf", "srcaddr", "dstaddr", "srcaddr6", "dstaddr6"),
    *("service", "schedule", "action"),
)
_SUMMARY_FLAGS = ("srcaddr-negate", "dstaddr-negate", "internet-service", "match-vip")


def _summary(entry: Entry) -> str:
    """The policy's settings that say what it does (its rule's text)."""
    settings = entry.settings
    parts = [
        f"{key} {' '.join(settings[key].values)}"
        for key in _SUMMARY
        if key in settings and settings[key].values
    ]
    parts += [
        f"{key} enable" for key in _SUMMARY_FLAGS if key in settings and entry.get(key) == "enable"
    ]
    return "; ".join(parts)


def read_fortigate(
    text: str, file: str, context: str | None = None, prefer: str | None = None
) -> Ruleset:
    notes = Notes(file)
    tree = parse_fortios(text, notes)
    vdom_block = tree.blocks.get("vdom")
    vdoms = [e for e in vdom_block.entries.values() if e.blocks] if vdom_block else []
    top = tree.blocks.get("global")
    top_entry = top.settings if top is not None else tree
    if vdoms:
        names = [v.name for v in vdoms]
        chosen = next((v for v in vdoms if v.name == (context or prefer)), None)
        if chosen is None and context is None and len(vdoms) == 1:
            chosen = vdoms[0]
        if chosen is None:
            raise notes.error(
                vdom_block.line if vdom_block else None,
                (
                    _("the configuration has VDOMs {vdoms} but none named {context!r}")
                    if context
                    else _("the configuration has VDOMs {vdoms}")
                ).format(vdoms=", ".join(names), context=context),
                hint=_(
                    "say which one with --context VDOM (each VDOM is audited as its own firewall)"
                ),
            )
        vdom, name = chosen, chosen.name
        if len(vdoms) > 1:
            notes.note(
                _("VDOM {name} audited (the file also has {others})").format(
                    name=name, others=", ".join(n for n in names if n != name)
                )
            )
    else:
        if context is not None:
            raise notes.error(
                None,
                _("the configuration has no VDOM {context!r}").format(context=context),
                hint=_("it has no 'config vdom'"),
            )
        vdom, name = tree, None
    reader = _Reader(vdom, top_entry, notes, name)
    reader.read_interfaces()
    reader.read_addresses()
    reader.read_services()
    asm = Assembly("fortigate", file, TABLE)
    key = asm.chain("policy")
    asm.session(key)
    policies = [e for path in ("firewall policy", "firewall policy6") for e in reader.entries(path)]
    for entry in policies:
        reader.policy(entry, key, asm)
    if not policies:
        notes.note(
            _("no 'config firewall policy' in the file: everything is denied (implicit deny)")
        )
    for zone, line in reader.intrazone:
        members = IfaceMatch(frozenset(reader.zones[zone]))
        asm.add_rule(
            key,
            Match(iif=members, oif=members),
            "accept",
            f"intrazone allow of zone {zone}",
            _(
                "zone {zone}: set intrazone allow (traffic between its interfaces needs no policy)"
            ).format(zone=zone),
            line=line,
        )
    asm.add_rule(
        key, Match(), "drop", "implicit deny", _("implicit deny (policy 0): no policy matched")
    )
    interfaces = dict(reader.interfaces)
    for name_ in reader.referenced:
        interfaces.setdefault(name_, DeviceInterface(name_))
    translations = tuple(t for _, t in reader.vips.values() if t is not None)
    translations += tuple(reader.source_nat)
    from flowmatrix.audit.vendor.fixwriters import FortiGateFixes

    device = Device(
        "FortiGate",
        tuple(interfaces.values()),
        dict(reader.zones),
        reader.default_route(),
        translations,
        "translated",
        name,
        FortiGateFixes(max((int(e.name) for e in policies if e.name.isdigit()), default=0)),
    )
    families = frozenset({4, 6})
    return asm.ruleset([(key, "forward", 0, "drop")], families, notes.problems, notes.notes, device)
