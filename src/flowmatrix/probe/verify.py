"""``verify`` as one call: select the flows, probe them, return the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowmatrix.errors import ExitCode
from flowmatrix.model import Plan
from flowmatrix.probe.local import IPAddress
from flowmatrix.probe.results import ProbeResult, Summary, summarise
from flowmatrix.probe.scheduler import ProbeOptions, ProbeProgress, run_probes
from flowmatrix.probe.targets import FlowSource, ProbeTarget, Selection, build_targets


@dataclass(frozen=True)
class VerifyReport:
    """All results of a run, in plan order, with what the source selection resolved to."""

    results: tuple[ProbeResult, ...]
    source: str
    warnings: tuple[str, ...]
    options: ProbeOptions
    site: str
    site_digest: str | None = None

    @property
    def summary(self) -> Summary:
        return summarise(self.results)

    @property
    def exit_code(self) -> ExitCode:
        """1 when a required flow failed (or showed a finding), else 0."""
        return ExitCode.FINDINGS if self.summary.failed else ExitCode.OK


def verify(
    plan: Plan | FlowSource,
    selection: Selection | None = None,
    options: ProbeOptions | None = None,
    progress: ProbeProgress | None = None,
    *,
    local: Sequence[IPAddress] | None = None,
) -> VerifyReport:
    """Probe the selected flows of ``plan`` from this host."""
    options = options or ProbeOptions()
    source = plan if isinstance(plan, FlowSource) else FlowSource.of(plan)
    chosen = build_targets(source, selection, local=local)
    probed = iter(run_probes(chosen.targets, options, progress))
    results = tuple(
        next(probed) if isinstance(entry, ProbeTarget) else entry for entry in chosen.entries
    )
    return VerifyReport(
        results, chosen.source_label, chosen.warnings, options, source.site.name, source.site.digest
    )
