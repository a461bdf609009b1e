"""A flow's fate: the request, then the reply, over every packet of the flow.

A connection works when its first packet passes (state NEW) and the answer comes back
(state ESTABLISHED, addresses and ports swapped). Both are evaluated, and the results
are refined into disjoint cells of the flow's packet space; a cell with alternatives
that disagree (an unevaluated condition decides) is "depends".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, NamedTuple, TypeVar

from flowmatrix.audit.packet import SYN, SYN_ACK, Ctx, Region
from flowmatrix.audit.pipeline import Path, PathResult, evaluate_path
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


def held(result: PathResult | None) -> int:
    """How many unevaluated conditions a leg assumes true."""
    return 0 if result is None else sum(holds for _, holds in result.assumptions)


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


def _history(result: PathResult | None) -> tuple[object, ...]:
    """A leg's assumptions and traces: breaks ties between equally likely alternatives
    the same way whatever order they come in."""
    if result is None:
        return ((), ())
    return (result.assumptions, tuple(d.outcome.trace for d in result.decisions))


def distinct_alternatives(alternatives: list[Alternative]) -> tuple[Alternative, ...]:
    """The distinct fates of a cell: one alternative per way it ends (status, the leg
    that decides and its deciding rule), the one assuming the fewest conditions true.

    Unevaluated conditions that do not decide multiply the histories, not the ends: n of
    them on a path make up to 2^n alternatives that end a handful of ways. A "depends"
    verdict lists those ways (never one of them as the answer), computed once."""
    best: dict[tuple[object, ...], tuple[tuple[object, ...], Alternative]] = {}
    for alternative in alternatives:
        reply = alternative.reply
        status = alternative.status
        last = alternative.request if status == "allowed" or reply is None else reply
        key = (status, alternative.blocked_leg, ending(last))
        rank = (
            held(alternative.request) + held(reply),
            *_history(alternative.request),
            *_history(reply),
        )
        found = best.get(key)
        if found is None or rank < found[0]:
            best[key] = (rank, alternative)
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
    return [
        Cell(cell, ctx.iif, ctx.oif, distinct_alternatives(labels))
        for cell, labels in refine(pieces)
    ]


@dataclass
class _Slot(Generic[T]):
    region: Region
    labels: list[T]


def refine(items: list[tuple[Region, T]]) -> list[tuple[Region, list[T]]]:
    """Disjoint regions, each with the labels of every item that covers it.

    Only regions whose sources overlap can meet: a sweep over the source intervals
    groups them, and each group is refined on its own (a walk's pieces are mostly
    disjoint: thousands of them cost a sort, not a product)."""
    grouped: dict[Region, list[T]] = {}
    for region, label in items:
        grouped.setdefault(region, []).append(label)
    if len(grouped) <= 1:
        return list(grouped.items())
    entries = list(grouped.items())
    out: list[tuple[Region, list[T]]] = []
    for members in _overlapping(entries):
        if len(members) == 1:
            out.append(entries[members[0]])
        else:
            out.extend(_refine_group([entries[i] for i in members]))
    return out


def _overlapping(entries: list[tuple[Region, list[T]]]) -> list[list[int]]:
    """The entries in groups such that regions of different groups never meet (their
    sources share no address), in the order of each group's first entry."""
    parent = list(range(len(entries)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    events = sorted(
        (low, high, index) for index, (region, _) in enumerate(entries) for low, high in region.src
    )
    cluster_high = -1
    owner = -1
    for low, high, index in events:
        if low <= cluster_high:
            parent[find(index)] = find(owner)
            cluster_high = max(cluster_high, high)
        else:
            cluster_high, owner = high, index
    groups: dict[int, list[int]] = {}
    for index in range(len(entries)):
        groups.setdefault(find(index), []).append(index)
    return sorted(groups.values(), key=lambda members: members[0])


def _refine_group(entries: list[tuple[Region, list[T]]]) -> list[tuple[Region, list[T]]]:
    slots: list[_Slot[T]] = []
    for region, labels in entries:
        pending = [region]
        updated: list[_Slot[T]] = []
        for slot in slots:
            hit = slot.region.intersect(region)
            if hit is None:
                updated.append(slot)
                continue
            updated.append(_Slot(hit, slot.labels + labels))
            updated.extend(_Slot(rest, slot.labels) for rest in slot.region.minus(region))
            pending = [piece for part in pending for piece in part.minus(slot.region)]
        updated.extend(_Slot(part, list(labels)) for part in pending)
        slots = updated
    return [(slot.region, slot.labels) for slot in slots]
