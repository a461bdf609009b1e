"""Random rulebases: the compiled evaluation of what a reader builds equals a plain
first-match interpreter of the vendor's rules as docs/audit.md states them.

For FortiGate (F1-F5, F7) and Cisco ASA (A1-A4), hypothesis draws a configuration as
text (interfaces, zones, address objects and groups with exclusions, services, policies
or ACL entries with negation, disabled entries, object-groups, security levels), the
reader turns it into the IR, and the batch engine (``audit/batch.py``) evaluates random
packets; the interpreter here reads the same drawn data, not the IR, and walks the
policies one by one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.audit.batch import evaluate_flows
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.packet import Region
from flowmatrix.audit.vendor.ciscoasa import read_ciscoasa
from flowmatrix.audit.vendor.fortigate import read_fortigate
from flowmatrix.audit.verdict import request_context

BASE = int(ipaddress.IPv4Address("10.0.0.0"))
IFACES = ["port1", "port2", "port3"]


def ip(offset: int) -> str:
    return str(ipaddress.IPv4Address(BASE + offset))


@dataclass
class Net:
    low: int
    high: int

    def __contains__(self, value: int) -> bool:
        return self.low <= value <= self.high


NETS = st.one_of(
    st.tuples(st.integers(0, 63), st.sampled_from([28, 29, 30, 31, 32])).map(
        lambda t: Net(
            t[0] & ~((1 << (32 - t[1])) - 1),
            (t[0] & ~((1 << (32 - t[1])) - 1)) + (1 << (32 - t[1])) - 1,
        )
    ),
    st.tuples(st.integers(0, 63), st.integers(0, 63)).map(lambda t: Net(min(t), max(t))),
)
PORTS = st.tuples(st.integers(1, 40), st.integers(1, 40)).map(lambda t: (min(t), max(t)))


@dataclass
class Service:
    proto: str
    ports: tuple[int, int]
    sports: tuple[int, int] | None = None


@dataclass
class FortiPolicy:
    ident: int
    srcintf: list[str]
    dstintf: list[str]
    srcaddr: list[str]
    dstaddr: list[str]
    services: list[str]
    action: str
    disabled: bool
    src_negate: bool
    dst_negate: bool


@dataclass
class Forti:
    zone: list[str]
    addresses: dict[str, Net]
    groups: dict[str, tuple[list[str], list[str]]]
    services: dict[str, Service]
    policies: list[FortiPolicy] = field(default_factory=list)

    def text(self) -> str:
        out = ["config system interface"]
        for index, name in enumerate(IFACES):
            out += [
                f'    edit "{name}"',
                f"        set ip 10.{index + 1}.0.1 255.255.255.0",
                "    next",
            ]
        out += ["end", "config system zone", '    edit "Z1"']
        out += [f"        set interface {' '.join(self.zone)}", "    next", "end"]
        out.append("config firewall address")
        for name, net in self.addresses.items():
            if (
                net.high - net.low + 1 in (1, 2, 4, 8, 16)
                and net.low % (net.high - net.low + 1) == 0
            ):
                size = net.high - net.low + 1
                out += [
                    f'    edit "{name}"',
                    f"        set subnet {ip(net.low)}/{32 - size.bit_length() + 1}",
                    "    next",
                ]
            else:
                out += [f'    edit "{name}"', "        set type iprange"]
                out += [
                    f"        set start-ip {ip(net.low)}",
                    f"        set end-ip {ip(net.high)}",
                    "    next",
                ]
        out += ["end", "config firewall addrgrp"]
        for name, (members, excluded) in self.groups.items():
            out += [
                f'    edit "{name}"',
                "        set member " + " ".join(f'"{m}"' for m in members),
            ]
            if excluded:
                out += [
                    "        set exclude enable",
                    "        set exclude-member " + " ".join(excluded),
                ]
            out.append("    next")
        out += ["end", "config firewall service custom"]
        for name, svc in self.services.items():
            ports = f"{svc.ports[0]}-{svc.ports[1]}"
            if svc.sports:
                ports += f":{svc.sports[0]}-{svc.sports[1]}"
            out += [f'    edit "{name}"', f"        set {svc.proto}-portrange {ports}", "    next"]
        out += ["end", "config firewall policy"]
        for p in self.policies:
            out.append(f"    edit {p.ident}")
            for key, values in (
                ("srcintf", p.srcintf),
                ("dstintf", p.dstintf),
                ("srcaddr", p.srcaddr),
                ("dstaddr", p.dstaddr),
                ("service", p.services),
            ):
                out.append(f"        set {key} " + " ".join(f'"{v}"' for v in values))
            out += [f"        set action {p.action}", '        set schedule "always"']
            if p.disabled:
                out.append("        set status disable")
            if p.src_negate:
                out.append("        set srcaddr-negate enable")
            if p.dst_negate:
                out.append("        set dstaddr-negate enable")
            out.append("    next")
        out.append("end")
        return "\n".join(out) + "\n"

    # -- the plain interpreter of F1-F5, F7 ------------------------------------------------

    def members(self, name: str) -> set[int]:
        if name == "all":
            return set(range(256))
        if name in self.addresses:
            net = self.addresses[name]
            return set(range(net.low, net.high + 1))
        members, excluded = self.groups[name]
        found = set().union(*(self.members(m) for m in members))
        return found - set().union(*(self.members(m) for m in excluded)) if excluded else found

    def interfaces(self, names: list[str]) -> set[str]:
        out: set[str] = set()
        for name in names:
            out |= set(IFACES) if name == "any" else set(self.zone) if name == "Z1" else {name}
        return out

    def decide(
        self, iif: str, oif: str, src: int, dst: int, proto: str, sport: int, dport: int
    ) -> tuple[str, str]:
        for p in self.policies:  # F1: the order of the table; F4: disabled ones skipped
            if (
                p.disabled
                or iif not in self.interfaces(p.srcintf)
                or oif not in self.interfaces(p.dstintf)
            ):
                continue
            src_in = any(src in self.members(a) for a in p.srcaddr)
            dst_in = any(dst in self.members(a) for a in p.dstaddr)
            if src_in == p.src_negate or dst_in == p.dst_negate:  # F3: negation
                continue
            for name in p.services:
                svc = self.services.get(name)
                if name == "ALL" or (
                    svc is not None
                    and svc.proto == proto
                    and svc.ports[0] <= dport <= svc.ports[1]
                    and (svc.sports is None or svc.sports[0] <= sport <= svc.sports[1])
                ):
                    return ("accept" if p.action == "accept" else "drop"), f"policy {p.ident}"
        return "drop", "implicit deny"  # F2


@st.composite
def fortigates(draw: Any) -> Forti:
    zone = draw(st.lists(st.sampled_from(IFACES[1:]), min_size=1, max_size=2, unique=True))
    addresses = {f"a{i}": draw(NETS) for i in range(draw(st.integers(1, 4)))}
    names = list(addresses)
    groups = {}
    for index in range(draw(st.integers(0, 2))):
        members = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        excluded = draw(st.lists(st.sampled_from(names), max_size=1))
        groups[f"g{index}"] = (members, [e for e in excluded if e not in members])
    services = {
        f"s{i}": Service(
            draw(st.sampled_from(["tcp", "udp"])),
            draw(PORTS),
            draw(st.none() | PORTS),
        )
        for i in range(draw(st.integers(1, 3)))
    }
    forti = Forti(zone, addresses, groups, services)
    objects = [*names, *groups, "all"]
    ids = draw(st.permutations(list(range(1, 9))))
    for ident in ids[: draw(st.integers(1, 8))]:
        forti.policies.append(
            FortiPolicy(
                ident,
                draw(
                    st.lists(
                        st.sampled_from(["any", "Z1", *IFACES]), min_size=1, max_size=2, unique=True
                    )
                ),
                draw(
                    st.lists(
                        st.sampled_from(["any", "Z1", *IFACES]), min_size=1, max_size=2, unique=True
                    )
                ),
                draw(st.lists(st.sampled_from(objects), min_size=1, max_size=2, unique=True)),
                draw(st.lists(st.sampled_from(objects), min_size=1, max_size=2, unique=True)),
                draw(
                    st.lists(
                        st.sampled_from([*services, "ALL"]), min_size=1, max_size=2, unique=True
                    )
                ),
                draw(st.sampled_from(["accept", "deny"])),
                draw(st.booleans()),
                draw(st.booleans()),
                draw(st.booleans()),
            )
        )
    return forti


def packets(interfaces: list[str]) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Random packets: (iif, oif, source, destination, protocol, sport, dport)."""
    return st.lists(
        st.tuples(
            st.sampled_from(interfaces),
            st.sampled_from(interfaces),
            st.integers(0, 70),
            st.integers(0, 70),
            st.sampled_from(["tcp", "udp"]),
            st.integers(1, 42),
            st.integers(1, 42),
        ),
        min_size=1,
        max_size=25,
    )


def engine_decisions(ruleset: Ruleset, packets: list[tuple[Any, ...]]) -> list[tuple[str, str]]:
    """What the batch evaluation decides for each packet: (verdict, deciding rule)."""
    queries = []
    for iif, oif, src, dst, proto, sport, dport in packets:
        ctx = request_context(4, 6 if proto == "tcp" else 17, iif, oif, "forward")
        point = ((BASE + src, BASE + src),), ((BASE + dst, BASE + dst),)
        queries.append((ctx, Region(point[0], point[1], ((sport, sport),), ((dport, dport),))))
    out = []
    for cells in evaluate_flows(CompiledWalker(ruleset), "forward", queries):
        (cell,) = cells
        (alternative,) = cell.alternatives
        request = alternative.request
        decider = request.decider
        assert decider is not None and decider.outcome.rule is not None
        name = ruleset.rule(decider.outcome.rule).origin.name or ""
        out.append((request.verdict, name))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fortigates(), packets(IFACES))
def test_fortigate_compiled_equals_first_match(
    forti: Forti, packets: list[tuple[Any, ...]]
) -> None:
    ruleset = read_fortigate(forti.text(), "fg.conf")
    assert engine_decisions(ruleset, packets) == [forti.decide(*p) for p in packets]


# -- Cisco ASA --------------------------------------------------------------------------

ASA_IFACES = {"outside": 0, "dmz": 50, "inside": 100}


@dataclass
class Ace:
    action: str
    proto: str
    src: str
    dst: str
    port: tuple[str, int, int] | None
    inactive: bool


@dataclass
class Asa:
    levels: dict[str, int]
    groups: dict[str, list[Net]]
    acls: dict[str, list[Ace]]
    bindings: dict[str, str]
    same_inter: bool

    def operand(self, text: str) -> set[int]:
        if text == "any":
            return set(range(256))
        if text.startswith("object-group "):
            return set().union(
                *(set(range(n.low, n.high + 1)) for n in self.groups[text.split()[1]])
            )
        if text.startswith("host "):
            return {int(ipaddress.IPv4Address(text.split()[1])) - BASE}
        address, mask = text.split()
        net = ipaddress.ip_network(f"{address}/{mask}")
        low = int(net.network_address) - BASE
        return set(range(low, low + net.num_addresses))

    def text(self) -> str:
        out = []
        for name, level in self.levels.items():
            index = list(ASA_IFACES).index(name)
            out += [
                f"interface GigabitEthernet0/{index}",
                f" nameif {name}",
                f" security-level {level}",
            ]
            out += [f" ip address 10.{index + 1}.0.1 255.255.255.0", "!"]
        if self.same_inter:
            out.append("same-security-traffic permit inter-interface")
        for name, nets in self.groups.items():
            out.append(f"object-group network {name}")
            for net in nets:
                out.append(f" network-object host {ip(net.low)}")
        for name, aces in self.acls.items():
            for ace in aces:
                port = ""
                if ace.port is not None:
                    op, low, high = ace.port
                    port = f" range {low} {high}" if op == "range" else f" {op} {low}"
                line = f"access-list {name} extended {ace.action} {ace.proto} {ace.src} {ace.dst}{port}"
                out.append(line + (" inactive" if ace.inactive else ""))
        for iface, acl in self.bindings.items():
            out.append(f"access-group {acl} in interface {iface}")
        return "\n".join(out) + "\n"

    def decide(
        self, iif: str, oif: str, src: int, dst: int, proto: str, sport: int, dport: int
    ) -> tuple[str, str]:
        if not self.bindings:  # A7: no access-group: every ACL as if bound global
            for acl in self.acls:
                found = self._first(acl, src, dst, proto, dport)
                if found is not None:
                    return found
            return "drop", f"implicit deny of access-list {list(self.acls)[-1]}"
        acl = self.bindings.get(iif)
        if acl is None:  # A3: security levels
            if self.levels[iif] > self.levels[oif] or (
                self.levels[iif] == self.levels[oif] and self.same_inter and iif != oif
            ):
                return "accept", f"security level of {iif}"
            return "drop", f"security levels of {iif}"
        return self._first(acl, src, dst, proto, dport) or (
            "drop",
            f"implicit deny of access-list {acl}",  # A2
        )

    def _first(
        self, acl: str, src: int, dst: int, proto: str, dport: int
    ) -> tuple[str, str] | None:
        line = 0
        for ace in self.acls[acl]:  # A1: first match, inactive entries skipped
            line += 1
            if ace.inactive:
                continue
            if ace.proto != "ip" and ace.proto != proto:
                continue
            if src not in self.operand(ace.src) or dst not in self.operand(ace.dst):
                continue
            if ace.port is not None:
                op, low, high = ace.port
                ok = {
                    "eq": dport == low,
                    "neq": dport != low,
                    "lt": dport < low,
                    "gt": dport > low,
                    "range": low <= dport <= high,
                }[op]
                if not ok:
                    continue
            return ("accept" if ace.action == "permit" else "drop"), f"{acl} line {line}"
        return None


OPERANDS = st.one_of(
    st.just("any"),
    st.integers(0, 63).map(lambda v: f"host {ip(v)}"),
    st.tuples(st.integers(0, 63), st.sampled_from([28, 29, 30])).map(
        lambda t: (
            f"{ip(t[0] & ~((1 << (32 - t[1])) - 1))} {ipaddress.IPv4Network(f'0.0.0.0/{t[1]}').netmask}"
        )
    ),
    st.just("object-group G0"),
)


@st.composite
def asas(draw: Any) -> Asa:
    levels = {name: draw(st.sampled_from([0, 50, 100])) for name in ASA_IFACES}
    groups = {"G0": [Net(v, v) for v in draw(st.lists(st.integers(0, 63), min_size=1, max_size=3))]}
    acls: dict[str, list[Ace]] = {}
    for name in ("A", "B"):
        aces = []
        for _ in range(draw(st.integers(1, 6))):
            proto = draw(st.sampled_from(["tcp", "udp", "ip"]))
            port = None
            if proto != "ip" and draw(st.booleans()):
                op = draw(st.sampled_from(["eq", "neq", "lt", "gt", "range"]))
                low, high = draw(PORTS)
                port = (op, low, high)
            aces.append(
                Ace(
                    draw(st.sampled_from(["permit", "deny"])),
                    proto,
                    draw(OPERANDS),
                    draw(OPERANDS),
                    port,
                    draw(st.booleans()),
                )
            )
        acls[name] = aces
    bindings = {}
    for iface in ASA_IFACES:
        choice = draw(st.sampled_from([None, "A", "B"]))
        if choice is not None:
            bindings[iface] = choice
    return Asa(levels, groups, acls, bindings, draw(st.booleans()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(asas(), packets(list(ASA_IFACES)))
def test_asa_compiled_equals_first_match(asa: Asa, packets: list[tuple[Any, ...]]) -> None:
    ruleset = read_ciscoasa(asa.text(), "asa.cfg")
    assert engine_decisions(ruleset, packets) == [asa.decide(*p) for p in packets]
