"""Live checks: probe the planned flows from this host (``verify``), or stand in for the
destination and log what arrives (``listen``).

The public API::

    from flowmatrix.probe import Selection, ProbeOptions, verify
    report = verify(plan, Selection(source="xenmobile"), ProbeOptions(timeout=1.0))
    for result in report.results:
        print(result.flow, result.address, result.port, result.state, result.reason)

Lower layers are usable on their own: ``targets.build_targets`` (plan -> targets),
``runner.probe_all`` / ``runner.run_probes`` (targets -> results), ``tcp.tcp_probe``,
``udp.udp_probe``, ``tls.tls_check``, ``listen.ListenSession``.

Imports: the top-level modules only.
"""

from __future__ import annotations

from flowmatrix.probe.results import ProbeResult, Summary
from flowmatrix.probe.scheduler import ProbeOptions, ProbeProgress, probe_all, run_probes
from flowmatrix.probe.targets import ProbeTarget, Selection, TargetList, build_targets
from flowmatrix.probe.verify import VerifyReport, verify

__all__ = [
    "ProbeOptions",
    "ProbeProgress",
    "ProbeResult",
    "ProbeTarget",
    "Selection",
    "Summary",
    "TargetList",
    "VerifyReport",
    "build_targets",
    "probe_all",
    "run_probes",
    "verify",
]
