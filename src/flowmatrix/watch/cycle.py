"""One cycle of a watch on the verify engine, and the plan it probes (reloaded on demand).

A cycle is ``flowmatrix verify`` with the same selection and bounds (``--rate``,
``--concurrency``): only the plan's targets are ever probed. The plan is loaded at start
and again on ``reload``; a broken edit of the site keeps the old plan, and the error
(``file:line:col: message``) is logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.journeys import JourneyFlows, journey_verdicts, plan_journeys
from flowmatrix.model import Plan
from flowmatrix.probe.scheduler import ProbeOptions
from flowmatrix.probe.targets import Selection
from flowmatrix.probe.verify import verify
from flowmatrix.watch.state import Cycle, StateChange, WatchState

Log = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class WatchSettings:
    """What to probe and how: the verify selection and bounds, and the cycle interval."""

    selection: Selection
    options: ProbeOptions
    interval: float
    """Seconds from the start of one cycle to the start of the next (before jitter)."""
    jitter: float = 0.1
    """Each wait is the interval give or take this fraction of it (spreads many watchers)."""


class Watcher:
    """Runs cycles on the current plan and keeps the ``WatchState`` of the run."""

    def __init__(
        self, load: Callable[[], Plan], settings: WatchSettings, log: Log | None = None
    ) -> None:
        self._load = load
        self.settings = settings
        self.log: Log = log or (lambda event: None)
        self.state = WatchState()
        self.plan = load()
        self._journeys: tuple[JourneyFlows, ...] = plan_journeys(self.plan)

    def reload(self) -> bool:
        """Read the site again; on a broken edit keep the old plan. True when reloaded."""
        try:
            plan = self._load()
        except UserError as exc:
            self.log({"event": "reload_failed", "error": str(exc), "kept": _("previous plan")})
            return False
        self.plan, self._journeys = plan, plan_journeys(plan)
        self.log({"event": "reloaded", "site": plan.site_file or plan.site.name})
        return True

    def cycle(self) -> tuple[Cycle, list[StateChange]]:
        """Probe once and record it. Raises ``UserError`` when nothing can be probed."""
        started = time.time()
        clock = time.monotonic()
        report = verify(self.plan, self.settings.selection, self.settings.options)
        verdicts = journey_verdicts(self._journeys, report.results)
        done = Cycle(report, verdicts, started, time.monotonic() - clock)
        return done, self.state.record(done)

    def cycle_or_log(self) -> Cycle | None:
        """A cycle that never stops the watch: what prevents it is logged and counted."""
        try:
            done, changes = self.cycle()
        except (UserError, OSError) as exc:
            self.state.count_failed_cycle()
            self.log({"event": "cycle_failed", "error": str(exc)})
            return None
        for change in changes:
            self.log(change.to_dict())
        return done
