"""What the lab probes: every planned flow that crosses a firewall, and unplanned ones.

Planned cases go from the first source host to every destination host, on every port
and address family both ends have. Unplanned cases are derived from the first planned
case of each flow and family by changing one thing (the port, the direction, the
source) and are kept only when no flow of the plan allows them: each one must be
blocked.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from flowmatrix.lab.addressing import AddressPlan
from flowmatrix.model import Flow, FlowEnd, Plan
from flowmatrix.topology import FirewallGraph

Variant = Literal["planned", "other-port", "reversed", "other-source"]
NOT_REQUIRED = frozenset({"obsolete", "legacy"})
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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


class Allowed:
    """Does any flow of the plan allow this packet? ('any' ends allow every address.)"""

    def __init__(self, plan: Plan) -> None:
        self.index: dict[
            tuple[str, int], list[tuple[list[IPNetwork] | None, list[IPNetwork] | None]]
        ] = defaultdict(list)
        for flow in plan.flows:
            entry = (_networks(flow.source), _networks(flow.destination))
            for port in flow.ports:
                self.index[(flow.protocol, port)].append(entry)

    def __call__(self, source: str, destination: str, protocol: str, port: int) -> bool:
        src = ipaddress.ip_address(source)
        dst = ipaddress.ip_address(destination)
        for sources, destinations in self.index.get((protocol, port), ()):
            if _covers(sources, src) and _covers(destinations, dst):
                return True
        return False


def _networks(end: FlowEnd) -> list[IPNetwork] | None:
    if end.any_address:
        return None
    return [ipaddress.ip_network(a, strict=False) for a in end.addresses]


def _covers(
    networks: list[IPNetwork] | None, address: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> bool:
    if networks is None:
        return True
    return any(n.version == address.version and address in n for n in networks)


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
    count: int = 0

    def planned(self, flow: Flow) -> list[Case]:
        if not flow.firewalls:
            same = flow.source.zone == flow.destination.zone
            self.skipped.append(
                Skipped(
                    flow.id,
                    "same zone: no firewall on the path"
                    if same
                    else "no firewall path between the zones",
                )
            )
            return []
        sources = self.addresses.end_addresses(flow.source)
        destinations = self.addresses.end_addresses(flow.destination)
        if not destinations:
            names = ", ".join(flow.destination.fqdns) or flow.destination.role
            self.skipped.append(
                Skipped(
                    flow.id, f"destination known by name only ({names}): the rules cannot match it"
                )
            )
            return []
        if not sources:
            self.skipped.append(Skipped(flow.id, "the source has no address"))
            return []
        made = []
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
                for port in flow.ports:
                    made.append(
                        Case(
                            id=flow.id,
                            variant="planned",
                            flow=flow.id,
                            required=flow.status not in NOT_REQUIRED,
                            protocol=flow.protocol,
                            port=port,
                            source_zone=flow.source.zone,
                            source_label=source[0],
                            source_address=source[1],
                            destination_zone=flow.destination.zone,
                            destination_label=label,
                            destination_address=address,
                            firewalls=flow.firewalls,
                            service=flow.service,
                        )
                    )
        if not made:
            self.skipped.append(Skipped(flow.id, "source and destination share no address family"))
        return made

    def unplanned(self, flow: Flow, model: Case) -> list[Case]:
        """Up to ``unplanned_per_flow`` cases derived from ``model``, each one not allowed."""
        found: list[Case] = []
        for variant in ("other-port", "reversed", "other-source"):
            if len(found) >= self.unplanned_per_flow:
                break
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
        if variant == "other-port":
            port = next(
                (
                    p
                    for p in range(max(flow.ports) + 1, 65536)
                    if not self.allowed(src, dst, flow.protocol, p)
                ),
                0,
            )
            if not port:
                return None
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
            src_label = f"unknown ({src_zone})"
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
            firewalls=path,
        )

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
        plan, addresses, unplanned_per_flow, [], [], FirewallGraph(plan.site), Allowed(plan), set()
    )
    planned: list[tuple[Flow, list[Case]]] = []
    for flow in plan.flows:
        made = builder.planned(flow)
        if made:
            planned.append((flow, made))
            builder.cases.extend(made)
    for case in builder.cases:
        builder.seen.add((case.source_address, case.destination_address, case.protocol, case.port))
    for flow, made in planned:
        models = {case.family: case for case in reversed(made)}
        for family in sorted(models):
            builder.cases.extend(builder.unplanned(flow, models[family]))
    return builder.cases, builder.skipped
