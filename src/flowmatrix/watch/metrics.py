"""The Prometheus metrics of a watch: one custom collector built from the last cycle.

No mutable gauge per flow: each collection builds the metric families from the
``WatchState`` at hand (the last cycle's results, the run's counters). Label values are
the plan's identifiers only (flow, requirement, roles or hosts, address, protocol, port,
the state from a closed vocabulary): never a reason or another free text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from flowmatrix.journeys import proven
from flowmatrix.probe.results import ProbeResult
from flowmatrix.watch.state import WatchState, flow_key

FLOW_LABELS = (
    "flow",
    "requirement",
    "source",
    "destination",
    "address",
    "protocol",
    "port",
    "required",
)


def flow_labels(result: ProbeResult) -> list[str]:
    """The values of ``FLOW_LABELS`` for one result."""
    return [
        result.flow,
        result.requirement,
        result.source_host or result.source_role,
        result.destination_host or result.destination_role,
        result.address or result.fqdn or "",
        result.protocol,
        "" if result.port is None else str(result.port),
        "true" if result.required else "false",
    ]


def _expiry_timestamp(result: ProbeResult) -> float | None:
    if result.tls is None or result.tls.not_after is None:
        return None
    moment = dt.datetime.fromisoformat(result.tls.not_after.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


class WatchCollector:
    """Builds every ``flowmatrix_*`` metric family from ``state`` at each collection."""

    def __init__(self, state: WatchState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        yield from self._flows(state)
        yield from self._journeys(state)
        cycle = state.last
        duration = GaugeMetricFamily(
            "flowmatrix_cycle_duration_seconds", "Seconds the last cycle of probes took."
        )
        last = GaugeMetricFamily(
            "flowmatrix_last_cycle_timestamp_seconds",
            "When the last cycle ended (seconds since the epoch).",
        )
        if cycle is not None:
            duration.add_metric([], cycle.duration)
            last.add_metric([], cycle.started + cycle.duration)
        yield duration
        yield last
        yield CounterMetricFamily(
            "flowmatrix_cycles", "Cycles of probes run since start.", value=state.cycles_total
        )
        yield CounterMetricFamily(
            "flowmatrix_probe_errors",
            "Probes that failed locally (state error) and cycles that could not run.",
            value=state.probe_errors_total,
        )

    def _flows(self, state: WatchState) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "flowmatrix_flow_up",
            "1 when the last probe proved the flow (open, no finding), 0 otherwise.",
            labels=FLOW_LABELS,
        )
        current = GaugeMetricFamily(
            "flowmatrix_flow_state",
            "1 for the flow's current state (open, closed, filtered, unreachable, ...).",
            labels=(*FLOW_LABELS, "state"),
        )
        latency = GaugeMetricFamily(
            "flowmatrix_flow_probe_duration_seconds",
            "Time from the answered attempt to its answer, when there was one.",
            labels=FLOW_LABELS,
        )
        changed = GaugeMetricFamily(
            "flowmatrix_flow_last_change_timestamp_seconds",
            "When the flow's state last changed (or watch first saw it).",
            labels=FLOW_LABELS,
        )
        expiry = GaugeMetricFamily(
            "flowmatrix_tls_certificate_expiry_timestamp_seconds",
            "When the certificate the TLS port presented expires (seconds since the epoch).",
            labels=("flow", "address", "port"),
        )
        dns = GaugeMetricFamily(
            "flowmatrix_dns_answer_matches_documented",
            "1 when the name resolved to documented addresses only, 0 otherwise.",
            labels=("name",),
        )
        names: dict[str, bool] = {}
        for result in state.results():
            labels = flow_labels(result)
            up.add_metric(labels, 1.0 if proven(result) else 0.0)
            current.add_metric([*labels, result.state], 1.0)
            if result.latency_ms is not None:
                latency.add_metric(labels, result.latency_ms / 1000.0)
            changed.add_metric(labels, state.changed_at.get(flow_key(result), 0.0))
            expires = _expiry_timestamp(result)
            if expires is not None:
                expiry.add_metric([result.flow, labels[4], labels[6]], expires)
            if result.dns is not None:
                matches = result.dns.error is None and not result.dns.undocumented
                names[result.dns.name] = names.get(result.dns.name, True) and matches
        for name, matches in names.items():
            dns.add_metric([name], 1.0 if matches else 0.0)
        yield from (up, current, latency, changed, expiry, dns)

    def _journeys(self, state: WatchState) -> Iterator[Metric]:
        journeys = GaugeMetricFamily(
            "flowmatrix_journey_up",
            "1 when every required flow of the user journey probed from here is up.",
            labels=("journey",),
        )
        for verdict in () if state.last is None else state.last.verdicts:
            if verdict.state != "absent":
                journeys.add_metric([verdict.id], 1.0 if verdict.up else 0.0)
        yield journeys


def exposition(state: WatchState) -> bytes:
    """The Prometheus text format of ``state`` (what ``/metrics`` and the textfile hold)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WatchCollector(state))
    return generate_latest(registry)
