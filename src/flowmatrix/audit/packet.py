"""What is evaluated: a region of packets in one context, and what happens to it.

A ``Region`` is a box over (source, destination, source port, destination port); the
``Ctx`` holds what is the same for every packet of the region (family, protocol,
connection state, TCP flags, interfaces, direction). An ``Outcome`` is what a chain
does with a region: its end, the deciding rule, the rules walked through, and the
assumptions made about conditions the tool cannot evaluate.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Literal, NamedTuple

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import PORT_PROTOCOLS, IfaceMatch, Match
from flowmatrix.audit.ranges import Ivs
from flowmatrix.i18n import _

End = Literal["accept", "drop", "reject", "queue", "unknown", "return"]
Tri = Literal["yes", "no", "maybe"]

SYN = 0x02
SYN_ACK = 0x12


class Region(NamedTuple):
    """A box of packets; a tuple so that it hashes and compares fast."""

    src: Ivs
    dst: Ivs
    sport: Ivs
    dport: Ivs

    def dims(self) -> tuple[Ivs, Ivs, Ivs, Ivs]:
        return self.src, self.dst, self.sport, self.dport

    def mirrored(self) -> Region:
        """The same packets seen from the other end (a reply's region)."""
        return Region(self.dst, self.src, self.dport, self.sport)

    def intersect(self, other: Region) -> Region | None:
        dims = []
        for mine, theirs in zip(self.dims(), other.dims(), strict=True):
            both = ranges.intersect(mine, theirs)
            if not both:
                return None
            dims.append(both)
        return Region(*dims)

    def minus(self, other: Region) -> list[Region]:
        """``self`` without ``other``, as disjoint boxes."""
        cube = other.dims()
        return split(self, (cube[0], cube[1], cube[2], cube[3]))[1]

    def contains(self, other: Region) -> bool:
        return all(
            ranges.is_subset(mine, theirs)
            for mine, theirs in zip(other.dims(), self.dims(), strict=True)
        )


class Ctx(NamedTuple):
    """What every packet of a region shares."""

    family: int
    proto: int
    state: str
    tcp_flags: int | None
    iif: str | None
    """Input interface; None when unknown, "" when there is none (locally sent packets)."""
    oif: str | None
    reply: bool = False
    local_src: bool = False
    local_dst: bool = False
    src_names: frozenset[str] | None = None
    """The DNS names the packet's source end is known by, when every host of that end
    has one (an FQDN object in a rule is then decided, see ``names_status``); empty
    when the end is any address of its zone."""
    dst_names: frozenset[str] | None = None
    dnat: str = ""
    """The destination translation the connection went through ("" for none)."""

    def untracked(self) -> Ctx:
        return self._replace(state="untracked")


class Outcome(NamedTuple):
    """What a chain (or a path of chains) does with a region."""

    end: End
    rule: int | None
    """uid of the deciding rule; None when the end of the chain was reached."""
    trace: tuple[int, ...]
    """uids of the rules walked through: jumps, gotos, returns, and the deciding rule."""
    assumptions: tuple[tuple[int, bool], ...] = ()
    """(uid, holds): an unevaluated condition of that rule assumed true or false."""
    untracked: bool = False


def applicability(match: Match, ctx: Ctx) -> Tri:
    """Whether the context-wide conditions of a match hold for every packet of ``ctx``."""
    if not context_holds(match, ctx):
        return "no"
    maybe = bool(match.opaque)
    for status in (
        iface_status(match.iif, ctx.iif),
        iface_status(match.oif, ctx.oif),
        rpfilter_status(match.rpfilter, ctx.iif),
        names_status(match.src_names, ctx.src_names),
        names_status(match.dst_names, ctx.dst_names),
    ):
        if status == "no":
            return "no"
        if status == "maybe":
            maybe = True
    return "maybe" if maybe else "yes"


def rpfilter_status(want: bool | None, iif: str | None) -> Tri:
    """A packet whose input interface is known came in where its source lives."""
    if want is None:
        return "yes"
    if iif is None:
        return "maybe"
    return "yes" if want else "no"


def context_holds(match: Match, ctx: Ctx, *, check_box: bool = True) -> bool:
    """The conditions on family, protocol, state, flags and direction (not interfaces);
    ``check_box=False`` when the caller already knows the rule's box is not empty."""
    if match.never is not None:
        return False
    if match.family is not None and match.family != ctx.family:
        return False
    if match.protos is not None and ctx.proto not in match.protos:
        return False
    if (match.sport is not None or match.dport is not None) and ctx.proto not in PORT_PROTOCOLS:
        return False
    if match.states is not None and ctx.state not in match.states:
        return False
    if match.tcp_flags:
        if ctx.tcp_flags is None:
            return False
        for mask, value, negated in match.tcp_flags:
            if ((ctx.tcp_flags & mask) == value) == negated:
                return False
    if match.direction is not None and (match.direction == "reply") != ctx.reply:
        return False
    if match.local_src is not None and match.local_src != ctx.local_src:
        return False
    if match.local_dst is not None and match.local_dst != ctx.local_dst:
        return False
    if match.dnat is not None and ctx.dnat not in match.dnat:
        return False
    return not check_box or match.cube(ctx.reply) is not None


def iface_status(want: IfaceMatch | None, have: str | None) -> Tri:
    if want is None:
        return "yes"
    if have is None:
        return "maybe"
    return "yes" if want.matches(have) else "no"


def names_status(want: frozenset[str] | None, have: frozenset[str] | None) -> Tri:
    """Whether an address one of the names ``want`` resolves to is that of an end known
    by the names ``have``, judged through the names: yes when every name of the end is
    one of ``want`` (patterns with ``*`` allowed), no when none is (the object serves
    other names), otherwise (some names, or an end known by address or as any address:
    ``have`` None or empty) it depends on what DNS answers."""
    if want is None:
        return "yes"
    if not have:
        return "maybe"
    served = [any(fnmatchcase(name, p) for p in want) for name in have]
    if all(served):
        return "yes"
    return "no" if not any(served) else "maybe"


def unknown_reasons(match: Match, ctx: Ctx) -> list[str]:
    """Why a match is only 'maybe' in this context."""
    reasons = list(match.opaque)
    if match.iif is not None and ctx.iif is None:
        reasons.append(
            _("input interface {interface} (interface of the source unknown)").format(
                interface=match.iif.describe()
            )
        )
    if match.rpfilter is not None and ctx.iif is None:
        reasons.append(_("reverse-path check (interface of the source unknown)"))
    if match.oif is not None and ctx.oif is None:
        reasons.append(
            _("output interface {interface} (interface of the destination unknown)").format(
                interface=match.oif.describe()
            )
        )
    for end, want, have in (
        ("source", match.src_names, ctx.src_names),
        ("destination", match.dst_names, ctx.dst_names),
    ):
        if names_status(want, have) == "maybe":
            assert want is not None
            if have:
                known = _("the plan knows it as {names}").format(names=", ".join(sorted(have)))
            elif have is None:
                known = _("the plan gives it by address")
            else:
                known = _("the plan gives it as any address")
            text = (
                _("DNS: whether the source is an address of {names} ({known})")
                if end == "source"
                else _("DNS: whether the destination is an address of {names} ({known})")
            )
            reasons.append(text.format(names=", ".join(sorted(want)), known=known))
    return reasons


Cube = tuple[Ivs | None, Ivs | None, Ivs | None, Ivs | None]


def split(region: Region, cube: Cube) -> tuple[Region | None, list[Region]]:
    """(the part of ``region`` inside ``cube``, the rest as disjoint boxes)."""
    dims = list(region.dims())
    rest: list[Region] = []
    for index, want in enumerate(cube):
        if want is None:
            continue
        have = dims[index]
        inside = ranges.intersect(have, want)
        if not inside:
            return None, [region]
        if inside != have:
            outside = ranges.difference(have, want)
            piece = list(dims)
            piece[index] = outside
            rest.append(Region(piece[0], piece[1], piece[2], piece[3]))
            dims[index] = inside
    return Region(dims[0], dims[1], dims[2], dims[3]), rest


def intersects(region: Region, cube: Cube) -> bool:
    for have, want in zip(region.dims(), cube, strict=True):
        if want is not None and not ranges.meets(have, want):
            return False
    return True
