"""What the lab probes: every planned flow that crosses a firewall, and unplanned ones.

Planned cases go from the first source host to every destination host, on every port
and address family both ends have. Unplanned cases are derived from the first planned
case of each flow and family by changing one thing (the port, the direction, the
source) and are kept only when no flow of the plan allows them: each one must be
blocked.

'Any address' in the Internet zone is every address in no other zone of the site, as
the rules match it. So a flow from (or to) the Internet gets an unplanned case from (or
to) an internal zone first: the same packet from a stranger of a zone the flow goes
through (then of the other zones), which a rule matching the Internet by its interface
alone, or not at all, would let through.

A destination known by name only is probed at the lab address the lab's DNS server
gives that name: the probe resolves it first, through the dnsmasq of the first firewall
on the way, which fills the rules' name sets as in production. Its first unplanned case
is the same packet to a name the plan does not have (a sibling of it, served by the same
DNS server), which must stay blocked.

A flow through the site's web proxy (its client leg) is probed end to end through the
proxy: ``CONNECT name:port`` from the source to the proxy, which resolves the name and
reaches the destination through the firewalls (a wildcard ``*.x.com``: one name below
it). Its unplanned cases ask the proxy for another name, another port, or come from
another source; the proxy's allow-list must refuse each one.

A flow through a published address (the site's destination NAT) is probed at the
public address its source sends to, and must reach the listener on the host's own
address; its 'other-public' case sends the same probe to an address of the same outside
zone that no translation names (see ``translation``), which must not.

Size: the planned cases and the unplanned cases derived from them share the builder's
view of the plan (its ends, families and what the plan allows); they change together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from flowmatrix.i18n import N_, _
from flowmatrix.lab.addressing import AddressPlan, lab_name
from flowmatrix.lab.allowed import Allowed
from flowmatrix.lab.translation import sent_addresses
from flowmatrix.model import Flow, Plan, ProxyLeg
from flowmatrix.topology import FirewallGraph

Variant = Literal[
    "planned",
    "not-requested",
    "other-name",
    "internal-source",
    "internal-destination",
    "other-port",
    "other-public",
    "reversed",
    "other-source",
]
#: Unplanned variants, in the order they are tried for each flow and family.
UNPLANNED: tuple[Variant, ...] = (
    "other-name",
    "internal-source",
    "internal-destination",
    "other-port",
    "other-public",
    "reversed",
    "other-source",
)
#: The one reason a planned flow may be left out of the lab without failing it.
SAME_ZONE = N_("same zone: no firewall on the path")
#: First label of the name an 'other-name' case resolves: a sibling of a planned name.
OTHER_NAME_LABEL = "fmlab-not-planned"
#: The unplanned variants of a case through the proxy: what its allow-list must refuse.
VIA_PROXY: frozenset[Variant] = frozenset({"other-name", "other-port", "other-source"})


@dataclass(frozen=True, slots=True)
class Case:
    """One probe of the lab: from an address to an address and port."""

    id: str
    """The marker id the probe carries: the flow id, or ``unplanned-N``."""
    variant: Variant
    flow: str
    """The planned flow this case is (or is derived from)."""
    required: bool
    protocol: str
    port: int
    source_zone: str
    source_label: str
    source_address: str
    destination_zone: str
    destination_label: str
    destination_address: str
    firewalls: tuple[str, ...]
    service: str | None = None
    name: str | None = None
    """The DNS name the probe resolves first (its destination is known by name)."""
    via: tuple[str, int] | None = None
    """(address, port) of the web proxy the probe goes through (``CONNECT name:port``)."""
    sent_to: str | None = None
    """The address the probe is sent to when it is not the destination's own: a public
    address, which a firewall's destination NAT turns into the destination's (or a decoy
    no translation names, for an 'other-public' case)."""
    seen_from: str | None = None
    """The source address the destination sees when a firewall on the way translates
    the source (source NAT); None: the source's own."""

    @property
    def planned(self) -> bool:
        return self.variant == "planned"

    @property
    def family(self) -> int:
        return 6 if ":" in self.destination_address else 4


@dataclass(frozen=True, slots=True)
class Skipped:
    """A planned flow the lab cannot rehearse, and why."""

    flow: str
    reason: str
    failure: bool = True
    """Whether the skip fails the lab: every skip of a requested flow does, except a
    flow with no firewall on its path (nothing to rehearse)."""


def _case(
    flow: Flow,
    source: tuple[str, str],
    destination: tuple[str, str, str],
    port: int,
    firewalls: tuple[str, ...],
    *,
    name: str | None = None,
    via: tuple[str, int] | None = None,
    protocol: str | None = None,
    sent_to: str | None = None,
) -> Case:
    """A probe of ``flow`` from ``source`` (label, address) to ``destination`` (zone,
    label, address): planned, or must-be-blocked for a flow the site does not request."""
    return Case(
        id=flow.id,
        variant="planned" if flow.requested else "not-requested",
        flow=flow.id,
        required=True,
        protocol=protocol or flow.protocol,
        port=port,
        source_zone=flow.source.zone,
        source_label=source[0],
        source_address=source[1],
        destination_zone=destination[0],
        destination_label=destination[1],
        destination_address=destination[2],
        firewalls=firewalls,
        service=flow.service,
        name=name,
        via=via,
        sent_to=sent_to,
    )


def _packet(case: Case) -> tuple[str, str, str, int]:
    return case.source_address, case.destination_address, case.protocol, case.port


def _family(address: str) -> int:
    return 6 if ":" in address else 4


@dataclass
class _Builder:
    plan: Plan
    addresses: AddressPlan
    unplanned_per_flow: int
    cases: list[Case]
    skipped: list[Skipped]
    graph: FirewallGraph
    allowed: Allowed
    seen: set[tuple[str, str, str, int]]
    planned_names: frozenset[str] = frozenset()
    count: int = 0

    def skip(self, flow: Flow, reason: str) -> list[Case]:
        """``reason``: translated, or ``SAME_ZONE`` as it is (translated here)."""
        failure = flow.requested and reason != SAME_ZONE
        if reason == SAME_ZONE:
            reason = _(SAME_ZONE)
        if not flow.requested:
            reason = _("{reason} (not requested: {status})").format(
                reason=reason, status=flow.status
            )
        self.skipped.append(Skipped(flow.id, reason, failure))
        return []

    def planned(self, flow: Flow) -> list[Case]:
        """The cases of ``flow``: planned ones (each must pass) for a requested flow;
        for an obsolete or legacy flow the site does not keep, the same probes, which
        must be blocked (the rules leave it out)."""
        if flow.proxy is not None and flow.proxy.leg == "client":
            return self.through_proxy(flow, flow.proxy)
        if not flow.firewalls:
            same = flow.source.zone == flow.destination.zone
            return self.skip(flow, SAME_ZONE if same else _("no firewall path between the zones"))
        sources = self.addresses.end_addresses(flow.source)
        destinations = self.addresses.end_addresses(flow.destination)
        named = {} if flow.destination.any_address else dict.fromkeys(flow.destination.names)
        if named:
            destinations += self.addresses.name_addresses(flow.destination)
        if not destinations:
            names = ", ".join(flow.destination.fqdns) or flow.destination.role
            return self.skip(
                flow, _("destination {names} has no address in the lab").format(names=names)
            )
        if not sources:
            return self.skip(flow, _("the source has no address"))
        made: list[Case] = []
        public = sent_addresses(flow, self.addresses)
        for family in (4, 6):
            source = next(((label, a) for label, a in sources if _family(a) == family), None)
            if source is None:
                continue
            targets: dict[str, str] = {}
            for label, address in destinations:
                if _family(address) == family:
                    targets.setdefault(address, label)
            for address, label in targets.items():
                if address == source[1]:
                    continue
                made.extend(
                    _case(
                        flow,
                        source,
                        (flow.destination.zone, label, address),
                        port,
                        flow.firewalls,
                        name=label if label in named else None,
                        sent_to=public.get(address),
                    )
                    for port in flow.ports
                )
        if not made:
            return self.skip(flow, _("source and destination share no address family"))
        if not flow.requested:
            made = [c for c in made if not self.allowed(*_packet(c))]
            if not made:
                return self.skip(flow, _("other planned flows allow the same packets"))
        return made

    def through_proxy(self, flow: Flow, leg: ProxyLeg) -> list[Case]:
        """``CONNECT name:port`` through the proxy, from the first IPv4 source, for every
        name and port the proxy serves this flow."""
        source = next(
            ((label, a) for label, a in self.addresses.end_addresses(flow.source) if ":" not in a),
            None,
        )
        proxy = next(
            (a for _label, a in self.addresses.end_addresses(flow.destination) if ":" not in a),
            None,
        )
        internet = self.addresses.zones.internet
        if source is None or proxy is None or internet is None:
            return self.skip(flow, _("the lab rehearses the web proxy over IPv4: no IPv4 address"))
        path = self.graph.path(flow.destination.zone, internet)
        made: list[Case] = []
        for name in leg.names:
            lab_name_ = lab_name(name)
            address = self.addresses.names.get((lab_name_, 4))
            if address is None or path is None:
                return self.skip(flow, _("no lab address for {name}").format(name=name))
            made.extend(
                _case(
                    flow,
                    source,
                    (internet, lab_name_, address),
                    port,
                    tuple(dict.fromkeys((*flow.firewalls, *path))),
                    name=lab_name_,
                    via=(proxy, leg.port),
                    protocol="tcp",
                )
                for port in leg.ports
            )
        return made

    def unplanned(self, flow: Flow, model: Case) -> list[Case]:
        """Up to ``unplanned_per_flow`` cases derived from ``model``, each one not allowed."""
        found: list[Case] = []
        for variant in UNPLANNED:
            if len(found) >= self.unplanned_per_flow:
                break
            if model.via is not None and variant not in VIA_PROXY:
                continue
            case = self._derive(flow, model, variant)
            if case is not None:
                found.append(case)
        return found

    def _derive(self, flow: Flow, model: Case, variant: Variant) -> Case | None:
        family = model.family
        src_zone, src_label, src = model.source_zone, model.source_label, model.source_address
        dst_zone, dst_label, dst = (
            model.destination_zone,
            model.destination_label,
            model.destination_address,
        )
        port = model.port
        if variant == "other-name":
            return self._other_name(flow, model)
        if variant == "other-public":
            return self._other_public(model)
        if variant == "other-port":
            ports = flow.proxy.ports if model.via is not None and flow.proxy else flow.ports
            port = next(
                (
                    p
                    for p in range(max(ports) + 1, 65536)
                    if not self.allowed(src, dst, flow.protocol, p)
                ),
                0,
            )
            if not port:
                return None
        elif variant == "internal-source":
            if not self.allowed.internet_any(flow.source):
                return None
            picked = self._internal(flow, family, dst, flow.protocol, port, as_source=True)
            if picked is None:
                return None
            src_zone, src = picked
            src_label = _("unknown ({zone})").format(zone=src_zone)
        elif variant == "internal-destination":
            if not self.allowed.internet_any(flow.destination):
                return None
            picked = self._internal(flow, family, src, flow.protocol, port, as_source=False)
            if picked is None:
                return None
            dst_zone, dst = picked
            dst_label = _("unknown ({zone})").format(zone=dst_zone)
        elif variant == "reversed":
            src_zone, src_label, src, dst_zone, dst_label, dst = (
                dst_zone,
                dst_label,
                dst,
                src_zone,
                src_label,
                src,
            )
        else:
            stranger = self._stranger(family, src_zone, dst_zone, dst, flow.protocol, port)
            if stranger is None:
                return None
            src_zone, src = stranger
            src_label = _("unknown ({zone})").format(zone=src_zone)
        path = self.graph.path(src_zone, dst_zone)
        key = (src, dst, flow.protocol, port)
        if not path or key in self.seen or self.allowed(*key):
            return None
        self.seen.add(key)
        self.count += 1
        return Case(
            id=f"unplanned-{self.count}",
            variant=variant,
            flow=flow.id,
            required=True,
            protocol=flow.protocol,
            port=port,
            source_zone=src_zone,
            source_label=src_label,
            source_address=src,
            destination_zone=dst_zone,
            destination_label=dst_label,
            destination_address=dst,
            firewalls=path if model.via is None else model.firewalls,
            name=model.name if model.via is not None else None,
            via=model.via,
            sent_to=model.sent_to if variant == "other-port" else None,
        )

    def _other_name(self, flow: Flow, model: Case) -> Case | None:
        """``model`` to a sibling of its name that the plan does not have."""
        if model.name is None or "." not in model.name:
            return None
        sibling = f"{OTHER_NAME_LABEL}.{model.name.partition('.')[2]}"
        planned = self.planned_names
        if any(sibling == n or sibling.endswith(f".{n.removeprefix('*.')}") for n in planned):
            return None  # dnsmasq's nftset= lines match names below a planned one too
        address = self.addresses.name_address(sibling, model.destination_zone, model.family)
        if address is None:
            return None
        key = (model.source_address, address, flow.protocol, model.port)
        if key in self.seen or self.allowed(*key):
            return None
        self.seen.add(key)
        self.count += 1
        return replace(
            model,
            id=f"unplanned-{self.count}",
            variant="other-name",
            destination_label=sibling,
            destination_address=address,
            name=sibling,
        )

    def _other_public(self, model: Case) -> Case | None:
        """``model``, sent to a public address, sent instead to an address of the same
        outside zone that no translation names (routed to the same firewall): the
        listener at the destination must not get it."""
        nat = next(
            (n for n in self.plan.nat if n.kind == "destination" and n.public == model.sent_to),
            None,
        )
        decoy = (
            None if nat is None else self.addresses.decoy(nat.firewall, nat.outside, model.family)
        )
        key = (model.source_address, decoy or "", model.protocol, model.port)
        if decoy is None or key in self.seen or self.allowed(*key):
            return None
        self.seen.add(key)
        self.count += 1
        return replace(model, id=f"unplanned-{self.count}", variant="other-public", sent_to=decoy)

    def _internal(
        self, flow: Flow, family: int, other: str, protocol: str, port: int, *, as_source: bool
    ) -> tuple[str, str] | None:
        """A stranger of a zone other than the Internet, as the source (or destination) of
        a new case with ``other`` at the other end: zones the flow goes through first."""
        site = self.plan.site
        walk = site.topology.walk(flow.source.zone, flow.destination.zone, flow.firewalls) or []
        internal = [z.name for z in site.zones if not z.internet]
        fixed_zone = flow.destination.zone if as_source else flow.source.zone
        for zone in [z for z in walk if z in internal] + [z for z in internal if z not in walk]:
            if zone == fixed_zone:
                continue
            address = self.addresses.stranger(zone, family)
            if address is None:
                continue
            src, dst = (address, other) if as_source else (other, address)
            zones = (zone, fixed_zone) if as_source else (fixed_zone, zone)
            if (src, dst, protocol, port) in self.seen or self.allowed(src, dst, protocol, port):
                continue
            if self.graph.path(*zones):
                return zone, address
        return None

    def _stranger(
        self, family: int, zone: str, dst_zone: str, dst: str, protocol: str, port: int
    ) -> tuple[str, str] | None:
        """An address of the source zone (else of another zone) that the plan does not allow."""
        zones = [zone] + [z.name for z in self.plan.site.zones if z.name != zone]
        for candidate in zones:
            if candidate == dst_zone:
                continue
            address = self.addresses.stranger(candidate, family)
            if address is not None and not self.allowed(address, dst, protocol, port):
                return candidate, address
        return None


def build_cases(
    plan: Plan, addresses: AddressPlan, unplanned_per_flow: int = 3
) -> tuple[list[Case], list[Skipped]]:
    """The planned cases in plan order, then the unplanned ones; and the flows skipped."""
    builder = _Builder(
        plan,
        addresses,
        unplanned_per_flow,
        [],
        [],
        plan.site.topology.graph,
        Allowed(plan, addresses.names),
        set(),
        frozenset(n for f in plan.flows for end in (f.source, f.destination) for n in end.names),
    )
    planned: list[tuple[Flow, list[Case]]] = []
    for flow in plan.flows:
        made = builder.planned(flow)
        builder.cases.extend(made)
        if made and flow.requested:
            planned.append((flow, made))
    for case in builder.cases:
        builder.seen.add(_packet(case))
    for flow, made in planned:
        models = {case.family: case for case in reversed(made)}
        for family in sorted(models):
            builder.cases.extend(builder.unplanned(flow, models[family]))
    return builder.cases, builder.skipped
