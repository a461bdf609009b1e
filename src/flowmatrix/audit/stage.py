"""What the firewall sees of a flow before its rules: DNS names and address translation.

* Names: when some rule matches DNS names (FQDN objects), each query carries the names
  its ends are known by (``Ctx.src_names`` / ``dst_names``: the hosts' FQDNs, when every
  host of the end has one; none for an end that is any address).
* Planned destination translation: when the site publishes the flow's host through
  NAT on this firewall (``Flow.nat``), the flow arrives addressed to the public address.
  The configuration's first destination translation whose conditions surely hold for
  it (a vendor's, or a Linux ruleset's ``dnat``/``DNAT``, see ``linux_nat.py``) must
  lead to the host's own address and port; otherwise the part is lost (``Staged.lost``):
  blocked, or "depends" for a target that is not read.
* Destination translation the site does not plan (vendor configurations): the plan gives
  the addresses hosts really have. When a
  destination translation of the configuration leads to a flow's destination (a
  FortiGate VIP, a PAN-OS or SRX destination NAT rule, an ASA static NAT), the flow is
  taken to arrive through it: its packets are addressed to the published address, and
  the connection carries the translation's name (``Ctx.dnat``). Rules that match the
  address after translation (``Device.filter_sees == "translated"``) see the plan's
  address; rules that match it before (PAN-OS) see the published address and port.
  The first translation listed that leads there is the one taken.
* Source translation happens after the rules: it only adds a note (which says so when
  the site plans one here and the configuration has none, or another).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from flowmatrix.audit import linux_nat, ranges
from flowmatrix.audit.device import Device, Translation
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.packet import Ctx, Region, iface_status
from flowmatrix.audit.ranges import Ivs
from flowmatrix.i18n import _
from flowmatrix.model import Flow, FlowEnd, Nat

Query = tuple[Ctx, Region]
Lost = tuple[Ctx, Region, Literal["blocked", "depends"], str]
"""A part that never reaches the rules as planned, its status and why."""


def end_names(end: FlowEnd) -> frozenset[str] | None:
    """The DNS names an end is known by, when every host of it has one; empty for an end
    that is any address of its zone (no name decides whether it is served)."""
    if end.any_address:
        return frozenset()
    if not end.hosts or any(not h.fqdn for h in end.hosts):
        return None
    return frozenset(h.fqdn.lower().rstrip(".") for h in end.hosts if h.fqdn)


class Staged(NamedTuple):
    """The queries as the rules see them, notes on what changed, and the parts that never
    reach the rules as planned (with their status and why)."""

    queries: list[Query]
    notes: list[str]
    lost: list[Lost]


def prepare(
    ruleset: Ruleset, flow: Flow, queries: list[Query], firewall: str | None = None
) -> Staged:
    """The queries of ``flow`` as the rules of ``firewall`` see them."""
    notes: list[str] = []
    lost: list[Lost] = []
    if ruleset.uses_names:
        src, dst = end_names(flow.source), end_names(flow.destination)
        if src is not None or dst is not None:
            queries = [(ctx._replace(src_names=src, dst_names=dst), r) for ctx, r in queries]
    device = ruleset.device
    planned = [n for n in flow.nat if n.firewall == firewall] if firewall is not None else []
    if device is None and not planned:
        return Staged(queries, notes, lost)
    translations = device.translations if device is not None else linux_nat.translations(ruleset)
    filter_sees = device.filter_sees if device is not None else "translated"
    published = [n for n in planned if n.kind == "destination"]
    out: list[Query] = []
    for ctx, region in queries:
        arrived: list[tuple[Ctx, Region, str | None]] = [(ctx, region, None)]
        if published:
            arrived, missed = _through_planned(translations, filter_sees, ctx, region, published)
            lost.extend(missed)
        for piece_ctx, piece, note in arrived:
            pieces = [(piece_ctx, piece, note)]
            if device is not None and note is None:  # not planned: the configuration's own
                pieces = _arrive(device, piece_ctx, piece)
            for final_ctx, final, final_note in pieces:
                out.append((final_ctx, final))
                _add(notes, final_note)
        _add(notes, _source_note(translations, ctx, region, planned))
    return Staged(out, notes, lost)


def _add(notes: list[str], note: str | None) -> None:
    if note and note not in notes:
        notes.append(note)


def _through_planned(
    translations: tuple[Translation, ...],
    filter_sees: str,
    ctx: Ctx,
    region: Region,
    published: list[Nat],
) -> tuple[
    list[tuple[Ctx, Region, str | None]],
    list[Lost],
]:
    """The parts of ``region`` that the site publishes through NAT (``published``) arrive
    addressed to the public address: the configuration's first destination translation
    that holds for them must lead to the host's own address and port."""
    out: list[tuple[Ctx, Region, str | None]] = []
    lost: list[Lost] = []
    rest = [region]
    for nat in published:
        family, private = ranges.parse_prefix(nat.private[0])
        _family, public = ranges.parse_prefix(nat.public)
        if family != ctx.family:
            continue
        following = []
        for part in rest:
            inside = ranges.intersect(part.dst, (private,))
            if not inside:
                following.append(part)
                continue
            outside = ranges.difference(part.dst, (private,))
            if outside:
                following.append(part._replace(dst=outside))
            arrival = part._replace(dst=(public,))
            port = ranges.describe_ports(part.dport)
            planned = _("arrives addressed to {address} port {port} (site: {nat})").format(
                address=nat.public, port=port, nat=nat.describe()
            )
            t = _first(translations, "destination", ctx, arrival)
            seen = part._replace(dst=inside)
            if t is None:
                reason = _(
                    "{planned}: no destination NAT of the configuration translates it, so it "
                    "does not reach {address}"
                ).format(planned=planned, address=nat.private[0])
                lost.append((ctx, seen, "blocked", reason))
                continue
            where = _where(t)
            if not t.readable or t.to_addresses is None:
                reason = _(
                    "{planned}: {name} ({where}) translates it to an address not read"
                ).format(planned=planned, name=t.name, where=where)
                lost.append((ctx, seen, "depends", reason))
                continue
            image = _forward(arrival.dst, t.match.dst, t.to_addresses, t.one_to_one)
            port_image = _forward(arrival.dport, t.match.dport, t.to_ports, True)
            if image != inside or port_image != part.dport:
                reason = _(
                    "{planned}: {name} ({where}) translates it to {address} port {port}, "
                    "not to {private} port {private_port}"
                ).format(
                    planned=planned,
                    name=t.name,
                    where=where,
                    address=ranges.describe_addresses(image, ctx.family),
                    port=ranges.describe_ports(port_image),
                    private=nat.private[0],
                    private_port=port,
                )
                lost.append((ctx, seen, "blocked", reason))
                continue
            view = _("the rules see the real address")
            if filter_sees == "original":
                seen, view = arrival, _("the rules see the published address")
            note = _("{planned}: destination NAT by {name} ({where}); {view}").format(
                planned=planned, name=t.name, where=where, view=view
            )
            out.append((ctx._replace(dnat=t.name), seen, note))
        rest = following
    out.extend((ctx, part, None) for part in rest)
    return out, lost


def _first(
    translations: tuple[Translation, ...], kind: str, ctx: Ctx, region: Region
) -> Translation | None:
    """The first translation of ``kind`` whose conditions surely hold for ``region``
    (a destination one seen as the packet arrives, a source one as it leaves)."""
    for t in translations:
        if t.kind != kind or not _applies(t, ctx, region, translated=kind == "destination"):
            continue
        match = t.match
        if match.dst is not None and not ranges.is_subset(region.dst, match.dst):
            continue
        if match.dport is not None and not ranges.is_subset(region.dport, match.dport):
            continue
        return t
    return None


def _forward(values: Ivs, original: Ivs | None, translated: Ivs | None, one_to_one: bool) -> Ivs:
    """What ``values`` translate to: by offset when one to one and the two ranges have
    the same size, else the whole translated range (unchanged without a translation)."""
    if translated is None:
        return values
    if one_to_one and original is not None and len(translated) == 1 and len(original) == 1:
        (t_low, t_high), (o_low, o_high) = translated[0], original[0]
        if t_high - t_low == o_high - o_low:
            shift = t_low - o_low
            return tuple((low + shift, high + shift) for low, high in values)
    return translated


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
            where = _where(t)
            published = ranges.describe_addresses(arrival_dst, ctx.family)
            real = ranges.describe_addresses(inside, ctx.family)
            port = ranges.describe_ports(arrival_port)
            view = (
                _("the rules see the published address")
                if device.filter_sees == "original"
                else _("the rules see the real address")
            )
            note = _(
                "arrives addressed to {published} port {port}: destination NAT by "
                "{name} ({where}) to {real}; {view}"
            ).format(published=published, port=port, name=t.name, where=where, real=real, view=view)
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


def _source_note(
    translations: tuple[Translation, ...], ctx: Ctx, region: Region, planned: list[Nat]
) -> str | None:
    """How the flow leaves: the configuration's source translation, compared with the
    site's when it plans one here."""
    wanted = next((n for n in planned if n.kind == "source"), None)
    t = _first(translations, "source", ctx, region)
    if t is not None:
        leaves = (
            ranges.describe_addresses(t.to_addresses, ctx.family)
            if t.to_addresses
            else _("the outgoing interface's address")
        )
        where = _where(t)
        note = _("leaves from {addresses}: source NAT by {name} ({where}), after the rules").format(
            addresses=leaves, name=t.name, where=where
        )
        if wanted is not None and t.to_addresses != _planned_source(wanted):
            note += "; " + _("the site says it leaves as {address}").format(
                address=wanted.public or "masquerade"
            )
        return note
    if wanted is not None:
        return _(
            "the site translates its source here ({nat}); the configuration "
            "has no source NAT for it: it leaves from its own address"
        ).format(nat=wanted.describe())
    return None


def _where(t: Translation) -> str:
    """Where the translation is written: ``file:line``, or the file."""
    return t.origin.where if t.origin.line is not None else t.origin.file


def _planned_source(nat: Nat) -> Ivs | None:
    if nat.masquerade:
        return None
    return (ranges.parse_prefix(nat.public)[1],)
