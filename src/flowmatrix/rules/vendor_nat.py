"""A firewall's address translations (NAT) on the vendor platforms aerleon writes.

aerleon writes filters only (its FortiGate, Palo Alto, ASA and SRX generators have no
NAT). This module decides what the translations of a firewall scope (``Selection.nat``)
become on each platform, and what they change in the terms aerleon is given;
``nat_text.py`` writes them into aerleon's output in the platform's own syntax. What a
rule matches of a published destination differs by platform:

* FortiGate: a policy matches translated connections through the VIP in its destination
  (*config firewall vip*, FortiOS CLI Reference): the host's address is replaced there
  by the VIPs it is published through (one per published port or range and protocol);
  a policy toward the outside of flows with a source translation gets ``set nat enable``,
  with an IP pool for a fixed address;
* PAN-OS: security rules match the pre-NAT destination and the post-NAT zone: the host's
  address is replaced by its public one; the NAT rules sit beside the security rules;
* Cisco ASA (8.3+) and Juniper SRX: the rules match the real address, unchanged; ASA gets
  network object NAT (one NAT per object, so one object per published port), SRX static
  NAT, or destination NAT with a pool when only some ports are published.

What a platform cannot express is a finding: the translation is then left out (an
error: the flows through it do not work) or written wider (a warning says how); the
other aerleon targets get no NAT, and a warning says so.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import TypeVar, cast

from flowmatrix.i18n import _, ngettext
from flowmatrix.model import Nat, Protocol
from flowmatrix.portset import PortRange
from flowmatrix.rules.firewall_view import Family, Finding, RuleSpec, Selection, Side
from flowmatrix.rules.registry import TARGETS, VendorTarget
from flowmatrix.rules.text import identifier, label

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
_N = TypeVar("_N", ipaddress.IPv4Network, ipaddress.IPv6Network)
#: An ASA object holds one NAT and its ``service`` one port: more published ports than
#: this are written as a static NAT of every port instead (see ``NatPlan._by_port``).
ASA_PORT_OBJECTS = 16


@dataclass(frozen=True)
class Published:
    """One entry of a destination translation: a protocol and port range, or every port."""

    nat: Nat
    name: str
    """Its object (FortiGate VIP, ASA object, SRX rule) name, unique in the output."""
    protocol: Protocol | None = None
    ports: PortRange | None = None

    @property
    def family(self) -> Family:
        return _family(self.nat.public)


@dataclass(frozen=True)
class Leaving:
    """A source translation, with the networks the platform translates."""

    nat: Nat
    name: str
    networks: tuple[IPNet, ...]
    zones: tuple[str, ...]
    """The zones its traffic comes in from (empty: not known, any)."""
    pool: str = ""
    """The name of the pool of its fixed address (FortiGate IP pool, SRX source pool)."""


class Names:
    """Names unique in one output: ``label`` of the parts, then ``-2``, ``-3``..."""

    def __init__(self, limit: int = 31) -> None:
        self.limit = limit
        self.used: set[str] = set()

    def __call__(self, *parts: str) -> str:
        base = label("-".join(p for p in parts if p), self.limit)
        name, number = base, 1
        while name in self.used:
            number += 1
            name = label(f"{base}-{number}", self.limit)
        self.used.add(name)
        return name


class NatPlan:
    """The translations of one firewall scope on one platform, and what they change in
    the terms (``view``, ``vips``) before aerleon writes them."""

    def __init__(self, target: VendorTarget, selection: Selection) -> None:
        self.platform = target.platform
        self.findings: list[Finding] = []
        self.specs = selection.specs
        nats = selection.nat if TARGETS[target.name].nat else ()
        if selection.nat and not nats:
            writers = ", ".join(t.name for t in TARGETS.values() if t.nat)
            count = len(selection.nat)
            self.warning(
                ngettext(
                    "the firewall's {n} address translations are not written: "
                    "this target has filters only (NAT is written for {targets})",
                    "the firewall's {n} address translations are not written: "
                    "this target has filters only (NAT is written for {targets})",
                    count,
                ).format(n=count, targets=writers)
            )
        self.nats = tuple(n.nat for n in nats)
        self.interfaces: dict[str, str] = {}
        """Zone -> the firewall's interface on it (the site's, as the rules have it)."""
        self.through: dict[Nat, list[RuleSpec]] = {n: [] for n in self.nats}
        for spec in self.specs:
            for zone, interface in (
                (spec.in_zone, spec.in_interface),
                (spec.out_zone, spec.out_interface),
            ):
                if zone is not None and interface is not None:
                    self.interfaces.setdefault(zone, interface)
            for nat in spec.flow.nat:
                if nat in self.through:
                    self.through[nat].append(spec)
        for item in nats:
            if item.interface is not None:
                self.interfaces[item.nat.outside] = item.interface
        self.names = Names(63 if self.platform == "paloalto" else 31)
        self.published: dict[Nat, tuple[Published, ...]] = {}
        self.leaving: dict[Nat, Leaving] = {}
        self.pools: dict[str, str] = {}
        """Fixed source address -> its pool's name."""
        for nat in self.nats:
            if nat.kind == "destination":
                self._publish(nat)
            else:
                self._leave(nat)
        self.vip_names = {p.name for ps in self.published.values() for p in ps}

    @property
    def active(self) -> bool:
        return bool(self.nats)

    # -- what is written --------------------------------------------------------------

    def _publish(self, nat: Nat) -> None:
        if _family(nat.public) != _family(nat.private[0]):
            self.error(
                _(
                    "{nat}: a public address of another family than the host's is "
                    "not written (no NAT64 / NAT46 here)"
                ).format(nat=nat.describe())
            )
            return
        names = self.names
        prefix = {"fortigate": "vip", "ciscoasa": "nat", "paloalto": "nat"}.get(self.platform, "")
        if nat.ports is None or not self._by_port(nat):
            self.published[nat] = (Published(nat, names(prefix, nat.subject)),)
            return
        opened = {s.flow.protocol for s in self.through[nat] if s.renderable}
        protocols = sorted(opened) or ["tcp"]
        if self.platform == "paloalto":  # one rule per protocol, its service has every port
            entries = [Published(nat, names(prefix, nat.subject, p), p) for p in protocols]
        else:
            ranges = nat.ports.ranges
            if self.platform == "ciscoasa":  # one port per object
                ranges = tuple((port, port) for port in nat.ports)
            entries = [
                Published(nat, names(prefix, nat.subject, p, range_text(r, "-")), p, r)
                for p in protocols
                for r in ranges
            ]
        self.published[nat] = tuple(entries)

    def _by_port(self, nat: Nat) -> bool:
        """Whether the published ports are written as such (else every port is)."""
        assert nat.ports is not None
        if self.platform != "ciscoasa" or len(nat.ports) <= ASA_PORT_OBJECTS:
            return True
        self.warning(
            _(
                "{nat}: an ASA object holds one NAT of one port, and more than "
                "{limit} ports are not written as one object each: every port of "
                "{public} is published (the access list still permits the planned ports only)"
            ).format(nat=nat.describe(), limit=ASA_PORT_OBJECTS, public=nat.public)
        )
        return False

    def _leave(self, nat: Nat) -> None:
        family = _family(nat.public) if nat.public else 4
        networks = tuple(ipaddress.ip_network(p, strict=False) for p in nat.private)
        kept = tuple(n for n in networks if n.version == family)
        other = [str(n) for n in networks if n.version != family]
        if other:
            leaves = nat.public or _("the interface address (IPv4)")
            self.warning(
                _(
                    "{nat}: {networks} not translated (it leaves as {leaves}, another family)"
                ).format(nat=nat.describe(), networks=", ".join(other), leaves=leaves)
            )
        if not kept:
            return
        if self.platform == "fortigate" and family == 6:
            self.error(
                _("{nat}: FortiGate source NAT to an IPv6 address is not written").format(
                    nat=nat.describe()
                )
            )
            return
        if self.platform == "paloalto" and nat.masquerade and nat.outside not in self.interfaces:
            self.error(
                _(
                    "{nat}: PAN-OS translates to an interface's address by naming it: "
                    "not written (hint: give the firewall interfaces: {{{zone}: NAME}})"
                ).format(nat=nat.describe(), zone=nat.outside)
            )
            return
        zones = tuple(dict.fromkeys(s.in_zone for s in self.through[nat] if s.in_zone))
        pool = ""
        if nat.public:
            pool = self.pools.get(nat.public) or self.names("pool", nat.public)
            self.pools[nat.public] = pool
        self.leaving[nat] = Leaving(nat, self.names("snat", nat.subject), kept, zones, pool)

    def interface(self, zone: str) -> str:
        """The firewall's interface on ``zone`` (the zone's name when the site gives none)."""
        return self.interfaces.get(zone, zone)

    def inside_zones(self) -> tuple[str, ...]:
        """The zones of the flows through the firewall, but its outside ones."""
        outside = {n.outside for n in self.nats}
        zones = (z for s in self.specs for z in (s.in_zone, s.out_zone) if z is not None)
        return tuple(dict.fromkeys(z for z in zones if z not in outside))

    def reached_from(self, nat: Nat) -> tuple[str, ...]:
        """The zones a published host is reached through (the flows' way out of here)."""
        return tuple(dict.fromkeys(s.out_zone for s in self.through[nat] if s.out_zone))

    def error(self, message: str) -> None:
        text = _("NAT ({platform}): {message}").format(platform=self.platform, message=message)
        self.findings.append(Finding("error", text))

    def warning(self, message: str, flow: str | None = None) -> None:
        text = _("NAT ({platform}): {message}").format(platform=self.platform, message=message)
        self.findings.append(Finding("warning", text, flow))

    # -- the terms --------------------------------------------------------------------

    def published_to(self, spec: RuleSpec) -> list[Nat]:
        """The destination translations written here that ``spec``'s flow comes through."""
        return [n for n in spec.flow.nat if n in self.published]

    def view(self, spec: RuleSpec) -> RuleSpec:
        """``spec`` with its destination as the platform's rules match it: PAN-OS the
        public address, FortiGate not the host's address (its VIPs stand for it)."""
        if self.platform not in ("paloalto", "fortigate") or not spec.renderable:
            return spec
        side = spec.destination
        for nat in self.published_to(spec):
            public = nat.public if self.platform == "paloalto" else None
            side = _swap(side, nat.private[0], public)
        if side is spec.destination:
            return spec
        if self.platform == "paloalto":
            side = replace(side, key=identifier(f"{side.key}_public", 48))
        return replace(spec, destination=side)

    def vips(self, spec: RuleSpec) -> list[Published]:
        """FortiGate: the VIPs the policy of ``spec`` matches its connections through."""
        if self.platform != "fortigate":
            return []
        flow = spec.flow
        return [
            p
            for nat in self.published_to(spec)
            for p in self.published[nat]
            if p.protocol in (None, flow.protocol)
            and (
                p.ports is None
                or any(p.ports[0] <= high and low <= p.ports[1] for low, high in flow.ports.ranges)
            )
        ]

    def source_nat(self, spec: RuleSpec) -> Leaving | None:
        """The source translation written here that ``spec``'s flow leaves through."""
        return next((self.leaving[n] for n in spec.flow.nat if n in self.leaving), None)


def _family(address: str) -> Family:
    return 6 if ":" in address else 4


def range_text(ports: PortRange | None, separator: str) -> str:
    """``443``, ``5000-5100`` (``separator`` between the ends of a range)."""
    if ports is None:
        return ""
    low, high = ports
    return str(low) if low == high else f"{low}{separator}{high}"


def _swap(side: Side, private: str, public: str | None) -> Side:
    """``side`` without the address ``private`` (a network holding it keeps the rest),
    with ``public`` (of the same family) instead when given."""
    address = ipaddress.ip_network(private, strict=False)
    if isinstance(address, ipaddress.IPv4Network):
        v4 = _without(side.v4, address, public)
        return side if v4 is None else replace(side, v4=v4)
    v6 = _without(side.v6, address, public)
    return side if v6 is None else replace(side, v6=v6)


def _without(networks: tuple[_N, ...], address: _N, public: str | None) -> tuple[_N, ...] | None:
    """``networks`` less ``address``, plus ``public``; None when ``address`` is not there."""
    if not any(address.subnet_of(n) for n in networks):
        return None
    kept: list[_N] = []
    for net in networks:
        kept.extend(net.address_exclude(address) if address.subnet_of(net) else (net,))
    if public is not None:
        kept.append(cast(_N, ipaddress.ip_network(public, strict=False)))
    return tuple(ipaddress.collapse_addresses(kept))
