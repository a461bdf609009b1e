"""What the firewall sees of a flow before its rules: DNS names and address translation.

* Names: when some rule matches DNS names (FQDN objects), each query carries the names
  its ends are known by (``Ctx.src_names`` / ``dst_names``: the hosts' FQDNs, when every
  host of the end has one; none for an end that is any address).
* Destination translation: the plan gives the addresses hosts really have. When a
  destination translation of the configuration leads to a flow's destination (a
  FortiGate VIP, a PAN-OS or SRX destination NAT rule, an ASA static NAT), the flow is
  taken to arrive through it: its packets are addressed to the published address, and
  the connection carries the translation's name (``Ctx.dnat``). Rules that match the
  address after translation (``Device.filter_sees == "translated"``) see the plan's
  address; rules that match it before (PAN-OS) see the published address and port.
  The first translation listed that leads there is the one taken.
* Source translation happens after the rules: it only adds a note.
"""

from __future__ import annotations

from flowmatrix.audit import ranges
from flowmatrix.audit.device import Device, Translation
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.packet import Ctx, Region, iface_status
from flowmatrix.audit.ranges import Ivs
from flowmatrix.model import Flow, FlowEnd

Query = tuple[Ctx, Region]


def end_names(end: FlowEnd) -> frozenset[str] | None:
    """The DNS names an end is known by, when every host of it has one; empty for an end
    that is any address of its zone (no name decides whether it is served)."""
    if end.any_address:
        return frozenset()
    if not end.hosts or any(not h.fqdn for h in end.hosts):
        return None
    return frozenset(h.fqdn.lower().rstrip(".") for h in end.hosts if h.fqdn)


def prepare(ruleset: Ruleset, flow: Flow, queries: list[Query]) -> tuple[list[Query], list[str]]:
    """The queries as the firewall's rules see them, and notes on what changed."""
    notes: list[str] = []
    if ruleset.uses_names:
        src, dst = end_names(flow.source), end_names(flow.destination)
        if src is not None or dst is not None:
            queries = [(ctx._replace(src_names=src, dst_names=dst), r) for ctx, r in queries]
    device = ruleset.device
    if device is None or not device.translations:
        return queries, notes
    out: list[Query] = []
    for ctx, region in queries:
        for piece_ctx, piece, note in _arrive(device, ctx, region):
            out.append((piece_ctx, piece))
            if note and note not in notes:
                notes.append(note)
        note = _source_note(device, ctx, region)
        if note and note not in notes:
            notes.append(note)
    return out, notes


def _applies(t: Translation, ctx: Ctx, region: Region, *, translated: bool) -> bool:
    """Whether ``t``'s conditions other than the translated field surely hold."""
    match = t.match
    if match.family is not None and match.family != ctx.family:
        return False
    if match.protos is not None and ctx.proto not in match.protos:
        return False
    if iface_status(match.iif, ctx.iif) != "yes":
        return False
    if match.oif is not None and not translated and iface_status(match.oif, ctx.oif) != "yes":
        return False
    return match.src is None or ranges.is_subset(region.src, match.src)


def _arrive(device: Device, ctx: Ctx, region: Region) -> list[tuple[Ctx, Region, str | None]]:
    out: list[tuple[Ctx, Region, str | None]] = []
    rest = [region]
    for t in device.translations:
        if t.kind != "destination" or not t.to_addresses or not rest:
            continue
        if not _applies(t, ctx, region, translated=True):
            continue
        if t.to_ports is not None and not ranges.intersect(region.dport, t.to_ports):
            continue
        following = []
        for part in rest:
            inside = ranges.intersect(part.dst, t.to_addresses)
            if not inside:
                following.append(part)
                continue
            outside = ranges.difference(part.dst, t.to_addresses)
            if outside:
                following.append(part._replace(dst=outside))
            arrival_dst = _inverse(inside, t.to_addresses, t.match.dst, t.one_to_one)
            arrival_port = _inverse(part.dport, t.to_ports, t.match.dport, True)
            seen = part._replace(dst=inside)
            if device.filter_sees == "original":
                seen = seen._replace(dst=arrival_dst, dport=arrival_port)
            where = t.origin.where if t.origin.line is not None else t.origin.file
            published = ranges.describe_addresses(arrival_dst, ctx.family)
            real = ranges.describe_addresses(inside, ctx.family)
            port = ranges.describe_ports(arrival_port)
            view = (
                "the rules see the published address"
                if device.filter_sees == "original"
                else "the rules see the real address"
            )
            note = (
                f"arrives addressed to {published} port {port}: destination NAT by "
                f"{t.name} ({where}) to {real}; {view}"
            )
            out.append((ctx._replace(dnat=t.name), seen, note))
        rest = following
    out.extend((ctx, part, None) for part in rest)
    return out


def _inverse(values: Ivs, translated: Ivs | None, original: Ivs | None, one_to_one: bool) -> Ivs:
    """The original values that translate into ``values`` (by offset when one to one and
    the two ranges have the same size, else the whole original range)."""
    if translated is None or original is None:
        return values
    if one_to_one and len(translated) == 1 and len(original) == 1:
        (t_low, t_high), (o_low, o_high) = translated[0], original[0]
        if t_high - t_low == o_high - o_low:
            shift = o_low - t_low
            return tuple((low + shift, high + shift) for low, high in values)
    return original


def _source_note(device: Device, ctx: Ctx, region: Region) -> str | None:
    for t in device.translations:
        if t.kind != "source" or not _applies(t, ctx, region, translated=False):
            continue
        match = t.match
        if match.dst is not None and not ranges.is_subset(region.dst, match.dst):
            continue
        if match.dport is not None and not ranges.is_subset(region.dport, match.dport):
            continue
        leaves = (
            ranges.describe_addresses(t.to_addresses, ctx.family)
            if t.to_addresses
            else "the outgoing interface's address"
        )
        where = t.origin.where if t.origin.line is not None else t.origin.file
        return f"leaves from {leaves}: source NAT by {t.name} ({where}), after the rules"
    return None
