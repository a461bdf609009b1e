"""Engine results (cells, alternatives, uids) turned into the report's plain data."""

from __future__ import annotations

from collections.abc import Iterable

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.packet import Ctx, unknown_reasons
from flowmatrix.audit.pipeline import Decision, PathResult
from flowmatrix.audit.result import Condition, Fate, Part, RuleRef, Step
from flowmatrix.audit.verdict import Alternative, Cell

_END_WORDS = {
    "accept": "ACCEPT",
    "drop": "DROP",
    "reject": "REJECT",
    "queue": "QUEUE (user space decides)",
    "unknown": "unknown target",
}


class Describer:
    """Caches rule references for one ruleset."""

    def __init__(self, ruleset: Ruleset, ephemeral: ranges.Ivs) -> None:
        self.ruleset = ruleset
        self.ephemeral = ephemeral
        self._refs: dict[int, RuleRef] = {}

    def ref(self, uid: int) -> RuleRef:
        found = self._refs.get(uid)
        if found is None:
            found = RuleRef.of(self.ruleset.rule(uid))
            self._refs[uid] = found
        return found

    def steps(self, result: PathResult | None) -> tuple[Step, ...]:
        if result is None:
            return ()
        return tuple(self._step(d) for d in result.decisions)

    def _step(self, decision: Decision) -> Step:
        outcome = decision.outcome
        rule = (
            self.ref(outcome.rule)
            if outcome.rule is not None and decision.end in _END_WORDS
            else None
        )
        return Step(decision.base, decision.end, rule, tuple(self.ref(u) for u in outcome.trace))

    def decision_text(self, decision: Decision) -> str:
        if decision.end.startswith("policy-"):
            return f"policy {decision.end[7:].upper()} of {decision.base}"
        word = _END_WORDS.get(decision.end, decision.end)
        if decision.outcome.rule is None:
            return f"{word} in {decision.base}"
        return f"{word} by {self.ref(decision.outcome.rule).label}"

    def fate(self, alternative: Alternative, ctx: Ctx) -> Fate:
        if alternative.status == "allowed" or alternative.reply is None:
            decider = alternative.request.decider
        else:
            decider = alternative.reply.decider
        decided_by = (
            self.ref(decider.outcome.rule)
            if decider is not None
            and decider.outcome.rule is not None
            and decider.end in _END_WORDS
            else None
        )
        text = (
            "ACCEPT (no chain on the path can drop it)"
            if decider is None
            else self.decision_text(decider)
        )
        if alternative.blocked_leg == "reply":
            text += " (reply)"
        conditions = tuple(
            Condition(
                self.ref(uid), holds, tuple(unknown_reasons(self.ruleset.rule(uid).match, ctx))
            )
            for uid, holds in dict.fromkeys(alternative.assumptions)
        )
        return Fate(
            alternative.status,
            alternative.blocked_leg,  # type: ignore[arg-type]
            decided_by,
            text,
            self.steps(alternative.request),
            self.steps(alternative.reply),
            conditions,
        )

    def part(self, cell: Cell, family: int, ctx: Ctx) -> Part:
        region = cell.region
        sport = region.sport
        return Part(
            family,
            region.src,
            region.dst,
            sport,
            ranges.describe_addresses(region.src, family),
            ranges.describe_addresses(region.dst, family),
            "any" if sport == self.ephemeral else ranges.describe_ports(sport),
            cell.iif,
            cell.oif,
            cell.status,
            tuple(
                sorted(
                    _dedupe(self.fate(a, ctx) for a in cell.alternatives),
                    key=lambda f: sum(c.holds for c in f.conditions),
                )
            ),
        )


def _dedupe(fates: Iterable[Fate]) -> list[Fate]:
    return list(dict.fromkeys(fates))
