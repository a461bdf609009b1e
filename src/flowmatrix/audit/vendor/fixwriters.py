"""Fixes in each vendor's own syntax, and the IR rule that checks each one.

A fix lets one blocked part of a flow through: a new policy (or ACL entry) placed just
before the policy that denies it, or at the end of the policies when a default denies
it. ``fixes.propose`` evaluates the ruleset again with the fix's IR rule in place, so
every fix shown says whether it is enough.

Size: the four vendors' writers are kept together; they share what a fix opens
(``opening``), its IR rule and the place it goes, and change together.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass

from flowmatrix.audit import ranges
from flowmatrix.audit.device import ZONE_PREFIX, Device
from flowmatrix.audit.fixes import MAX_LISTED, Blocked, Placement, rule_positions
from flowmatrix.audit.ir import Action, Chain, IfaceMatch, Match, Origin, Rule, Ruleset
from flowmatrix.audit.pipeline import Decision
from flowmatrix.audit.ranges import Ivs
from flowmatrix.i18n import _

_PROTO = {6: "tcp", 17: "udp"}


@dataclass
class Opening:
    """What one fix opens: the blocked parts' addresses, protocol, port, interfaces."""

    family: int
    src: Ivs | None
    dst: Ivs | None
    sources: list[str]
    destinations: list[str]
    proto: int
    port: int
    iif: str | None
    oif: str | None
    notes: list[str]

    @property
    def proto_name(self) -> str:
        return _PROTO.get(self.proto, str(self.proto))

    @property
    def tag(self) -> str:
        """A short name for the objects a fix creates (same opening, same name)."""
        digest = _digest(tuple(self.sources), tuple(self.destinations), self.iif, self.oif)
        return f"flowmatrix-{self.proto_name}{self.port}-{digest}"


@functools.lru_cache(maxsize=4096)
def _digest(
    sources: tuple[str, ...], destinations: tuple[str, ...], iif: str | None, oif: str | None
) -> str:
    text = f"{list(sources)}{list(destinations)}{iif}{oif}"
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def opening(items: list[Blocked]) -> Opening:
    ctx = items[0].ctx
    family = ctx.family
    src, sources, left_src = _opened(tuple(item.region.src for item in items), family)
    dst, destinations, left_dst = _opened(tuple(item.region.dst for item in items), family)
    notes = [_("source left open: {n} networks").format(n=left_src)] if left_src else []
    if left_dst:
        notes.append(_("destination left open: {n} networks").format(n=left_dst))
    port = items[0].region.dport[0][0]
    opened = (list(sources), list(destinations))
    return Opening(family, src, dst, *opened, ctx.proto, port, ctx.iif, ctx.oif, notes)


@functools.lru_cache(maxsize=4096)
def _opened(parts: tuple[Ivs, ...], family: int) -> tuple[Ivs | None, tuple[str, ...], int]:
    """The addresses of the blocked parts on one side (their union) and its CIDRs; None
    and no CIDR when the fix leaves that side open: every address, or too many networks
    to list (how many then, else 0). The flows of a site share their ends: each is
    worked out once."""
    ivs = ranges.normalize(iv for part in parts for iv in part)
    cidrs = ranges.to_cidrs(ivs, family)
    if ivs == ranges.ALL_ADDRESSES[family]:
        return None, (), 0
    if len(cidrs) > MAX_LISTED:
        return None, (), len(cidrs)
    return ivs, tuple(cidrs), 0


def _deciding(ruleset: Ruleset, decision: Decision) -> tuple[Rule, Chain] | None:
    uid = decision.outcome.rule
    if uid is None:
        return None
    rule = ruleset.rule(uid)
    chain = ruleset.chains.get(f"{rule.origin.table}/{rule.origin.chain}")
    return None if chain is None else (rule, chain)


def _first(ruleset: Ruleset, chain: Chain, rule: Rule) -> int:
    """The first IR rule of the source rule ``rule`` belongs to (they share its origin)."""
    return rule_positions(ruleset, chain).first_same[id(rule.origin)]


def _first_named(chain: Chain, prefixes: tuple[str, ...]) -> int:
    """The first rule of the chain whose name starts with one of ``prefixes`` (the
    defaults after the policies), else the end of the chain."""
    index = len(chain.rules)
    while index and (chain.rules[index - 1].origin.name or "").startswith(prefixes):
        index -= 1  # the defaults come after every policy
    return index


def _ir_rule(ruleset: Ruleset, chain: Chain, index: int | None, match: Match, command: str) -> Rule:
    position = len(chain.rules) + 1 if index is None else chain.rules[index].origin.position
    origin = Origin(
        "(proposed fix)", None, command, chain.table, chain.name, position, None, "proposed fix"
    )
    return Rule(-1 - ruleset.rule_count, match, _ACCEPT, origin)


_ACCEPT = Action("accept", None, "proposed fix")


def _zone_members(device: Device | None, iface: str | None) -> tuple[str | None, IfaceMatch | None]:
    """(the zone of an interface, the interfaces that zone stands for), once per device
    and interface."""
    if device is None or iface is None:
        return None, None
    cache: dict[str, tuple[str | None, IfaceMatch]] = device.__dict__.setdefault("_zones", {})
    if iface not in cache:
        zone = device.zone_of(iface)
        members = {iface} if zone is None else (device.zones or {})[zone]
        cache[iface] = (zone, IfaceMatch(frozenset(members)))
    return cache[iface]


def _match(o: Opening, iif: IfaceMatch | None = None, oif: IfaceMatch | None = None) -> Match:
    return Match(
        family=o.family,
        src=o.src,
        dst=o.dst,
        protos=frozenset({o.proto}),
        dport=ranges.point(o.port),
        iif=iif,
        oif=oif,
    )


def _named_at(placement: Placement) -> str:
    """The name of the source rule a placement goes before ("" at the end of the chain)."""
    rules = placement.chain.rules
    index = placement.index
    if index is None or index >= len(rules):
        return ""
    return rules[index].origin.name or ""


def _note(o: Opening, extra: str | None = None) -> str | None:
    notes = list(o.notes) + ([extra] if extra else [])
    return "; ".join(notes) or None


# -- FortiGate ----------------------------------------------------------------------------

_POLICY = re.compile(r"^policy (\S+)$")


class FortiGateFixes:
    """``config firewall policy`` / ``edit 0`` ... ``next`` / ``end``, then ``move``."""

    def __init__(self, highest_id: int = 0) -> None:
        self.highest_id = highest_id
        """The highest policy id of the configuration: ``edit 0`` takes the next one."""

    def placement(self, ruleset: Ruleset, decision: Decision) -> Placement | None:
        found = _deciding(ruleset, decision)
        if found is None:
            return None
        rule, chain = found
        named = _POLICY.match(rule.origin.name or "")
        if named is not None:
            return Placement(
                chain,
                _first(ruleset, chain, rule),
                _("before policy {policy} (deny)").format(policy=named.group(1)),
            )
        index = _first_named(chain, ("intrazone allow", "implicit deny"))
        return Placement(
            chain, index, _("at the end of the policy table (the implicit deny drops it)")
        )

    def make_rule(
        self, ruleset: Ruleset, placement: Placement, items: list[Blocked], leg: str
    ) -> tuple[Rule, str, str | None]:
        o = opening(items)
        device = ruleset.device
        src_zone, iif = _zone_members(device, o.iif)
        dst_zone, oif = _zone_members(device, o.oif)
        six = "6" if o.family == 6 else ""
        lines: list[str] = []
        names: dict[str, list[str]] = {}
        for what, cidrs in (("src", o.sources), ("dst", o.destinations)):
            names[what] = []
            for cidr in cidrs:
                name, entry = _fortigate_address(cidr, six)
                names[what].append(name)
                lines += entry
        if lines:
            lines = [f"config firewall address{six}", *lines, "end"]
        service = f"flowmatrix-{o.proto_name}-{o.port}"
        lines += [
            "config firewall service custom",
            f'    edit "{service}"',
            f"        set {o.proto_name}-portrange {o.port}",
            "    next",
            "end",
        ]
        srcintf = src_zone or o.iif or "any"
        dstintf = dst_zone or o.oif or "any"
        new_id = self.highest_id + 1
        quoted = {k: " ".join(f'"{n}"' for n in v) or '"all"' for k, v in names.items()}
        lines += [
            "config firewall policy",
            "    edit 0",
            f'        set name "{o.tag}"',
            f'        set srcintf "{srcintf}"',
            f'        set dstintf "{dstintf}"',
            f"        set srcaddr{six} {quoted['src']}",
            f"        set dstaddr{six} {quoted['dst']}",
            "        set action accept",
            '        set schedule "always"',
            f'        set service "{service}"',
            "    next",
            "end",
        ]
        before = _POLICY.match(_named_at(placement))
        if before is not None:
            lines += [
                "config firewall policy",
                f"    move {new_id} before {before.group(1)}",
                "end",
            ]
        command = "\n".join(lines)
        extra = (
            _("edit 0 takes the next free id ({id} here)").format(id=new_id)
            if before is not None
            else None
        )
        if o.iif is None or o.oif is None:
            extra = (extra + "; " if extra else "") + _("an interface is unknown: 'any' used")
        match = _match(o, iif, oif)
        return (
            _ir_rule(ruleset, placement.chain, placement.index, match, command),
            command,
            _note(o, extra),
        )


@functools.lru_cache(maxsize=4096)
def _fortigate_address(cidr: str, six: str) -> tuple[str, tuple[str, ...]]:
    """The name of the address object of a CIDR and its ``edit`` block (the fixes of a
    site share their addresses: each block is written once)."""
    name = f"flowmatrix-{cidr.replace('/', '-').replace(':', '.')}"
    value = f"set ip6 {cidr}" if six else "set subnet " + _mask(cidr)
    return name, (f'    edit "{name}"', f"        {value}", "    next")


def _mask(cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    return f"{net.network_address} {net.netmask}"


# -- PAN-OS -------------------------------------------------------------------------------


def _zone_name(zone: str | None) -> str:
    if zone is None:
        return "any"
    return zone[len(ZONE_PREFIX) :] if zone.startswith(ZONE_PREFIX) else zone


class PanosFixes:
    """``set rulebase security rules NAME ...`` then ``move rulebase security rules``."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        """``vsys vsys2 `` on a firewall with several vsys."""

    def placement(self, ruleset: Ruleset, decision: Decision) -> Placement | None:
        found = _deciding(ruleset, decision)
        if found is None:
            return None
        rule, chain = found
        name = rule.origin.name or ""
        if name.startswith("rule "):
            return Placement(
                chain, _first(ruleset, chain, rule), _("before {rule} (deny)").format(rule=name)
            )
        index = _first_named(chain, ("intrazone-default", "interzone-default"))
        return Placement(
            chain, index, _("at the end of the security rules ({rule} drops it)").format(rule=name)
        )

    def make_rule(
        self, ruleset: Ruleset, placement: Placement, items: list[Blocked], leg: str
    ) -> tuple[Rule, str, str | None]:
        o = opening(items)
        device = ruleset.device
        src_zone, iif = _zone_members(device, o.iif)
        dst_zone, oif = _zone_members(device, o.oif)
        service = f"flowmatrix-{o.proto_name}-{o.port}"
        src = "[ " + " ".join(o.sources) + " ]" if o.sources else "any"
        dst = "[ " + " ".join(o.destinations) + " ]" if o.destinations else "any"
        head = f"set {self.prefix}"
        lines = [
            f"{head}service {service} protocol {o.proto_name} port {o.port}",
            f"{head}rulebase security rules {o.tag} from {_zone_name(src_zone)} "
            f"to {_zone_name(dst_zone)} source {src} destination {dst} application any "
            f"service {service} action allow",
        ]
        before = re.match(r"rule '(.+)'$", _named_at(placement)) or re.match(
            r'rule "(.+)"$', _named_at(placement)
        )
        if before is not None:
            lines.append(
                f'move {self.prefix}rulebase security rules {o.tag} before "{before.group(1)}"'
            )
        command = "\n".join(lines)
        match = _match(o, iif, oif)
        return (
            _ir_rule(ruleset, placement.chain, placement.index, match, command),
            command,
            _note(o),
        )


# -- Cisco ASA ----------------------------------------------------------------------------

_LEVEL = re.compile(r"security levels? of (\S+)")


def _asa_operand(cidrs: list[str], family: int) -> str:
    if not cidrs:
        return "any4" if family == 4 else "any6"
    if len(cidrs) > 1:
        return ""
    return _asa_network(cidrs[0], family)


@functools.lru_cache(maxsize=4096)
def _asa_network(cidr: str, family: int) -> str:
    net = ipaddress.ip_network(cidr)
    if net.num_addresses == 1:
        return f"host {net.network_address}"
    if family == 6:
        return net.with_prefixlen
    return f"{net.network_address} {net.netmask}"


class AsaFixes:
    """``access-list NAME line N extended permit ...`` (or a new ACL for an interface
    that has none, bound with ``access-group``)."""

    def placement(self, ruleset: Ruleset, decision: Decision) -> Placement | None:
        found = _deciding(ruleset, decision)
        if found is None:
            return None
        rule, chain = found
        name = rule.origin.name or ""
        if " line " in name and rule.action.kind in ("drop", "reject"):
            return Placement(
                chain, _first(ruleset, chain, rule), _("before {rule} (deny)").format(rule=name)
            )
        acl = re.match(r"implicit deny of access-list (\S+)", name)
        if acl is not None:
            target = ruleset.chains.get(f"{chain.table}/{acl.group(1)}")
            if target is not None:
                return Placement(
                    target, None, _("at the end of access-list {acl}").format(acl=acl.group(1))
                )
        level = _LEVEL.match(name)
        if level is not None:
            return Placement(
                chain,
                _first(ruleset, chain, rule),
                _("new access-list for interface {interface}").format(interface=level.group(1)),
            )
        return None

    def make_rule(
        self, ruleset: Ruleset, placement: Placement, items: list[Blocked], leg: str
    ) -> tuple[Rule, str, str | None]:
        o = opening(items)
        lines: list[str] = []
        operands = []
        for what, cidrs in (("SRC", o.sources), ("DST", o.destinations)):
            operand = _asa_operand(cidrs, o.family)
            if not operand:
                group = f"{o.tag}-{what}".upper()
                lines.append(f"object-group network {group}")
                for cidr in cidrs:
                    lines.append(f" network-object {_asa_operand([cidr], o.family)}")
                operand = f"object-group {group}"
            operands.append(operand)
        ace = f"extended permit {o.proto_name} {operands[0]} {operands[1]} eq {o.port}"
        level = _LEVEL.match(_named_at(placement))
        extra = None
        iif = None
        if level is not None:
            nameif = level.group(1)
            acl = f"{nameif}_access_in"
            lines += [f"access-list {acl} {ace}", f"access-group {acl} in interface {nameif}"]
            extra = _(
                "interface {interface} has no access-list: binding one ends its security-level "
                "permits, list what else it must let through first"
            ).format(interface=nameif)
            iif = IfaceMatch(frozenset({nameif}))
        elif placement.index is None:
            lines.append(f"access-list {placement.chain.name} {ace}")
        else:
            line = placement.chain.rules[placement.index].origin.position
            lines.append(f"access-list {placement.chain.name} line {line} {ace}")
        command = "\n".join(lines)
        match = _match(o, iif)
        return (
            _ir_rule(ruleset, placement.chain, placement.index, match, command),
            command,
            _note(o, extra),
        )


# -- Juniper SRX --------------------------------------------------------------------------


class SrxFixes:
    """``set security policies from-zone A to-zone B policy P ...`` then ``insert``."""

    def placement(self, ruleset: Ruleset, decision: Decision) -> Placement | None:
        found = _deciding(ruleset, decision)
        if found is None:
            return None
        rule, chain = found
        name = rule.origin.name or ""
        if name.startswith("policy ") and chain.name.startswith("from-zone "):
            return Placement(
                chain, _first(ruleset, chain, rule), _("before {rule} (deny)").format(rule=name)
            )
        # a global policy or the default policy decided: the packet's zone pair is the
        # chain its walk went through (every pair of zones has one)
        for uid in decision.outcome.trace:
            jump = ruleset.rule(uid)
            target = jump.action.target or ""
            if jump.action.kind == "jump" and target.split("/", 1)[-1].startswith("from-zone "):
                pair = ruleset.chains[target]
                return Placement(
                    pair,
                    None,
                    _("at the end of {chain} ({rule} drops it)").format(chain=pair.name, rule=name),
                )
        return Placement(
            chain,
            index_before(ruleset, chain, rule),
            _("before {rule} (no zone pair known)").format(rule=name),
        )

    def make_rule(
        self, ruleset: Ruleset, placement: Placement, items: list[Blocked], leg: str
    ) -> tuple[Rule, str, str | None]:
        o = opening(items)
        device = ruleset.device
        from_zone, iif = _zone_members(device, o.iif)
        to_zone, oif = _zone_members(device, o.oif)
        chain = placement.chain
        in_pair = chain.name.startswith("from-zone ")
        context = chain.name if in_pair else "global"
        lines = []
        names = {}
        for what, cidrs in (("source", o.sources), ("destination", o.destinations)):
            entries = []
            for cidr in cidrs:
                entry = f"flowmatrix-{cidr.replace('/', '-').replace(':', '.')}"
                entries.append(entry)
                prefix = cidr if "/" in cidr else f"{cidr}/{32 if o.family == 4 else 128}"
                lines.append(f"set security address-book global address {entry} {prefix}")
            if len(entries) > 1:
                names[what] = "[ " + " ".join(entries) + " ]"
            else:
                names[what] = entries[0] if entries else "any"
        application = f"flowmatrix-{o.proto_name}-{o.port}"
        lines.append(
            f"set applications application {application} protocol {o.proto_name} "
            f"destination-port {o.port}"
        )
        base = f"set security policies {context} policy {o.tag}"
        lines += [
            f"{base} match source-address {names['source']} destination-address "
            f"{names['destination']} application {application}",
            f"{base} then permit",
        ]
        before = (
            re.match(r"policy (\S+)$", _named_at(placement))
            if in_pair and placement.index is not None
            else None
        )
        if before is not None:
            lines.append(
                f"insert security policies {context} policy {o.tag} before policy {before.group(1)}"
            )
        command = "\n".join(lines)
        match = _match(o) if in_pair else _match(o, iif, oif)
        extra = (
            None if from_zone and to_zone else _("a zone is unknown: name the site's interfaces")
        )
        rule = _ir_rule(ruleset, chain, placement.index, match, command)
        return rule, command, _note(o, extra)


def index_before(ruleset: Ruleset, chain: Chain, rule: Rule) -> int:
    return _first(ruleset, chain, rule)
