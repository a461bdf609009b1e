"""What the last cycle showed, and what changed since the cycle before.

Everything is rebuilt from each cycle's results: a flow that left the plan (a reloaded
site) leaves the state too, so months of cycles keep the memory flat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowmatrix.i18n import current
from flowmatrix.journeys import JourneyVerdict
from flowmatrix.probe.results import ProbeResult
from flowmatrix.probe.verify import VerifyReport

#: flow id, destination (host or role), address (or name), protocol, port
FlowKey = tuple[str, str, str, str, int | None]


def flow_key(result: ProbeResult) -> FlowKey:
    return (
        result.flow,
        result.destination_host or result.destination_role,
        result.address or result.fqdn or "",
        result.protocol,
        result.port,
    )


@dataclass(frozen=True, slots=True)
class Cycle:
    """One cycle: the verify report, the journeys judged from it, when and how long."""

    report: VerifyReport
    verdicts: tuple[JourneyVerdict, ...]
    started: float
    """Wall-clock time the cycle started (seconds since the epoch)."""
    duration: float
    """Seconds the cycle took."""


@dataclass(frozen=True, slots=True)
class StateChange:
    """A flow (or a journey) whose state differs from the cycle before."""

    time: float
    subject: str
    """``flow`` or ``journey``."""
    name: str
    """The flow id (with its address and port) or the journey id."""
    old: str | None
    new: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": round(self.time, 3),
            self.subject: self.name,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
        }


def _flow_label(result: ProbeResult) -> str:
    where = result.address or result.fqdn or result.destination_host or result.destination_role
    port = f"{result.protocol}/{result.port}" if result.port is not None else result.protocol
    return f"{result.flow} {where} {port}"


class WatchState:
    """The last cycle, when each flow last changed, and the counters of the whole run."""

    def __init__(self) -> None:
        self.last: Cycle | None = None
        self.changed_at: dict[FlowKey, float] = {}
        self.cycles_total = 0
        self.probe_errors_total = 0
        self._states: dict[FlowKey, str] = {}
        self._journeys: dict[str, str] = {}

    def record(self, cycle: Cycle) -> list[StateChange]:
        """Take ``cycle`` as the last one; the changes it shows (none on the first)."""
        first = self.last is None
        now = cycle.started + cycle.duration
        changes: list[StateChange] = []
        states: dict[FlowKey, str] = {}
        changed_at: dict[FlowKey, float] = {}
        for result in cycle.report.results:
            key = flow_key(result)
            old = self._states.get(key)
            states[key] = result.state
            if old == result.state:
                changed_at[key] = self.changed_at.get(key, now)
                continue
            changed_at[key] = now
            if not first:
                changes.append(
                    StateChange(now, "flow", _flow_label(result), old, result.state, result.reason)
                )
        journeys: dict[str, str] = {v.id: v.state for v in cycle.verdicts}
        if not first:
            for verdict in cycle.verdicts:
                old = self._journeys.get(verdict.id)
                if old != verdict.state:
                    why = "; ".join(verdict.blocking) or verdict.summary(current())
                    changes.append(StateChange(now, "journey", verdict.id, old, verdict.state, why))
        self._states, self.changed_at, self._journeys = states, changed_at, journeys
        self.last = cycle
        self.cycles_total += 1
        self.probe_errors_total += sum(1 for r in cycle.report.results if r.state == "error")
        return changes

    def count_failed_cycle(self) -> None:
        """A cycle that could not run at all (no address of the plan left on this host...)."""
        self.probe_errors_total += 1

    def results(self) -> Sequence[ProbeResult]:
        return () if self.last is None else self.last.report.results
