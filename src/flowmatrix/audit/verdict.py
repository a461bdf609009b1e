"""A flow's fate: the request, then the reply, over every packet of the flow.

A connection works when its first packet passes (state NEW) and the answer comes back
(state ESTABLISHED, addresses and ports swapped). Both are evaluated, and the results
are refined into disjoint cells of the flow's packet space; a cell with alternatives
that disagree (an unevaluated condition decides) is "depends".
"""

from __future__ import annotations

from operator import itemgetter
from typing import Literal, NamedTuple, TypeVar

from flowmatrix.audit import ranges
from flowmatrix.audit.packet import SYN, SYN_ACK, Ctx, Region
from flowmatrix.audit.pipeline import Path, PathResult, evaluate_path
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.walk import Walker

Status = Literal["allowed", "blocked", "depends"]
T = TypeVar("T")
REPLY_PATH: dict[str, Path] = {"forward": "forward", "input": "output", "output": "input"}


class Alternative(NamedTuple):
    """One possible fate of a cell (one set of assumptions on unevaluated conditions)."""

    request: PathResult
    reply: PathResult | None
    """None when the request does not pass."""

    @property
    def status(self) -> Status:
        last = self.request if self.reply is None else self.reply
        if last.verdict == "accept":
            return "allowed"
        if last.verdict in ("queue", "unknown"):
            return "depends"
        return "blocked"

    @property
    def blocked_leg(self) -> str | None:
        if self.request.verdict != "accept":
            return "request"
        if self.reply is not None and self.reply.verdict != "accept":
            return "reply"
        return None

    @property
    def assumptions(self) -> tuple[tuple[int, bool], ...]:
        extra = self.reply.assumptions if self.reply is not None else ()
        return self.request.assumptions + extra


class Cell(NamedTuple):
    """Packets of a flow that share one fate (or one set of alternative fates)."""

    region: Region
    """In the request's coordinates: source, destination, source port, destination port."""
    iif: str | None
    oif: str | None
    alternatives: tuple[Alternative, ...]

    @property
    def status(self) -> Status:
        found = {a.status for a in self.alternatives}
        return found.pop() if len(found) == 1 else "depends"


_HOLDS = itemgetter(1)
"""Of an assumption ``(uid, holds)``: whether it was assumed true."""


def held(result: PathResult | None) -> int:
    """How many unevaluated conditions a leg assumes true."""
    return 0 if result is None else sum(map(_HOLDS, result.assumptions))


def ending(result: PathResult) -> tuple[object, ...]:
    """What a leg's fate is, its history aside: the verdict and the deciding rule."""
    decider = result.decider
    if decider is None:
        return (result.verdict,)
    return (result.verdict, decider.base, decider.end, decider.outcome.rule)


def distinct_results(results: list[PathResult]) -> list[PathResult]:
    """One result per distinct ending (the one assuming the fewest conditions true), in
    the order of their first appearance."""
    best: dict[tuple[object, ...], tuple[tuple[object, ...], PathResult]] = {}
    for result in results:
        key = ending(result)
        rank = (held(result), *_history(result))
        found = best.get(key)
        if found is None or rank < found[0]:
            best[key] = (rank, result)
    return [result for _, result in best.values()]


def _history(
    result: PathResult | None,
) -> tuple[tuple[tuple[int, bool], ...], tuple[object, ...]]:
    """A leg's assumptions and traces: breaks ties between equally likely alternatives
    the same way whatever order they come in."""
    if result is None:
        return ((), ())
    return (result.assumptions, tuple(d.outcome.trace for d in result.decisions))


class Ranks:
    """Each alternative's ending (as a small number) and how many conditions it assumes
    true, kept by identity for the cells of one flow, which share alternatives (the
    caller keeps them alive). An ending is a nested tuple whose hash would be computed
    again at every cell: its number is computed once. The histories that break ties are
    computed only for the alternatives that tie."""

    __slots__ = ("by_identity", "endings", "histories")

    def __init__(self) -> None:
        self.by_identity: dict[int, tuple[int, int]] = {}
        self.endings: dict[tuple[object, ...], int] = {}
        self.histories: dict[int, tuple[object, ...]] = {}

    def of(self, alternative: Alternative) -> tuple[int, int]:
        """(ending number, conditions assumed true)."""
        known = self.by_identity.get(id(alternative))
        if known is None:
            request, reply = alternative.request, alternative.reply
            status = alternative.status
            last = request if status == "allowed" or reply is None else reply
            key = (status, alternative.blocked_leg, ending(last))
            number = self.endings.setdefault(key, len(self.endings))
            known = self.by_identity[id(alternative)] = (number, held(request) + held(reply))
        return known

    def history(self, alternative: Alternative) -> tuple[object, ...]:
        """Both legs' assumptions and traces: the same winner whatever the order."""
        known = self.histories.get(id(alternative))
        if known is None:
            known = (*_history(alternative.request), *_history(alternative.reply))
            self.histories[id(alternative)] = known
        return known


def distinct_alternatives(
    alternatives: list[Alternative], ranks: Ranks | None = None
) -> tuple[Alternative, ...]:
    """The distinct fates of a cell: one alternative per way it ends (status, the leg
    that decides and its deciding rule), the one assuming the fewest conditions true.

    Unevaluated conditions that do not decide multiply the histories, not the ends: n of
    them on a path make up to 2^n alternatives that end a handful of ways. A "depends"
    verdict lists those ways (never one of them as the answer), computed once."""
    ranks = ranks or Ranks()
    rank_of = ranks.of
    best: dict[int, tuple[int, Alternative]] = {}
    for alternative in alternatives:
        key, held_true = rank_of(alternative)
        found = best.get(key)
        if (
            found is None
            or held_true < found[0]
            or (
                held_true == found[0]
                and found[1] is not alternative
                and ranks.history(alternative) < ranks.history(found[1])
            )
        ):
            best[key] = (held_true, alternative)
    return tuple(alternative for _, alternative in best.values())


def request_context(family: int, proto: int, iif: str | None, oif: str | None, path: Path) -> Ctx:
    return Ctx(
        family,
        proto,
        "new",
        SYN if proto == 6 else None,
        "" if path == "output" else iif,
        "" if path == "input" else oif,
        False,
        path == "output",
        path == "input",
    )


def reply_context(request: Ctx) -> Ctx:
    return Ctx(
        request.family,
        request.proto,
        "established",
        SYN_ACK if request.proto == 6 else None,
        request.oif,
        request.iif,
        True,
        request.local_dst,
        request.local_src,
        request.dst_names,
        request.src_names,
        request.dnat,
    )


def evaluate_flow(walker: Walker, path: Path, ctx: Ctx, region: Region) -> list[Cell]:
    """Request and reply of the packets of ``region`` (one input and output interface)."""
    pieces: list[tuple[Region, Alternative]] = []
    back = reply_context(ctx)
    back_path = REPLY_PATH[path]
    for part, result in evaluate_path(walker, path, ctx, region):
        if result.verdict != "accept":
            pieces.append((part, Alternative(result, None)))
            continue
        for reply_part, reply in evaluate_path(walker, back_path, back, part.mirrored()):
            pieces.append((reply_part.mirrored(), Alternative(result, reply)))
    if len(pieces) == 1:  # one fate for the whole region: nothing to refine or merge
        part, alternative = pieces[0]
        return [Cell(part, ctx.iif, ctx.oif, (alternative,))]
    ranks = Ranks()  # ``pieces`` keeps the alternatives alive
    return [
        Cell(cell, ctx.iif, ctx.oif, distinct_alternatives(labels, ranks))
        for cell, labels in refine(pieces)
    ]


def refine(items: list[tuple[Region, T]]) -> list[tuple[Region, list[T]]]:
    """Disjoint regions, each with the labels of every item that covers it.

    A sweep over the sources cuts them where the set of covering items changes; the
    values covered by the same set become one piece (several intervals), and each piece
    is swept again over the destinations, then the ports, with only its own items. The
    cost follows the boundaries and the covering sets (a sort per dimension), not the
    product of the items: a walk's pieces overlap where assumptions differ, nested or
    split along one dimension or another, thousands of them in one flow."""
    grouped: dict[Region, list[T]] = {}
    for region, label in items:
        grouped.setdefault(region, []).append(label)
    if len(grouped) <= 1:
        return list(grouped.items())
    entries = list(grouped.items())
    regions = [region for region, _ in entries]
    return [
        (Region(*dims), [label for index in members for label in entries[index][1]])
        for dims, members in _sweep(regions, tuple(range(len(entries))), 0)
    ]


_Cells = list[tuple[tuple[Ivs, ...], tuple[int, ...]]]


def _sweep(regions: list[Region], members: tuple[int, ...], dimension: int) -> _Cells:
    """The cells of ``members``' regions from ``dimension`` on: each the values (per
    dimension) that the same members cover, with those members in order."""
    if dimension == len(Region._fields):
        return [((), members)]
    if len(members) == 1:
        return [(tuple(regions[members[0]][dimension:]), members)]
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for index in members:
        for low, high in regions[index][dimension]:
            starts.setdefault(low, []).append(index)
            ends.setdefault(high + 1, []).append(index)
    points = sorted(starts.keys() | ends.keys())
    active: dict[int, int] = {}  # member -> how many of its intervals hold the point
    by_cover: dict[frozenset[int], list[tuple[int, int]]] = {}
    for at, value in enumerate(points[:-1]):
        for index in ends.get(value, ()):
            active[index] -= 1
            if not active[index]:
                del active[index]
        for index in starts.get(value, ()):
            active[index] = active.get(index, 0) + 1
        if active:
            by_cover.setdefault(frozenset(active), []).append((value, points[at + 1] - 1))
    cells: _Cells = []
    for cover, intervals in by_cover.items():
        values = ranges.normalize(intervals)
        for rest, covering in _sweep(regions, tuple(sorted(cover)), dimension + 1):
            cells.append(((values, *rest), covering))
    return cells
