"""Cisco ASA (``show running-config``) as an IR ruleset.

A packet entering an interface meets that interface's inbound ACL (``access-group NAME
in interface IF``), then the global ACL (``access-group NAME global``), then the implicit
deny; an interface with no inbound ACL, when there is no global ACL, lets traffic go to
lower security levels only (``same-security-traffic`` for equal levels). An outbound ACL
on the egress interface is checked after that. ACL entries are first match; object and
object-group operands are expanded; ``inactive`` entries are left out; a ``time-range``
makes the verdict depend on the time. Since 8.3 ACLs name real addresses: object NAT and
twice NAT are translations applied before the ACLs, and the ACLs see the real address.

Size: one vendor's configuration language read whole: objects and groups (network,
service, protocol, ICMP), access lists, access groups, security levels and NAT, whose
meanings depend on each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flowmatrix.audit import ranges
from flowmatrix.audit.device import Device, DeviceInterface, Translation
from flowmatrix.audit.ir import PROTO_NUMBERS, ActionKind, IfaceMatch, Match, Origin, Ruleset
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.vendor.build import Assembly
from flowmatrix.audit.vendor.policy import Addresses, Policy, Service
from flowmatrix.audit.vendor.shared import (
    ASA_PORTS,
    Nesting,
    Notes,
    ReadOnce,
    address_mask,
    address_range,
    interface_network,
    network,
    port_range,
)
from flowmatrix.i18n import _, ngettext

TABLE = "ciscoasa"
_PORT_PROTOS = {
    "tcp": frozenset({6}),
    "udp": frozenset({17}),
    "tcp-udp": frozenset({6, 17}),
    "sctp": frozenset({132}),
}
#: Top-level commands that do not bear on what the ACLs let through.
_UNRELATED = frozenset(
    [
        "hostname",
        "domain-name",
        "enable",
        "passwd",
        "names",
        "dns",
        "ftp",
        "pager",
        "logging",
        "mtu",
        "icmp",
        "asdm",
        "arp",
        "timeout",
        "aaa",
        "aaa-server",
        "http",
        "snmp-server",
        "crypto",
        "telnet",
        "ssh",
        "console",
        "threat-detection",
        "dhcpd",
        "dhcprelay",
        "webvpn",
        "username",
        "tunnel-group",
        "group-policy",
        "class-map",
        "policy-map",
        "service-policy",
        "prompt",
        "call-home",
        "ntp",
        "failover",
        "license",
        "boot",
        "clock",
        "terminal",
        "user-identity",
        "dynamic-access-policy-record",
        "no",
        "monitor-interface",
        "ipv6",
        "router",
        "prefix-list",
        "route-map",
        "mac-address",
        "tls-proxy",
        "ssl",
        "fragment",
        "priority-queue",
        "sysopt",
        "xlate",
        "service",
        "flow-export",
        "jumbo-frame",
        "firewall",
        "license-server",
        "management-access",
        "vpn-sessiondb",
        "auth-prompt",
        "banner",
        "object-group-search",
        "cryptochecksum",
        "ldap",
        "smtp-server",
        "password-policy",
        "client-update",
        "dns-guard",
        "quit",
        "end",
        "wccp",
        "multicast-routing",
        "vpdn",
        "nat-assigned-to-public-ip",
        "crashinfo",
        "nve",
        "vpn",
    ]
)


def _operand_ports(words: list[str], at: int) -> tuple[Ivs | None, int] | None:
    """A port operand at ``words[at]``: (ports, next index), or None if there is none."""
    if at >= len(words):
        return None
    op = words[at]
    if op == "range" and at + 2 < len(words):
        low, high = port_range(words[at + 1], ASA_PORTS), port_range(words[at + 2], ASA_PORTS)
        if low is None or high is None:
            return None
        return ((low[0][0], high[0][1]),), at + 3
    if op in ("eq", "neq", "lt", "gt") and at + 1 < len(words):
        port = port_range(words[at + 1], ASA_PORTS)
        if port is None:
            return None
        value = port[0][0]
        ivs: Ivs
        if op == "eq":
            ivs = ((value, value),)
        elif op == "neq":
            ivs = ranges.complement(((value, value),), 65535)
        elif op == "lt":
            ivs = ((0, value - 1),) if value > 0 else ()
        else:
            ivs = ((value + 1, 65535),) if value < 65535 else ()
        return ivs, at + 2
    return None


@dataclass
class _Group:
    kind: str
    line: int
    protocol: str | None = None
    members: list[tuple[list[str], int]] = field(default_factory=list)


class _Reader:
    def __init__(self, text: str, notes: Notes) -> None:
        self.notes = notes
        self.interfaces: dict[str, DeviceInterface] = {}
        self.names: dict[str, str] = {}
        self.objects: dict[str, tuple[str, int, list[tuple[list[str], int]]]] = {}
        self.groups: dict[str, _Group] = {}
        self.acls: dict[str, list[tuple[int, list[str], str]]] = {}
        self.bindings: list[tuple[str, str, str | None, int]] = []
        self.nats: list[tuple[list[str], int, str | None]] = []
        self.same_inter = self.same_intra = False
        self.default_route: str | None = None
        self.unrelated = 0
        self._hardware: list[tuple[str, int, list[tuple[list[str], int]]]] = []
        self._read(text)
        # every object is known from here on: the reading of each is kept (ReadOnce)
        self._objects_read = ReadOnce(notes, self._net_object)
        self._groups_read = ReadOnce(
            notes, lambda name, line: self._net_group(name, line, Nesting())
        )
        self._services_read = ReadOnce(
            notes, lambda name, line: self._services_of(name, line, Nesting())
        )

    def _read(self, text: str) -> None:
        current: tuple[str, list[tuple[list[str], int]]] | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            if not raw.strip() or raw.startswith(("!", ":")):
                if raw.startswith("!"):
                    current = None
                continue
            indented = raw.startswith(" ")
            line = raw.strip()
            if not line.startswith("access-list") and " !" in line:
                line = line.split(" !", 1)[0].rstrip()
            words = line.split()
            if indented and current is not None:
                current[1].append((words, number))
                continue
            current = None
            command = words[0]
            if command == "interface":
                members: list[tuple[list[str], int]] = []
                current = ("interface", members)
                self._hardware.append((words[1] if len(words) > 1 else "?", number, members))
            elif command == "object" and len(words) >= 3:
                members = []
                self.objects[words[2]] = (words[1], number, members)
                current = ("object", members)
            elif command == "object-group" and len(words) >= 3:
                group = _Group(words[1], number, words[3] if len(words) > 3 else None)
                self.groups[words[2]] = group
                current = ("group", group.members)
            elif words[:3] == ["clear", "configure", "access-list"] and len(words) > 3:
                self.acls.pop(words[3], None)
            elif command == "access-list" and len(words) >= 3:
                self.acls.setdefault(words[1], []).append((number, words[2:], line))
            elif command == "access-group" and len(words) >= 3:
                where = words[4] if len(words) >= 5 and words[3] == "interface" else None
                self.bindings.append((words[1], words[2], where, number))
            elif command == "nat":
                self.nats.append((words[1:], number, None))
            elif command == "name" and len(words) >= 3:
                self.names[words[2]] = words[1]
            elif command == "same-security-traffic" and len(words) >= 3:
                self.same_inter |= words[2] == "inter-interface"
                self.same_intra |= words[2] == "intra-interface"
            elif command == "route" and len(words) >= 5:
                if words[2] in ("0.0.0.0", "0") and words[3] in ("0.0.0.0", "0"):
                    self.default_route = self.default_route or words[1]
            elif command in ("time-range",):
                current = ("other", [])
            elif command in _UNRELATED or command == "ASA":
                self.unrelated += 1
                current = ("other", [])
            else:
                self.notes.skip(number, _("unknown command {command!r}").format(command=command))
                current = ("other", [])
        for hardware, at, sub in self._hardware:
            self._interface(hardware, at, sub)
        for name, (kind, _ignored, sub) in self.objects.items():
            if kind == "network":
                for words, number in sub:
                    if words[0] == "nat":
                        self.nats.append((words[1:], number, name))

    def _interface(self, hardware: str, line: int, sub: list[tuple[list[str], int]]) -> None:
        nameif = None
        level = None
        addresses = []
        for words, _ignored in sub:
            if words[0] == "nameif" and len(words) > 1:
                nameif = words[1]
            elif words[0] == "security-level" and len(words) > 1 and words[1].isdigit():
                level = int(words[1])
            elif words[:2] == ["ip", "address"] and len(words) >= 4:
                found = interface_network(words[2], words[3])
                if found:
                    addresses.append(found)
            elif words[:2] == ["ipv6", "address"] and len(words) >= 3:
                found = interface_network(words[2])
                if found:
                    addresses.append(found)
        if nameif is None:
            return
        if level is None:
            level = 100 if nameif == "inside" else 0
        self.interfaces[nameif] = DeviceInterface(nameif, None, tuple(addresses), level, line)

    # -- objects --------------------------------------------------------------------------

    def address(self, words: list[str], at: int, line: int) -> tuple[Addresses, int] | None:
        """An address operand at ``words[at]``: (addresses, next index) or None."""
        if at >= len(words):
            return None
        word = words[at]
        if word in ("any", "any4", "any6"):
            return {
                "any": Addresses.any(),
                "any4": Addresses.family_any(4),
                "any6": Addresses.family_any(6),
            }[word], at + 1
        if word == "host" and at + 1 < len(words):
            found = network(self.names.get(words[at + 1], words[at + 1]))
            return (Addresses.of(*found), at + 2) if found else None
        if word == "object" and at + 1 < len(words):
            return self.net_object(words[at + 1], line), at + 2
        if word == "object-group" and at + 1 < len(words):
            return self.net_group(words[at + 1], line), at + 2
        if word == "interface" and at + 1 < len(words):
            iface = self.interfaces.get(words[at + 1])
            out = Addresses()
            for text in iface.addresses if iface else ():
                net = network(text.split("/")[0])
                if net:
                    out = out.union(Addresses.of(*net))
            return out, at + 2
        if "/" in word and ":" in word:
            found = network(word)
            return (Addresses.of(*found), at + 1) if found else None
        if at + 1 < len(words):
            found = address_mask(self.names.get(word, word), words[at + 1])
            if found is not None:
                return Addresses.of(*found), at + 2
        return None

    def net_object(self, name: str, line: int) -> Addresses:
        """The addresses of a network object (``line``: where it is named)."""
        return self._objects_read(name, line)

    def _net_object(self, name: str, line: int) -> Addresses:
        found = self.objects.get(name)
        if found is None or found[0] != "network":
            self.notes.skip(line, _("network object {name!r} is not defined").format(name=name))
            return Addresses()
        out = Addresses()
        for words, number in found[2]:
            kind = words[0]
            if kind == "host" and len(words) > 1:
                net = network(words[1])
            elif kind == "subnet" and len(words) > 2:
                net = address_mask(words[1], words[2])
            elif kind == "subnet" and len(words) > 1:
                net = network(words[1])
            elif kind == "range" and len(words) > 2:
                net = address_range(words[1], words[2])
            elif kind == "fqdn" and len(words) > 1:
                out = out.union(Addresses(names=frozenset({words[-1].lower().rstrip(".")})))
                continue
            else:
                continue
            if net is None:
                self.notes.skip(
                    number,
                    _("network object {name!r}: cannot read {kind}").format(name=name, kind=kind),
                )
                continue
            out = out.union(Addresses.of(*net))
        return out

    def net_group(self, name: str, line: int) -> Addresses:
        """The addresses of a network object-group (``line``: where it is named)."""
        return self._groups_read(name, line)

    def _net_group(self, name: str, line: int, nesting: Nesting) -> Addresses:
        """The addresses of a network object-group read inside the groups of ``nesting``
        (``line``: where it is named); one met again adds nothing new (a diamond: its
        members are in the reading already; a cycle: listed)."""
        group = self.groups.get(name)
        if group is None or group.kind != "network":
            self.notes.skip(
                line, _("network object-group {name!r} is not defined").format(name=name)
            )
            return Addresses()
        if self._met_again(name, line, nesting):
            return Addresses()
        nesting.enter(name)
        out = Addresses()
        for words, number in group.members:
            if words[:2] == ["network-object", "object-group"] and len(words) > 2:
                out = out.union(self._net_group(words[2], number, nesting))
            elif words[0] == "network-object":
                found = self.address(words, 1, number)
                if found is None and len(words) == 2:
                    net = network(words[1])
                    found = (Addresses.of(*net), 2) if net else None
                if found is None:
                    self.notes.skip(
                        number, _("object-group {name!r}: cannot read member").format(name=name)
                    )
                    continue
                out = out.union(found[0])
            elif words[0] == "group-object" and len(words) > 1:
                out = out.union(self._net_group(words[1], number, nesting))
        nesting.leave()
        return out

    def _met_again(self, name: str, line: int, nesting: Nesting) -> bool:
        """Whether the group ``name``, named at ``line``, was entered already by the
        reading of ``nesting``; a cycle is listed at ``line``."""
        cycle = nesting.cycle(name)
        if cycle is not None:
            self.notes.skip(
                line,
                _("object-group {name!r} contains itself: {cycle}").format(name=name, cycle=cycle),
            )
        return name in nesting.entered

    def services_of(self, name: str, line: int) -> tuple[Service, ...] | None:
        """A service object or service/protocol object-group, as services; None if the
        name is neither."""
        return self._services_read(name, line)

    def _services_of(self, name: str, line: int, nesting: Nesting) -> tuple[Service, ...] | None:
        found = self.objects.get(name)
        if found is not None and found[0] == "service":
            out: list[Service] = []
            for words, number in found[2]:
                if words[0] == "service":
                    service = self._service_words(words[1:], number)
                    if service is not None:
                        out.append(service)
            return tuple(out)
        group = self.groups.get(name)
        if group is None:
            return None
        if self._met_again(name, line, nesting):
            return ()
        nesting.enter(name)
        out = []
        for words, number in group.members:
            head = words[0]
            if head == "port-object" and group.protocol in _PORT_PROTOS:
                ports = _operand_ports(words, 1)
                if ports is not None:
                    out.append(Service(_PORT_PROTOS[group.protocol], None, ports[0]))
            elif head == "service-object" and len(words) > 2 and words[1] == "object":
                out.extend(self._services_of(words[2], number, nesting) or ())
            elif head == "service-object":
                service = self._service_words(words[1:], number)
                if service is not None:
                    out.append(service)
            elif head == "protocol-object" and len(words) > 1:
                out.append(Service(_protocol(words[1])))
            elif head == "icmp-object":
                out.append(
                    Service(frozenset({1}), depends=_("ICMP type {type}").format(type=words[-1]))
                )
            elif head == "group-object" and len(words) > 1:
                out.extend(self._services_of(words[1], number, nesting) or ())
        nesting.leave()
        return tuple(out)

    def _service_words(self, words: list[str], line: int) -> Service | None:
        """``tcp [source OP P] [destination OP P]``, ``icmp TYPE``, ``PROTO``."""
        if not words:
            return None
        proto = words[0]
        if proto in _PORT_PROTOS:
            sport = dport = None
            at = 1
            while at < len(words):
                which = words[at]
                if which in ("source", "destination"):
                    found = _operand_ports(words, at + 1)
                    if found is None:
                        break
                    if which == "source":
                        sport = found[0]
                    else:
                        dport = found[0]
                    at = found[1]
                    continue
                found = _operand_ports(words, at)
                if found is None:
                    break
                dport, at = found
            return Service(_PORT_PROTOS[proto], sport, dport)
        protos = _protocol(proto)
        if protos is None:
            self.notes.skip(line, _("service {name!r}: unknown protocol").format(name=proto))
            return None
        depends = (
            _("ICMP type {type}").format(type=words[1])
            if proto in ("icmp", "icmp6") and len(words) > 1
            else None
        )
        return Service(protos, depends=depends)

    def ports_group(self, name: str) -> Ivs | None:
        group = self.groups.get(name)
        if group is None or group.kind != "service" or group.protocol not in _PORT_PROTOS:
            return None
        return ranges.normalize(
            iv for s in self.services_of(name, group.line) or () for iv in (s.dport or ranges.PORTS)
        )

    # -- ACL entries ----------------------------------------------------------------------

    def entry(
        self,
        acl: str,
        words: list[str],
        line: int,
        text: str,
        position: int,
        asm: Assembly,
        key: str,
    ) -> None:
        label = f"{acl} line {position}"
        if words[0] == "line" and len(words) > 2:
            words = words[2:]
        if words[0] in ("remark",):
            return
        if words[0] != "extended":
            if words[0] == "standard":
                return  # standard ACLs filter routes (VPN split tunnels), not traffic
            self.notes.skip(
                line,
                _("access-list {acl}: {kind} entries are not read").format(acl=acl, kind=words[0]),
            )
            return
        if "inactive" in words:
            self.notes.note(
                _("{file}:{line}: {rule} is inactive: not evaluated").format(
                    file=self.notes.file, line=line, rule=label
                )
            )
            return
        origin = asm.origin(key, line, text, label)
        action_word = words[1] if len(words) > 1 else ""
        action: ActionKind | None = {"permit": "accept", "deny": "drop"}.get(action_word)  # type: ignore[assignment]
        policy = self._parse_entry(words[2:], line)
        if action is None or policy is None:
            self.notes.skip(line, _("access-list {acl}: cannot read this entry").format(acl=acl))
            asm.add(
                key,
                Policy(
                    origin,
                    "unknown",
                    action_word,
                    conditions=(_("not read: {rule}").format(rule=label),),
                ),
            )
            return
        src, dst, services, conditions = policy
        asm.add(
            key,
            Policy(
                origin,
                action,
                action_word,
                src=src,
                dst=dst,
                services=services,
                conditions=conditions,
            ),
        )

    def _parse_entry(
        self, words: list[str], line: int
    ) -> tuple[Addresses, Addresses, tuple[Service, ...], tuple[str, ...]] | None:
        if not words:
            return None
        at = 0
        services: tuple[Service, ...]
        port_protos: frozenset[int] | None = None
        head = words[0]
        if head in ("object", "object-group") and len(words) > 1:
            found = self.services_of(words[1], line)
            if found is None:
                builtin = _inline_object(words[1])
                if builtin is None:
                    self.notes.skip(
                        line,
                        _("service {kind} {name!r} is not defined").format(
                            kind=head, name=words[1]
                        ),
                    )
                found = (builtin,) if builtin else ()
            services, at = found, 2
        else:
            protos = None if head == "ip" else _protocol(head)
            if head != "ip" and protos is None:
                return None
            services = (Service(protos),)
            port_protos = _PORT_PROTOS.get(head)
            at = 1
        src = self.address(words, at, line)
        if src is None:
            return None
        at = src[1]
        sport = None
        if port_protos is not None:
            found_ports = self._ports(words, at)
            if found_ports is not None:
                sport, at = found_ports
        dst = self.address(words, at, line)
        if dst is None:
            return None
        at = dst[1]
        dport = None
        if port_protos is not None:
            found_ports = self._ports(words, at)
            if found_ports is not None:
                dport, at = found_ports
        if sport is not None or dport is not None:
            services = (Service(port_protos, sport, dport),)
        conditions: list[str] = []
        rest = words[at:]
        if "time-range" in rest:
            conditions.append(
                f"time-range {rest[rest.index('time-range') + 1] if rest.index('time-range') + 1 < len(rest) else '?'}"
            )
        return src[0], dst[0], services, tuple(conditions)

    def _ports(self, words: list[str], at: int) -> tuple[Ivs, int] | None:
        found = _operand_ports(words, at)
        if found is not None:
            return found[0] or (), found[1]
        if at + 1 < len(words) and words[at] == "object-group":
            ports = self.ports_group(words[at + 1])
            if ports is not None:
                return ports, at + 2
        return None

    # -- NAT ------------------------------------------------------------------------------

    def translations(self) -> list[Translation]:
        out: list[Translation] = []
        for words, line, owner in self.nats:
            pair = words[0] if words and words[0].startswith("(") else None
            real_if, mapped_if = _pair(pair)
            rest = words[1:] if pair else words
            label = f"object NAT of {owner}" if owner else "twice NAT"
            origin = Origin(
                self.notes.file, line, f"nat {' '.join(words)}", TABLE, "nat", 0, None, label
            )
            if owner is not None:
                real = self.net_object(owner, line)
                if rest[:1] == ["static"] and len(rest) > 1:
                    mapped = self._nat_operand(rest[1], line, mapped_if)
                    service = rest[rest.index("service") + 1 :] if "service" in rest else []
                    out += self._static(label, real, mapped, real_if, mapped_if, service, origin)
                elif rest[:1] == ["dynamic"]:
                    mapped = self._nat_operand(_mapped(rest[1:]), line, mapped_if)
                    out += _source(label, real, mapped, real_if, origin)
                continue
            if "source" not in rest:
                continue
            at = rest.index("source")
            kind, real_name = ([*rest[at + 1 : at + 3], "", ""])[:2]
            mapped_name = _mapped(rest[at + 3 :])
            real = self._nat_operand(real_name, line, None)
            mapped = self._nat_operand(mapped_name, line, mapped_if)
            if kind == "static" and "unidirectional" not in rest:
                out += self._static(label, real, mapped, real_if, mapped_if, [], origin, snat=False)
            out += _source(label, real, mapped, real_if, origin)
            if "destination" in rest:
                d = rest.index("destination")
                d_mapped = self._nat_operand(rest[d + 2] if d + 2 < len(rest) else "", line, None)
                d_real = self._nat_operand(rest[d + 3] if d + 3 < len(rest) else "", line, None)
                for family, ivs in d_real.by_family.items():
                    match = Match(
                        family=family, dst=d_mapped.by_family.get(family), iif=_iface(real_if)
                    )
                    if match.dst is not None:
                        out.append(Translation(label, "destination", match, ivs, None, origin))
        return out

    def _nat_operand(self, name: str, line: int, mapped_if: str | None) -> Addresses:
        if name == "any":
            return Addresses.any()
        if name == "interface":
            iface = self.interfaces.get(mapped_if or "")
            out = Addresses()
            for text in iface.addresses if iface else ():
                net = network(text.split("/")[0])
                if net:
                    out = out.union(Addresses.of(*net))
            return out
        if name in self.objects:
            return self.net_object(name, line)
        if name in self.groups:
            return self.net_group(name, line)
        net = network(name)
        if net is not None:
            return Addresses.of(*net)
        self.notes.skip(line, _("nat: object {name!r} is not defined").format(name=name))
        return Addresses()

    def _static(
        self,
        label: str,
        real: Addresses,
        mapped: Addresses,
        real_if: str | None,
        mapped_if: str | None,
        service: list[str],
        origin: Origin,
        *,
        snat: bool = True,
    ) -> list[Translation]:
        out: list[Translation] = []
        protos = to_ports = ext_ports = None
        if len(service) >= 3 and service[0] in _PORT_PROTOS:
            protos = _PORT_PROTOS[service[0]]
            to_ports = port_range(service[1], ASA_PORTS)
            ext_ports = port_range(service[2], ASA_PORTS)
        for family, ivs in real.by_family.items():
            published = mapped.by_family.get(family)
            if not published:
                continue
            match = Match(
                family=family, dst=published, protos=protos, dport=ext_ports, iif=_iface(mapped_if)
            )
            out.append(Translation(label, "destination", match, ivs, to_ports, origin))
        if snat:
            out += _source(label, real, mapped, real_if, origin)
        return out


def _source(
    label: str, real: Addresses, mapped: Addresses, real_if: str | None, origin: Origin
) -> list[Translation]:
    out = []
    for family, ivs in real.by_family.items():
        match = Match(family=family, src=ivs, iif=_iface(real_if))
        out.append(
            Translation(
                label, "source", match, mapped.by_family.get(family) or None, None, origin, False
            )
        )
    return out


def _mapped(words: list[str]) -> str:
    """The mapped operand of a NAT: an object, ``interface``, or a PAT pool's object."""
    if not words:
        return "interface"
    if words[0] == "pat-pool" and len(words) > 1:
        return words[1]
    return words[0]


def _pair(text: str | None) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    real, _ignored, mapped = text.strip("()").partition(",")
    return (None if real == "any" else real), (None if mapped == "any" else mapped)


def _iface(name: str | None) -> IfaceMatch | None:
    return None if name is None else IfaceMatch(frozenset({name}))


def _protocol(word: str) -> frozenset[int] | None:
    if word.isdigit() and int(word) < 256:
        return frozenset({int(word)})
    if word == "ip":
        return None
    number = PROTO_NUMBERS.get(word)
    return None if number is None else frozenset({number})


def _inline_object(name: str) -> Service | None:
    """The predefined service objects an ACL may name inline (``object icmp-echo``)."""
    if name.startswith("icmp6-"):
        return Service(frozenset({58}), depends=_("ICMPv6 type {type}").format(type=name[6:]))
    if name.startswith("icmp-"):
        return Service(frozenset({1}), depends=_("ICMP type {type}").format(type=name[5:]))
    protos = _protocol(name)
    return Service(protos) if protos else None


_ACL_NAME = re.compile(r"^[\w.\-:]+$")


def read_ciscoasa(
    text: str, file: str, context: str | None = None, prefer: str | None = None
) -> Ruleset:
    notes = Notes(file)
    if context is not None:
        raise notes.error(
            None, _("ASA multiple-context files are not read: give one context's running-config")
        )
    reader = _Reader(text, notes)
    if not (reader.acls or reader.interfaces or reader.objects or reader.groups or reader.nats):
        raise notes.error(
            1, _("expected Cisco ASA running-config lines (interface, object, access-list ...)")
        )
    asm = Assembly("ciscoasa", file, TABLE)
    ingress = asm.chain("(ingress)")
    egress = asm.chain("(egress)")
    bindings = reader.bindings
    extended = [
        n
        for n, lines in reader.acls.items()
        if any(w[0] in ("extended", "line") for _, w, _ in lines)
    ]
    if not bindings and extended:
        bindings = [(name, "global", None, 0) for name in extended]
        notes.note(
            _(
                "no access-group in the file: every extended access-list is evaluated as if bound "
                "global (the form flowmatrix rules writes); bind them with access-group on the device"
            )
        )
    acl_keys: dict[str, str] = {}
    for name, lines in reader.acls.items():
        if not any(w[0] in ("extended", "line") for _, w, _ in lines):
            continue
        key = asm.chain(name, lines[0][0])
        acl_keys[name] = key
        for position, (line, words, raw) in enumerate(lines, 1):
            reader.entry(name, words, line, raw, position, asm, key)
    asm.session(ingress)
    asm.session(egress)
    inbound: dict[str, str] = {}
    outbound: dict[str, str] = {}
    global_acls: list[str] = []
    for name, direction, where, line in bindings:
        if name not in acl_keys:
            notes.skip(
                line or None,
                _("access-group {name}: no such extended access-list").format(name=name),
            )
            continue
        if direction == "global":
            global_acls.append(name)
        elif where is None:
            notes.skip(line, _("access-group {name}: cannot read the interface").format(name=name))
        elif direction == "in":
            inbound[where] = name
        elif direction == "out":
            outbound[where] = name
    for where, name in inbound.items():
        here = IfaceMatch(frozenset({where}))
        asm.add_rule(
            ingress,
            Match(iif=here),
            "jump",
            f"access-group {name} in interface {where}",
            f"access-group {name} in interface {where}",
            target=acl_keys[name],
        )
        if not global_acls:
            asm.add_rule(
                ingress,
                Match(iif=here),
                "drop",
                f"implicit deny of access-list {name}",
                _("implicit deny at the end of access-list {name}").format(name=name),
            )
    for name in global_acls:
        asm.add_rule(
            ingress,
            Match(),
            "jump",
            f"access-group {name} global",
            f"access-group {name} global",
            target=acl_keys[name],
        )
    if global_acls:
        asm.add_rule(
            ingress,
            Match(),
            "drop",
            f"implicit deny of access-list {global_acls[-1]}",
            _("implicit deny at the end of the global access-list {name}").format(
                name=global_acls[-1]
            ),
        )
    else:
        _security_levels(reader, inbound, ingress, asm)
    for where, name in outbound.items():
        here = IfaceMatch(frozenset({where}))
        asm.add_rule(
            egress,
            Match(oif=here),
            "jump",
            f"access-group {name} out interface {where}",
            f"access-group {name} out interface {where}",
            target=acl_keys[name],
        )
        asm.add_rule(
            egress,
            Match(oif=here),
            "drop",
            f"implicit deny of access-list {name}",
            _("implicit deny at the end of access-list {name}").format(name=name),
        )
    if reader.unrelated:
        notes.note(
            ngettext(
                "{n} command that does not filter traffic (logging, management, VPN...) "
                "was not read",
                "{n} commands that do not filter traffic (logging, management, VPN...) "
                "were not read",
                reader.unrelated,
            ).format(n=reader.unrelated)
        )
    from flowmatrix.audit.vendor.fixwriters import AsaFixes

    interfaces = dict(reader.interfaces)
    for words, _line, _owner in reader.nats:  # a NAT names interfaces the file may not define
        for named in _pair(words[0] if words and words[0].startswith("(") else None):
            if named is not None:
                interfaces.setdefault(named, DeviceInterface(named))
    device = Device(
        "Cisco ASA",
        tuple(interfaces.values()),
        {},
        reader.default_route,
        tuple(reader.translations()),
        "translated",
        None,
        AsaFixes(),
    )
    bases = [(ingress, "forward", 0, "drop"), (egress, "forward", 10, "accept")]
    return asm.ruleset(bases, frozenset({4, 6}), notes.problems, notes.notes, device)


def _security_levels(reader: _Reader, inbound: dict[str, str], key: str, asm: Assembly) -> None:
    """Interfaces without an inbound ACL: traffic to a lower level passes; equal levels
    only with ``same-security-traffic``."""
    interfaces = reader.interfaces
    for name, iface in interfaces.items():
        if name in inbound:
            continue
        level = iface.security_level or 0
        allowed = []
        for other, peer in interfaces.items():
            peer_level = peer.security_level or 0
            if other == name:
                if reader.same_intra:
                    allowed.append(other)
            elif peer_level < level or (peer_level == level and reader.same_inter):
                allowed.append(other)
        here = IfaceMatch(frozenset({name}))
        if allowed:
            asm.add_rule(
                key,
                Match(iif=here, oif=IfaceMatch(frozenset(allowed))),
                "accept",
                f"security level of {name}",
                _(
                    "security level {level} of {name}: to {interfaces} (no inbound access-list)"
                ).format(level=level, name=name, interfaces=", ".join(allowed)),
            )
        asm.add_rule(
            key,
            Match(iif=here),
            "drop",
            f"security levels of {name}",
            _(
                "security level {level} of {name}: not to an equal or higher level "
                "(no inbound access-list)"
            ).format(level=level, name=name),
        )
