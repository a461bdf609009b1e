"""Rows against the plan: a verdict per row, a status per planned flow and port.

A planned flow is split into units, one per port, and each unit into elementary pairs
(one source address or host, one destination address, host or FQDN): a unit is covered
when every pair is covered by some row of the right protocol and port, so a sheet
written one row per host covers a flow as well as one row naming them all.

Row verdicts, most serious first:

- ``wrong_netscaler_address``: the row would cover a planned flow but uses another
  address of the same NetScaler (LDAP from the SNIP where the plan uses the NSIP or the
  AAA address: the classic failed-logon case);
- ``wrong_protocol``: the row would cover a planned flow on another protocol (DNS
  requested TCP only);
- ``obsolete``: the row opens what the catalog marks obsolete (binary APNs 2195/2196)
  and the site does not keep, or a flow the plan does not request;
- ``too_wide``: it covers planned flows but opens more than they need (``any`` for two
  hosts, a /16, a port range around one port, a protocol no flow uses);
- ``not_in_plan``: it covers nothing in the plan (to justify or remove);
- ``covered``; ``ignored`` (a row that does not open anything: deny, rejected,
  "not requested").

Unit statuses: ``covered``, ``missing``, ``wrong_protocol`` / ``wrong_netscaler_address``
(a row almost covers it), ``not_requested`` (obsolete or legacy, not kept: no finding).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field

from flowmatrix.matrixcheck.cells import AddressSet, Interval, interval
from flowmatrix.matrixcheck.details import Detail, detail
from flowmatrix.model import Flow, FlowEnd, Plan

ROW_FINDINGS = ("wrong_netscaler_address", "wrong_protocol", "obsolete", "too_wide", "not_in_plan")
UNIT_FINDINGS = ("missing", "wrong_protocol", "wrong_netscaler_address")


@dataclass(frozen=True, slots=True)
class Element:
    """One end of an elementary pair: an address (interval), or the whole zone (any)."""

    interval: Interval | None
    host: str | None
    role: str
    fqdn: str | None = None
    address: str | None = None
    any: bool = False


@dataclass
class Unit:
    """A planned flow on one port."""

    flow: Flow
    port: int
    sources: list[Element]
    destinations: list[Element]
    covered: set[tuple[int, int]] = field(default_factory=set)
    """(source index, destination index) pairs some row covers."""
    rows: list[int] = field(default_factory=list)
    status: str = "missing"
    detail: Detail | None = None

    @property
    def required(self) -> bool:
        return self.flow.requested

    @property
    def complete(self) -> bool:
        return len(self.covered) == len(self.sources) * len(self.destinations)


@dataclass
class Row:
    """One data row of the sheet, read."""

    number: int
    where: str
    sheet: str | None
    sources: AddressSet
    destinations: AddressSet
    protocols: frozenset[str]
    ports: tuple[tuple[int, int], ...]
    opens: bool = True
    texts: dict[str, str] = field(default_factory=dict)
    verdict: str = "not_in_plan"
    flows: list[str] = field(default_factory=list)
    details: list[Detail] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list, repr=False)
    """The planned units this row covers (part of), found by ``compare``."""

    def has_port(self, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.ports)

    def port_count(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ports)


def _elements(end: FlowEnd) -> list[Element]:
    if end.any_address:
        return [Element(None, None, end.role, any=True)]
    found: list[Element] = []
    for host in end.hosts:
        if host.addresses:
            for address in host.addresses:
                net = ipaddress.ip_network(address, strict=False)
                found.append(Element(interval(net), host.name, end.role, host.fqdn, address))
        elif host.fqdn:
            found.append(Element(None, host.name, end.role, host.fqdn.lower()))
    return found or [Element(None, None, end.role, any=True)]


def _holds(cells: AddressSet, element: Element) -> bool:
    if cells.any:
        return True
    if element.any:
        return element.role in cells.roles
    if element.interval is not None and cells.holds(element.interval):
        return True
    if element.host is not None and element.host in cells.hosts:
        return True
    if element.fqdn is not None and element.fqdn in cells.fqdns:
        return True
    return element.role in cells.roles


@dataclass
class Comparison:
    units: list[Unit]
    rows: list[Row]

    @property
    def findings(self) -> int:
        return sum(r.verdict in ROW_FINDINGS for r in self.rows) + sum(
            u.status in UNIT_FINDINGS for u in self.units
        )


class _Index:
    """Units by (protocol, port): a row only meets the units of its own ports."""

    def __init__(self, units: list[Unit]) -> None:
        self.by_key: dict[tuple[str, int], list[Unit]] = defaultdict(list)
        for unit in units:
            self.by_key[(unit.flow.protocol, unit.port)].append(unit)
        self.ports = sorted({p for _, p in self.by_key})

    def candidates(self, row: Row, protocols: frozenset[str] | None = None) -> list[Unit]:
        wanted = row.protocols if protocols is None else protocols
        found: list[Unit] = []
        for lo, hi in row.ports:
            if hi - lo < 64:
                ports: list[int] | range = range(lo, hi + 1)
            else:
                ports = [p for p in self.ports if lo <= p <= hi]
            for port in ports:
                for protocol in wanted:
                    found.extend(self.by_key.get((protocol, port), ()))
        return found


def _pairs(unit: Unit, row: Row) -> list[tuple[int, int]]:
    sources = [i for i, e in enumerate(unit.sources) if _holds(row.sources, e)]
    if not sources:
        return []
    destinations = [i for i, e in enumerate(unit.destinations) if _holds(row.destinations, e)]
    return [(s, d) for s in sources for d in destinations]


def _netscaler_addresses(plan: Plan) -> dict[str, set[str]]:
    return {h.name: set(h.all_addresses()) for h in plan.site.hosts if h.netscaler is not None}


def _plan_units(plan: Plan) -> list[Unit]:
    units = []
    for flow in plan.flows:
        sources, destinations = _elements(flow.source), _elements(flow.destination)
        for port in flow.ports:
            units.append(Unit(flow, port, sources, destinations))
    return units


def obsolete_ports(plan: Plan) -> frozenset[int]:
    """Ports only obsolete requirements of the catalog use (2195, 2196)."""
    obsolete: set[int] = set()
    current: set[int] = set()
    for req in plan.catalog.requirements:
        (obsolete if req.status == "obsolete" else current).update(req.ports)
    return frozenset(obsolete - current)


def compare(plan: Plan, rows: list[Row]) -> Comparison:
    units = _plan_units(plan)
    index = _Index(units)
    for row in rows:
        if not row.opens:
            row.verdict = "ignored"
            continue
        _cover(row, index)
    netscalers = _netscaler_addresses(plan)
    for unit in units:
        if unit.complete:
            unit.status = "covered" if unit.required else "opened"
            continue
        if not unit.required:
            unit.status = "not_requested"
            continue
        _diagnose(unit, rows, index, netscalers)
    stale = obsolete_ports(plan)
    for row in rows:
        if row.verdict in ("ignored", "wrong_netscaler_address", "wrong_protocol"):
            continue
        _judge(row, stale)
    return Comparison(units, rows)


def _cover(row: Row, index: _Index) -> None:
    for unit in index.candidates(row):
        pairs = _pairs(unit, row)
        if not pairs:
            continue
        unit.covered.update(pairs)
        unit.rows.append(row.number)
        row.units.append(unit)
        if unit.flow.id not in row.flows:
            row.flows.append(unit.flow.id)


def _diagnose(unit: Unit, rows: list[Row], index: _Index, netscalers: dict[str, set[str]]) -> None:
    """Why a required unit is not covered: a row on the wrong protocol or NetScaler address."""
    protocol = unit.flow.protocol
    for row in rows:
        if not row.opens or not row.has_port(unit.port):
            continue
        if protocol not in row.protocols and set(_pairs(unit, row)) - unit.covered:
            unit.status, unit.detail = "wrong_protocol", detail("at_row", where=row.where)
            row.verdict = "wrong_protocol"
            asked = "/".join(sorted(row.protocols)).upper() or "?"
            row.details.append(
                detail(
                    "wrong_protocol",
                    flow=unit.flow.id,
                    needed=protocol.upper(),
                    port=unit.port,
                    asked=asked,
                )
            )
            return
        if protocol in row.protocols:
            wrong = _wrong_netscaler(unit, row, netscalers)
            if wrong is not None:
                unit.status = "wrong_netscaler_address"
                unit.detail = detail("at_row", where=row.where)
                row.verdict = "wrong_netscaler_address"
                row.details.append(wrong)
                return
    missing = len(unit.sources) * len(unit.destinations) - len(unit.covered)
    if unit.covered:
        total = len(unit.sources) * len(unit.destinations)
        unit.detail = detail("pairs_missing", missing=missing, total=total)


def _wrong_netscaler(unit: Unit, row: Row, netscalers: dict[str, set[str]]) -> Detail | None:
    for side, elements, cells, other, other_cells in (
        ("source", unit.sources, row.sources, unit.destinations, row.destinations),
        ("destination", unit.destinations, row.destinations, unit.sources, row.sources),
    ):
        hosts = {e.host for e in elements if e.host in netscalers}
        if not hosts or not any(_holds(other_cells, e) for e in other):
            continue
        for host in hosts:
            planned = {e.address for e in elements if e.host == host and e.address}
            others = netscalers[host] - planned
            used = [a for a in others if cells.holds(interval(ipaddress.ip_network(a)))]
            if used and not any(_holds(cells, e) for e in elements if e.host == host):
                return detail(
                    "wrong_netscaler_address",
                    flow=unit.flow.id,
                    side=side,
                    planned=", ".join(sorted(planned)),
                    host=host,
                    used=", ".join(sorted(used)),
                )
    return None


def _judge(row: Row, stale: frozenset[int]) -> None:
    met = row.units
    required = [u for u in met if u.required]
    if any(not u.required for u in met) or (not required and any(row.has_port(p) for p in stale)):
        row.verdict = "obsolete"
        names = sorted({u.flow.id for u in met if not u.required})
        row.details.append(
            detail("not_requested_opened", flows=", ".join(names))
            if names
            else detail(
                "obsolete_port", ports=", ".join(str(p) for p in sorted(stale) if row.has_port(p))
            )
        )
        return
    if not required:
        row.verdict = "not_in_plan"
        return
    wide = _too_wide(row, required)
    row.verdict = "too_wide" if wide else "covered"
    row.details.extend(wide)


def _too_wide(row: Row, units: list[Unit]) -> list[Detail]:
    found: list[Detail] = []
    for side, cells, elements in (
        ("source", row.sources, [e for u in units for e in u.sources]),
        ("destination", row.destinations, [e for u in units for e in u.destinations]),
    ):
        needed_any = any(e.any for e in elements)
        if cells.any and not needed_any:
            found.append(detail("any_where_hosts", side=side, needed=_shown(elements)))
            continue
        needed = [e.interval for e in elements if e.interval is not None]
        extra = [iv for iv in cells.intervals if not _inside_union(iv, needed)]
        if extra and not needed_any:
            found.append(
                detail("wider_addresses", side=side, span=_span(extra), needed=_shown(elements))
            )
    ports = {u.port for u in units}
    if row.port_count() > len([p for p in ports if row.has_port(p)]):
        wanted = ", ".join(map(str, sorted(ports)))
        found.append(detail("wider_ports", ports=_ports(row.ports), needed=wanted))
    protocols = {u.flow.protocol for u in units}
    if row.protocols - protocols:
        unplanned = "/".join(sorted(row.protocols - protocols)).upper()
        found.append(detail("extra_protocol", protocol=unplanned))
    return found


def _inside_union(item: Interval, needed: list[Interval]) -> bool:
    version, lo, hi = item
    spans = sorted((a, b) for v, a, b in needed if v == version)
    cursor = lo
    for a, b in spans:
        if a > cursor:
            break
        if b >= cursor:
            cursor = b + 1
            if cursor > hi:
                return True
    return cursor > hi


def _shown(elements: list[Element]) -> str:
    names = list(dict.fromkeys(e.address or e.fqdn or e.host or "any" for e in elements))
    return ", ".join(names[:4]) + (f" (+{len(names) - 4})" if len(names) > 4 else "")


def _span(intervals: list[Interval]) -> str:
    parts = []
    for version, lo, hi in intervals[:3]:
        make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        nets = list(ipaddress.summarize_address_range(make(lo), make(hi)))
        parts.append(str(nets[0]) if len(nets) == 1 else f"{make(lo)}-{make(hi)}")
    return ", ".join(parts)


def _ports(ranges: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)
