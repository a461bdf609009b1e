"""The audit: the planned flows crossing one firewall (or reaching one host), judged
against its ruleset, plus what the ruleset allows beyond them and what in it is dead."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from flowmatrix.audit import ranges
from flowmatrix.audit.aftermath import Aftermath, FixWork, RulesetWork
from flowmatrix.audit.batch import evaluate_flows
from flowmatrix.audit.binding import bind_zones
from flowmatrix.audit.describe import Describer
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.fixes import Blocked, usual
from flowmatrix.audit.ipassmt import InterfaceMap, from_zones
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.packet import Ctx, Region
from flowmatrix.audit.pipeline import Path
from flowmatrix.audit.privilege import Served
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.result import PARTS_LISTED, AuditReport, Fix, FlowResult, FlowStatus, Part
from flowmatrix.audit.scope import EndScope, EndScopes, Interfaces, interfaces_for
from flowmatrix.audit.stage import Staged, prepare
from flowmatrix.audit.verdict import Cell, request_context
from flowmatrix.errors import UserError
from flowmatrix.i18n import _, ngettext
from flowmatrix.model import Flow, Plan
from flowmatrix.site_view import Firewall, SiteView

EPHEMERAL: Ivs = ((1024, 65535),)
PROTOCOLS = {"tcp": 6, "udp": 17}


def audit_plan(
    plan: Plan,
    ruleset: Ruleset,
    *,
    firewall: str | None = None,
    host: str | None = None,
    ipassmt: InterfaceMap | None = None,
    source_ports: Ivs = EPHEMERAL,
    parts_listed: int = PARTS_LISTED,
) -> AuditReport:
    """Judge ``ruleset`` against the planned flows through ``firewall`` (forward path) or,
    with ``host``, against the flows to and from that host (input and output paths).
    Each flow lists at most ``parts_listed`` parts (0: all)."""
    if (firewall is None) == (host is None):
        raise UserError(
            _("give either a firewall or a host to audit"),
            hint=_("--firewall NAME for a router, --host NAME for a host's own rules"),
        )
    site = plan.site
    jobs: list[tuple[Flow, Path, EndScope, EndScope]] = []
    scope_of = EndScopes(site)
    fw = None
    if firewall is not None:
        fw = site.firewall(firewall)
        if fw is None:
            known = ", ".join(f.name for f in site.firewalls) or _("none")
            raise UserError(
                _("no firewall {firewall!r} in site {site!r}").format(
                    firewall=firewall, site=site.name
                ),
                hint=_("firewalls of the site: {names}").format(names=known),
            )
        binding: list[str] = []
        if ruleset.device is not None:
            fw, binding = bind_zones(site, fw, ruleset.device)
        for flow in plan.flows_through(firewall):
            seen_source, seen_destination = flow.seen_by(firewall)  # NAT: what it sees
            jobs.append((flow, "forward", scope_of(seen_source), scope_of(seen_destination)))
        target = f"firewall {firewall}"
    else:
        assert host is not None
        jobs = _host_jobs(plan, host, scope_of)
        target = f"host {host}"
        binding = []
    walker = CompiledWalker(ruleset)
    describer = Describer(ruleset, source_ports)
    served: dict[tuple[int, int], Served] = {}
    used: set[int] = set()
    paths: set[Path] = set()
    families: set[int] = set()
    # every flow port's queries first, evaluated at once per path (audit/batch.py)
    ports: list[tuple[Flow, int, Path, EndScope, EndScope, list[tuple[Ctx, Region]]]] = []
    by_path: dict[Path, list[tuple[Ctx, Region]]] = {}
    staged: dict[tuple[str, int], Staged] = {}
    for flow, path, source, destination in jobs:
        paths.add(path)
        for port in flow.ports:
            interfaces = interfaces_for(site, flow, fw, ipassmt)
            queries = _queries(
                ruleset, flow, port, path, source, destination, interfaces, source_ports
            )
            stage = prepare(ruleset, flow, queries, firewall)
            staged[(flow.id, port)] = stage
            ports.append((flow, port, path, source, destination, stage.queries))
            by_path.setdefault(path, []).extend(stage.queries)
    cells = {path: iter(evaluate_flows(walker, path, items)) for path, items in by_path.items()}
    evaluated: list[list[tuple[Ctx, list[Cell]]]] = []
    to_fix: list[tuple[Path, list[Blocked]]] = []
    fixed_at: list[int | None] = []
    """Per flow port, where its blocked pieces are in ``to_fix`` (None: none blocked)."""
    for flow, port, path, _source, _destination, queries in ports:
        found = [(ctx, next(cells[path])) for ctx, _ in queries]
        evaluated.append(found)
        blocked: list[Blocked] = []
        for ctx, port_cells in found:
            families.update((ctx.family,) if port_cells else ())  # listed or not
            for cell in port_cells:
                _collect(cell, flow, port, ctx, path, served, used)
                if cell.status == "blocked":
                    blocked.extend(Blocked(cell.region, ctx, a) for a in usual(cell.alternatives))
        fixed_at.append(len(to_fix) if blocked else None)
        if blocked:
            to_fix.append((path, blocked))
    # what is left once the verdicts are known, beside the flows' descriptions
    # (aftermath.py): the ruleset's own findings and the fixes of the blocked ports
    aftermath = Aftermath(
        RulesetWork(
            ruleset,
            paths,
            families or set(ruleset.families),
            used,
            by_path,
            served,
            ipassmt or _zone_interfaces(site, fw),
            walker.sibling(),
        ),
        FixWork(ruleset, walker, to_fix),
    )
    described = [
        _describe_flow(
            ruleset, describer, (source, destination), found, parts_listed, staged[(flow.id, port)]
        )
        for (flow, port, _path, source, destination, _queried), found in zip(
            ports, evaluated, strict=True
        )
    ]
    findings, fixes = aftermath.results()
    results = [
        _flow_result(flow, port, path, item, () if at is None else fixes[at])
        for (flow, port, path, *_rest), item, at in zip(ports, described, fixed_at, strict=True)
    ]
    wide = findings.wide
    notes = list(binding)
    if wide.bounded:
        notes.append(
            ngettext(
                "least privilege: {n} rule(s) judged by their match less what "
                "earlier rules take whole (their exact reach splits too finely to walk)",
                "least privilege: {n} rule(s) judged by their match less what "
                "earlier rules take whole (their exact reach splits too finely to walk)",
                wide.bounded,
            ).format(n=wide.bounded)
        )
    if ipassmt is None and (fw is None or not fw.interfaces):
        notes.append(
            _(
                "interfaces unknown: rules on -i/-o (iifname/oifname) make the verdict "
                "'depends'; give --ipassmt or 'interfaces' for the firewall in the site"
            )
        )
    return AuditReport(
        site=site.name,
        site_file=plan.site_file,
        target=target,
        path=", ".join(sorted(paths)) or "forward",
        ruleset_file=ruleset.file,
        dialect=ruleset.dialect,
        interfaces_from=(
            f"ipassmt {ipassmt.source}"
            if ipassmt is not None
            else ("site" if ruleset.device is None else "site, bound to the configuration")
            if fw is not None and fw.interfaces
            else "unknown"
        ),
        source_ports=ranges.describe_ports(source_ports),
        flows=tuple(results),
        wide_rules=tuple(wide.rules),
        unused_rules=tuple(findings.unused),
        dead_rules=tuple(findings.dead),
        unevaluated=tuple(findings.unevaluated),
        problems=ruleset.problems,
        notes=tuple(notes) + ruleset.notes,
        site_digest=plan.site_digest,
    )


def _zone_interfaces(site: SiteView, firewall: Firewall | None) -> InterfaceMap | None:
    """The firewall's interfaces as an interface map, from the zones they face."""
    if firewall is None or not firewall.interfaces:
        return None
    zones = {z.name: z for z in site.zones}
    own = {name: [str(n) for n in nets] for name, nets in site.topology.own_networks.items()}
    entries = []
    for zone_name, ifname in firewall.interfaces.items():
        zone = zones.get(zone_name)
        if zone is not None:
            entries.append((ifname, own[zone_name], zone.internet))
    # zones behind the next firewalls are reached through the interface toward them
    for other in site.zones:
        if other.name in firewall.interfaces:
            continue
        toward = _toward(site, firewall, other.name)
        if toward is not None and toward in firewall.interfaces:
            entries.append((firewall.interfaces[toward], own[other.name], other.internet))
    return from_zones(entries)


def _toward(site: SiteView, firewall: Firewall, zone: str) -> str | None:
    """The zone of ``firewall`` through which ``zone`` is reached."""
    for mine in firewall.zones:
        path = site.topology.path(mine, zone)
        if path is not None and firewall.name not in path:
            return mine
    return None


def _host_jobs(
    plan: Plan, host: str, scope_of: EndScopes
) -> list[tuple[Flow, Path, EndScope, EndScope]]:
    site = plan.site
    found = site.host(host)
    if found is None:
        known = ", ".join(h.name for h in site.hosts) or _("none")
        raise UserError(
            _("no host {host!r} in site {site!r}").format(host=host, site=site.name),
            hint=_("hosts: {names}").format(names=known),
        )
    jobs: list[tuple[Flow, Path, EndScope, EndScope]] = []
    for flow in plan.flows:
        for path, end in (("input", flow.destination), ("output", flow.source)):
            mine = [h for h in end.hosts if h.name == host]
            if not mine:
                continue
            own = EndScope(_addresses(tuple(a for h in mine for a in h.addresses)))
            if path == "input":  # from the source as it arrives (source NAT on the way)
                jobs.append((flow, "input", scope_of(flow.received()), own))
            else:  # to the destination as sent (its public address)
                jobs.append((flow, "output", own, scope_of(flow.sent())))
    return jobs


def _addresses(items: tuple[str, ...]) -> dict[int, Ivs]:
    grouped: dict[int, list[tuple[int, int]]] = {}
    for item in items:
        family, interval = ranges.parse_prefix(item)
        grouped.setdefault(family, []).append(interval)
    return {family: ranges.normalize(ivs) for family, ivs in grouped.items()}


def _queries(
    ruleset: Ruleset,
    flow: Flow,
    port: int,
    path: Path,
    source: EndScope,
    destination: EndScope,
    interfaces: Interfaces,
    source_ports: Ivs,
) -> list[tuple[Ctx, Region]]:
    """(context, region) of each part of a flow port: per address family, per input and
    output interface."""
    proto = PROTOCOLS[flow.protocol]
    families = sorted(set(source.by_family) & set(destination.by_family) & set(ruleset.families))
    out: list[tuple[Ctx, Region]] = []
    for family in families:
        for src, iif in interfaces.split_source(family, source.by_family[family]):
            for dst, oif in interfaces.split_destination(family, destination.by_family[family]):
                ctx = request_context(family, proto, iif, oif, path)
                out.append((ctx, Region(src, dst, source_ports, ranges.point(port))))
    return out


class _Described(NamedTuple):
    """A flow port's verdict and its parts, described; its fixes come after."""

    status: FlowStatus
    parts: tuple[Part, ...]
    more_parts: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]


def _describe_flow(
    ruleset: Ruleset,
    describer: Describer,
    ends: tuple[EndScope, EndScope],
    evaluated: list[tuple[Ctx, list[Cell]]],
    parts_listed: int,
    stage: Staged,
) -> _Described:
    """One flow port's verdict and parts; ``stage.lost`` are its parts that never reach
    the rules as planned (a missing or wrong address translation, see ``stage.py``)."""
    source, destination = ends
    notes = [n for n in (source.note, destination.note) if n]
    families = set(source.by_family) & set(destination.by_family) & set(ruleset.families)
    if not families:
        notes.append(_why_unresolved(source, destination, ruleset))
    found = [(ctx, cell) for ctx, cells in evaluated for cell in cells]
    listed, unlisted = _listed(found, parts_listed)
    parts = [describer.untranslated(*item) for item in stage.lost]
    parts += [describer.part(cell, ctx.family, ctx) for ctx, cell in listed]
    status = _status({cell.status for _, cell in found} | {item[2] for item in stage.lost})
    return _Described(status, tuple(parts), unlisted, (*notes, *stage.notes))


def _flow_result(
    flow: Flow, port: int, path: Path, described: _Described, fixes: Sequence[Fix]
) -> FlowResult:
    return FlowResult(
        flow_id=flow.id,
        requirement=flow.requirement,
        description=flow.description,
        source=flow.source.role_name,
        source_zone=flow.source.zone,
        destination=flow.destination.role_name,
        destination_zone=flow.destination.zone,
        protocol=flow.protocol,
        port=port,
        required=flow.requested and flow.status != "obsolete",
        flow_status=flow.status,
        status=described.status,
        path=path,
        parts=described.parts,
        fixes=tuple(fixes),
        notes=described.notes,
        more_parts=described.more_parts,
    )


_LISTED_FIRST = {"blocked": 0, "depends": 1, "allowed": 2}


def _listed(
    found: list[tuple[Ctx, Cell]], limit: int
) -> tuple[list[tuple[Ctx, Cell]], tuple[tuple[str, int], ...]]:
    """The cells a flow lists (all with ``limit`` 0; else the blocked first, then the
    undecided, then the allowed, up to ``limit``, in their order) and the others counted
    by status."""
    if not limit or len(found) <= limit:
        return found, ()
    ranked = sorted(range(len(found)), key=lambda i: (_LISTED_FIRST[found[i][1].status], i))
    kept = sorted(ranked[:limit])
    counts = Counter(found[i][1].status for i in ranked[limit:])
    return [found[i] for i in kept], tuple(
        sorted(counts.items(), key=lambda c: _LISTED_FIRST[c[0]])
    )


def _why_unresolved(source: EndScope, destination: EndScope, ruleset: Ruleset) -> str:
    if not source.by_family or not destination.by_family:
        return _("no address known for an end of the flow")
    common = set(source.by_family) & set(destination.by_family)
    if not common:
        return _("source and destination have no address family in common")
    return _("the ruleset is {dialect} (IPv{families}) and the flow is IPv{flow_families}").format(
        dialect=ruleset.dialect,
        families="/".join(map(str, sorted(ruleset.families))),
        flow_families="/".join(map(str, sorted(common))),
    )


def _collect(
    cell: Cell,
    flow: Flow,
    port: int,
    ctx: Ctx,
    path: Path,
    served: dict[tuple[int, int], Served],
    used: set[int],
) -> None:
    """Remember which accept rules decided which flows (for least privilege)."""
    family, proto = ctx.family, ctx.proto
    for alternative in cell.alternatives:
        for result in (alternative.request, alternative.reply):
            if result is None:
                continue
            for step in result.decisions:
                if step.outcome.rule is not None:
                    used.add(step.outcome.rule)
        if alternative.status != "allowed":
            continue
        decision = alternative.request.decider
        if decision is None or decision.outcome.rule is None or decision.end != "accept":
            continue
        uid = decision.outcome.rule
        need = served.get((uid, family))
        if need is None:
            need = served[(uid, family)] = Served(family, decision.outcome.trace)
        need.contexts.setdefault((path, ctx), None)
        need.sports.extend(cell.region.sport)
        need.src.extend(cell.region.src)
        need.dst.extend(cell.region.dst)
        need.ports.append((port, port))
        need.protos.add(proto)
        need.flows.setdefault(f"{flow.id}/{flow.protocol}/{port}", None)


def _status(statuses: set[str]) -> FlowStatus:
    if not statuses:
        return "unresolved"
    if "blocked" in statuses:
        return "blocked" if statuses == {"blocked"} else "partial"
    if "depends" in statuses:
        return "depends"
    return "allowed"
