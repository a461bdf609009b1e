"""From a plan and a selection to the list of things to probe, and nothing else.

Only what the plan names is ever probed: the single addresses of the destination hosts
(a host published through NAT on the way: its public address, as its source sends to
it), or their FQDNs. A destination given as a network wider than one address, or as "any
address in the zone", is reported as not probed, with the reason.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flowmatrix.documents import SiteRef
from flowmatrix.errors import UserError
from flowmatrix.i18n import _, pgettext
from flowmatrix.model import NOT_REQUIRED, Flow, FlowEnd, HostRef, PickledByFields, Plan
from flowmatrix.probe.local import IPAddress, is_local, local_addresses
from flowmatrix.probe.results import ProbeResult

AUTO = "auto"


@dataclass(frozen=True, slots=True)
class Selection:
    """Which flows to probe: from which source, which flows, towards which destination."""

    source: str | None = None
    """'auto' (match this host's addresses), a role id, a host name; None: 'auto' unless
    ``flows`` or ``to`` is given, then no source filter."""
    flows: tuple[str, ...] = ()
    """Flow ids (``XM-APP-07.1``) or requirement ids (``XM-APP-07``: all its flows)."""
    to: str | None = None
    """Destination role id or host name."""


@dataclass(frozen=True)
class FlowSource:
    """What probes are built from: flows of a plan, the site they belong to, and the
    names of the site's hosts and roles (to word an error about a source without flows).
    The remote probe of ``fleet`` has the flows of its plan file only."""

    flows: tuple[Flow, ...]
    site: SiteRef
    names: frozenset[str] = frozenset()

    @classmethod
    def of(cls, plan: Plan) -> FlowSource:
        names = {h.name for h in plan.site.hosts} | {r.id for r in plan.catalog.roles}
        return cls(plan.flows, plan.site_ref(), frozenset(names))


@dataclass(frozen=True, slots=True)
class ProbeTarget(PickledByFields):
    """One destination address (or name to resolve) and port of one flow."""

    flow_id: str
    requirement: str
    required: bool
    source_role: str
    source_host: str | None
    source_address: str | None
    """Local address to send from (the planned source address, when it is on this host)."""
    destination_role: str
    host: str
    address: str | None
    """The address to probe; None: resolve ``server_name`` first."""
    port: int
    protocol: str
    service: str | None
    tls: bool
    server_name: str | None
    """The destination's FQDN: the TLS server name, and the name to resolve."""
    documented: tuple[str, ...] = ()
    """Addresses or networks the plan gives for the host (compared with what the name resolves to)."""


@dataclass(frozen=True)
class TargetList:
    """The probes to run and the results already known (not probed), in plan order."""

    entries: tuple[ProbeTarget | ProbeResult, ...]
    source_label: str
    """What the source selection resolved to, for the report."""
    warnings: tuple[str, ...] = ()

    @property
    def targets(self) -> tuple[ProbeTarget, ...]:
        return tuple(e for e in self.entries if isinstance(e, ProbeTarget))


@dataclass(frozen=True, slots=True)
class _SourcePick:
    host: str | None
    bind: dict[int, str] = field(default_factory=dict)
    """IP version -> local address of the planned source host."""
    matched: bool = False


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _pick(hosts: Iterable[HostRef], local: tuple[IPAddress, ...]) -> _SourcePick:
    """The first host of ``hosts`` that has an address on this host, and what to bind."""
    for host in hosts:
        bind: dict[int, str] = {}
        matched = False
        for text in host.addresses:
            net = _network(text)
            if net is None:
                continue
            if net.num_addresses == 1:
                if is_local(net.network_address, local):
                    bind.setdefault(net.version, str(net.network_address))
                    matched = True
            elif any(a.version == net.version and a in net for a in local):
                matched = True
        if matched:
            return _SourcePick(host.name, bind, True)
    return _SourcePick(None)


def _suggest(word: str, choices: Iterable[str]) -> str:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.5)
    if close:
        return _("did you mean {choices}?").format(choices=_(" or ").join(repr(c) for c in close))
    shown = ", ".join(options[:15]) + (", ..." if len(options) > 15 else "")
    return _("known: {names}").format(names=shown)


def _end_names(end: FlowEnd) -> set[str]:
    return {h.name for h in end.hosts}


def _filter_flows(plan: FlowSource, selection: Selection) -> list[Flow]:
    flows = list(plan.flows)
    if selection.flows:
        wanted = {w.strip() for w in selection.flows}
        known = {f.id for f in flows} | {f.requirement for f in flows}
        for item in sorted(wanted - known):
            raise UserError(
                _("no flow or requirement {name} in this plan").format(name=repr(item)),
                hint=_suggest(item, known),
            )
        flows = [f for f in flows if f.id in wanted or f.requirement in wanted]
    if selection.to is not None:
        to = selection.to
        roles = {f.destination.role for f in plan.flows}
        hosts = set().union(*(_end_names(f.destination) for f in plan.flows))
        if to not in roles and to not in hosts:
            raise UserError(
                _("no flow goes to {name}").format(name=repr(to)),
                hint=_suggest(to, roles | hosts),
            )
        flows = [f for f in flows if f.destination.role == to or to in _end_names(f.destination)]
    return flows


def _source_filter(
    plan: FlowSource, flows: list[Flow], mode: str | None, local: tuple[IPAddress, ...]
) -> tuple[list[tuple[Flow, _SourcePick]], str, list[str]]:
    picked: list[tuple[Flow, _SourcePick]] = []
    warnings: list[str] = []
    if mode is None or mode == AUTO:
        for flow in flows:
            pick = _pick(flow.source.hosts, local)
            if mode is None or pick.matched:
                picked.append((flow, pick))
        label = _("this host (matched by address)") if mode == AUTO else _("this host")
        return picked, label, warnings
    roles = {f.source.role for f in plan.flows}
    hosts = set().union(*(_end_names(f.source) for f in plan.flows))
    if mode in roles:
        chosen = [f for f in flows if f.source.role == mode]
        label = _("role {role}").format(role=mode)
    elif mode in hosts:
        chosen = [f for f in flows if mode in _end_names(f.source)]
        label = _("host {host}").format(host=mode)
    else:
        if mode in plan.names:
            raise UserError(
                _("{name} is the source of no flow in this plan").format(name=repr(mode)),
                hint=_("sources: {names}").format(names=", ".join(sorted(roles | hosts))),
            )
        raise UserError(
            _("unknown source {name}").format(name=repr(mode)),
            hint=_suggest(mode, roles | hosts | {AUTO}),
        )
    for flow in chosen:
        candidates = [h for h in flow.source.hosts if mode in {h.name, flow.source.role}]
        pick = _pick(candidates, local)
        if not pick.matched and len(candidates) == 1:
            pick = _SourcePick(candidates[0].name)
        if not pick.matched and flow.source.hosts:
            warnings.append(
                _(
                    "no address of {source} in the plan is on this host: the firewalls will "
                    "see this host's own address, not the planned one"
                ).format(source=label)
            )
        picked.append((flow, pick))
    return picked, label, list(dict.fromkeys(warnings))


def build_targets(
    plan: Plan | FlowSource,
    selection: Selection | None = None,
    *,
    local: Sequence[IPAddress] | None = None,
) -> TargetList:
    """The probes for ``selection`` (default: every flow whose source is this host)."""
    if not isinstance(plan, FlowSource):
        plan = FlowSource.of(plan)
    selection = selection or Selection()
    here = tuple(local) if local is not None else local_addresses()
    flows = _filter_flows(plan, selection)
    mode = selection.source
    if mode is None and not selection.flows and selection.to is None:
        mode = AUTO
    picked, label, warnings = _source_filter(plan, flows, mode, here)
    if not picked:
        shown = ", ".join(str(a) for a in here if not a.is_loopback) or pgettext(
            "addresses", "none"
        )
        raise UserError(
            _("nothing to probe: no flow of the plan matches ({source})").format(source=label),
            hint=_(
                "this host's addresses: {addresses}; choose a source with --from ROLE|HOST "
                "or flows with --flow ID / --to ROLE|HOST"
            ).format(addresses=shown),
        )
    entries: list[ProbeTarget | ProbeResult] = []
    for flow, pick in picked:
        entries.extend(_flow_entries(flow, pick))
    return TargetList(tuple(entries), label, tuple(warnings))


def _flow_entries(flow: Flow, pick: _SourcePick) -> list[ProbeTarget | ProbeResult]:
    entries: list[ProbeTarget | ProbeResult] = []
    destination = flow.sent()  # as the source addresses it: a published host's public address
    if destination.any_address:
        anywhere = _(
            "the destination is any address in zone {zone}: nothing specific to probe"
        ).format(zone=destination.zone)
        return [_not_probed(flow, pick, None, None, port, anywhere) for port in flow.ports]
    for host in destination.hosts:
        if pick.host is not None and host.name == pick.host:
            itself = _("the destination is the source host itself")
            entries += [_not_probed(flow, pick, host, None, port, itself) for port in flow.ports]
            continue
        server_name = _name(host)
        for address, reason in _destination_addresses(host):
            if reason is not None:
                entries += [_not_probed(flow, pick, host, address, p, reason) for p in flow.ports]
                continue
            version = 6 if address is not None and ":" in address else 4
            required = flow.status not in NOT_REQUIRED
            bind = pick.bind.get(version)
            entries += [
                ProbeTarget(
                    flow_id=flow.id,
                    requirement=flow.requirement,
                    required=required,
                    source_role=flow.source.role,
                    source_host=pick.host,
                    source_address=bind,
                    destination_role=flow.destination.role,
                    host=host.name,
                    address=address,
                    port=port,
                    protocol=flow.protocol,
                    service=flow.service,
                    tls=flow.is_tls(port),
                    server_name=server_name,
                    documented=host.addresses,
                )
                for port in flow.ports
            ]
    return entries


def _name(host: HostRef) -> str | None:
    return host.fqdn if host.fqdn and "*" not in host.fqdn else None


def _destination_addresses(host: HostRef) -> list[tuple[str | None, str | None]]:
    """(address to probe or None to resolve, reason not to probe) for one destination host."""
    singles: list[tuple[str | None, str | None]] = []
    networks: list[str] = []
    for text in host.addresses:
        net = _network(text)
        if net is None:
            continue
        if net.num_addresses == 1:
            singles.append((str(net.network_address), None))
        else:
            networks.append(net.with_prefixlen)
    if singles:
        return singles
    if _name(host) is not None:
        return [(None, None)]
    if host.fqdn:
        return [(None, _("wildcard name {name}: no single host to resolve").format(name=host.fqdn))]
    if networks:
        reason = _("a network ({networks}), not a host: give host addresses to probe it")
        return [(None, reason.format(networks=", ".join(networks)))]
    return [(None, _("the plan gives no address or name for this host"))]


def _not_probed(
    flow: Flow,
    pick: _SourcePick,
    host: HostRef | None,
    address: str | None,
    port: int,
    reason: str,
) -> ProbeResult:
    return ProbeResult(
        flow=flow.id,
        requirement=flow.requirement,
        required=flow.status not in NOT_REQUIRED,
        source_role=flow.source.role,
        source_host=pick.host,
        source_address=None,
        destination_role=flow.destination.role,
        destination_host=host.name if host else None,
        fqdn=host.fqdn if host else None,
        address=address,
        port=port,
        protocol=flow.protocol,
        service=flow.service,
        state="not_probed",
        reason=reason,
    )
