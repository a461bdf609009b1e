"""Engine results (cells, alternatives, uids) turned into the report's plain data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.packet import Ctx, Region, unknown_reasons
from flowmatrix.audit.pipeline import Decision, PathResult
from flowmatrix.audit.result import FATES_LISTED, Condition, Fate, Part, RuleRef, Step
from flowmatrix.audit.verdict import Alternative, Cell
from flowmatrix.i18n import N_, _

_END_WORDS = {
    "accept": "ACCEPT",
    "drop": "DROP",
    "reject": "REJECT",
    "queue": N_("QUEUE (user space decides)"),
    "unknown": N_("unknown target"),
}


class Describer:
    """Caches rule references for one ruleset."""

    def __init__(self, ruleset: Ruleset, ephemeral: ranges.Ivs) -> None:
        self.ruleset = ruleset
        self.ephemeral = ephemeral
        self._refs: dict[int, RuleRef] = {}
        self._conditions: dict[tuple[object, ...], Condition] = {}
        self._steps: dict[tuple[object, ...], Step] = {}
        self._fates: dict[tuple[object, ...], Fate] = {}
        """Fates by what they are made of (rule uids, ends, assumptions, the context's
        part in the reasons when there are assumptions): a verdict is described once
        per distinct rule path, not once per flow port and cell."""
        self._known: dict[int, tuple[Alternative, Fate]] = {}
        """The fates of the alternatives already described that assume nothing, by the
        alternative's identity (with it, which keeps its id its own): the verdicts of
        flow ports that ask the same question are the same objects (``batch.py``)."""

    def ref(self, uid: int) -> RuleRef:
        found = self._refs.get(uid)
        if found is None:
            found = RuleRef.of(self.ruleset.rule(uid))
            self._refs[uid] = found
        return found

    def steps(self, result: PathResult | None) -> tuple[Step, ...]:
        if result is None:
            return ()
        return tuple(map(self._step, result.decisions))

    def _step(self, decision: Decision) -> Step:
        outcome = decision.outcome
        key = (decision.base, decision.end, outcome.rule, outcome.trace)
        found = self._steps.get(key)
        if found is None:
            found = self._steps[key] = self._make_step(decision)
        return found

    def _make_step(self, decision: Decision) -> Step:
        outcome = decision.outcome
        rule = (
            self.ref(outcome.rule)
            if outcome.rule is not None and decision.end in _END_WORDS
            else None
        )
        return Step(decision.base, decision.end, rule, tuple(self.ref(u) for u in outcome.trace))

    def decision_text(self, decision: Decision) -> str:
        if decision.end.startswith("policy-"):
            return _("policy {verdict} of {chain}").format(
                verdict=decision.end[7:].upper(), chain=decision.base
            )
        word = _(_END_WORDS[decision.end]) if decision.end in _END_WORDS else decision.end
        if decision.outcome.rule is None:
            return _("{verdict} in {chain}").format(verdict=word, chain=decision.base)
        return _("{verdict} by {rule}").format(
            verdict=word, rule=self.ref(decision.outcome.rule).label
        )

    def fate(self, alternative: Alternative, ctx: Ctx) -> Fate:
        request, reply = alternative
        status, blocked_leg = alternative.status, alternative.blocked_leg
        decider = (request if status == "allowed" or reply is None else reply).decider
        decided_by = (
            self.ref(decider.outcome.rule)
            if decider is not None
            and decider.outcome.rule is not None
            and decider.end in _END_WORDS
            else None
        )
        text = (
            _("ACCEPT (no chain on the path can drop it)")
            if decider is None
            else self.decision_text(decider)
        )
        if blocked_leg == "reply":
            text += " " + _("(reply)")
        assumptions = alternative.assumptions
        conditions = (
            tuple(self.condition(uid, holds, ctx) for uid, holds in dict.fromkeys(assumptions))
            if assumptions
            else ()
        )
        return Fate(
            status,
            blocked_leg,  # type: ignore[arg-type]
            decided_by,
            text,
            self.steps(request),
            self.steps(reply),
            conditions,
        )

    def condition(self, uid: int, holds: bool, ctx: Ctx) -> Condition:
        """One unevaluated condition, described once per rule and what of the context
        its reasons depend on (interfaces known or not, the ends' names)."""
        key = (uid, holds, ctx.iif is None, ctx.oif is None, ctx.src_names, ctx.dst_names)
        found = self._conditions.get(key)
        if found is None:
            reasons = tuple(unknown_reasons(self.ruleset.rule(uid).match, ctx))
            found = self._conditions[key] = Condition(self.ref(uid), holds, reasons)
        return found

    def part(self, cell: Cell, family: int, ctx: Ctx) -> Part:
        fates = self._fates_of(cell.alternatives, ctx)
        if len(fates) == 1:  # most cells: one alternative
            status = fates[0].status
        else:
            fates.sort(key=_held)
            status = cell.status
        return self._part(family, cell.region, (cell.iif, cell.oif), status, fates)

    def untranslated(
        self,
        ctx: Ctx,
        region: Region,
        status: Literal["blocked", "depends"],
        reason: str,
    ) -> Part:
        """A part that never reaches the rules as planned (its address translation is
        missing or leads elsewhere): its one fate is ``reason``."""
        fate = Fate(status, "request" if status == "blocked" else None, None, reason, (), (), ())
        return self._part(ctx.family, region, (ctx.iif, ctx.oif), status, [fate])

    def _part(
        self,
        family: int,
        region: Region,
        interfaces: tuple[str | None, str | None],
        status: Literal["allowed", "blocked", "depends"],
        fates: list[Fate],
    ) -> Part:
        sport = region.sport
        return Part(
            family,
            region.src,
            region.dst,
            sport,
            ranges.describe_addresses(region.src, family),
            ranges.describe_addresses(region.dst, family),
            "any" if sport == self.ephemeral else ranges.describe_ports(sport),
            *interfaces,
            status,
            tuple(fates[:FATES_LISTED]),
            max(0, len(fates) - FATES_LISTED),
        )

    def _fates_of(self, alternatives: Sequence[Alternative], ctx: Ctx) -> list[Fate]:
        """The distinct fates of a cell's alternatives, each described once."""
        if len(alternatives) == 1:
            return [self._fate_of(alternatives[0], ctx)]
        seen: dict[int, Fate] = {}
        for alternative in alternatives:
            fate = self._fate_of(alternative, ctx)
            seen.setdefault(id(fate), fate)
        return list(seen.values())

    def _fate_of(self, alternative: Alternative, ctx: Ctx) -> Fate:
        """The fate of one alternative, made once per distinct rule path: two fates are
        one object exactly when their keys (``_fate_key``) are equal."""
        known = self._known.get(id(alternative))
        if known is not None:
            return known[1]
        key = _fate_key(alternative, ctx)
        found = self._fates.get(key)
        if found is None:
            found = self._fates[key] = self.fate(alternative, ctx)
        if key[2] is None:
            self._known[id(alternative)] = (alternative, found)
        return found


def _held(fate: Fate) -> int:
    """How many unevaluated conditions a fate assumes true (the likeliest fates, which
    assume the fewest, are listed first)."""
    return sum(c.holds for c in fate.conditions)


def _fate_key(alternative: Alternative, ctx: Ctx) -> tuple[object, ...]:
    """What a fate is made of: each leg's rule path (``_path_key``) and, when the path
    assumes unevaluated conditions, what of the context their reasons depend on
    (interfaces known or not, the ends' names; see ``Describer.condition``). A fate that
    assumes nothing is the same in every context."""
    context = (
        (ctx.iif is None, ctx.oif is None, ctx.src_names, ctx.dst_names)
        if alternative.assumptions
        else None
    )
    return (_path_key(alternative.request), _path_key(alternative.reply), context)


def _path_key(result: PathResult | None) -> tuple[object, ...] | None:
    """What a fate takes from one leg: each base chain's end, deciding rule, trace and
    assumptions (plain numbers and words: cheap to hash)."""
    if result is None:
        return None
    return (
        result.verdict,
        tuple(
            (d.base, d.end, d.outcome.rule, d.outcome.trace, d.outcome.assumptions)
            for d in result.decisions
        ),
    )
