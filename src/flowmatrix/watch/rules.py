"""The Prometheus alerting rules of a watch (``flowmatrix watch --alert-rules FILE``)."""

from __future__ import annotations

import math
from typing import Any

import yaml

from flowmatrix.watch.durations import promql_duration

#: A certificate this close to its end raises an alert.
EXPIRY_WARNING_DAYS = 30


def alert_rules(interval: float, down_cycles: int = 3) -> str:
    """A rules file for ``promtool check rules``: a flow or journey down for ``down_cycles``
    cycles, a certificate expiring within 30 days, a watch gone stale or silent."""
    hold = promql_duration(interval * down_cycles)
    stale = promql_duration(interval * 3)
    where = "{{ $labels.flow }} {{ $labels.protocol }}/{{ $labels.port }} to {{ $labels.destination }} ({{ $labels.address }})"
    rules: list[dict[str, Any]] = [
        {
            "alert": "FlowmatrixFlowDown",
            "expr": 'flowmatrix_flow_up{required="true"} == 0',
            "for": hold,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": f"planned flow {where} is down",
                "description": f"The probe has not proved this flow for {down_cycles} cycles; "
                "flowmatrix_flow_state shows why (closed, filtered, unreachable...).",
            },
        },
        {
            "alert": "FlowmatrixJourneyDown",
            "expr": "flowmatrix_journey_up == 0",
            "for": hold,
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "user journey {{ $labels.journey }} is down",
                "description": "A required flow of this journey has been down for "
                f"{down_cycles} cycles: see FlowmatrixFlowDown for which.",
            },
        },
        {
            "alert": "FlowmatrixCertificateExpiringSoon",
            "expr": "flowmatrix_tls_certificate_expiry_timestamp_seconds - time() "
            f"< {EXPIRY_WARNING_DAYS} * 86400",
            "for": hold,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "certificate of {{ $labels.address }}:{{ $labels.port }} "
                "({{ $labels.flow }}) expires within "
                f"{EXPIRY_WARNING_DAYS} days",
                "description": "It expires in {{ $value | humanizeDuration }}.",
            },
        },
        {
            "alert": "FlowmatrixWatchStale",
            "expr": f"time() - flowmatrix_last_cycle_timestamp_seconds > {math.ceil(interval * 3)}",
            "for": stale,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "flowmatrix watch on {{ $labels.instance }} has run no cycle "
                "for three intervals",
                "description": "The metrics are old: the watch is stuck or its cycles fail "
                "(see its log and flowmatrix_probe_errors_total).",
            },
        },
        {
            "alert": "FlowmatrixWatchAbsent",
            "expr": "absent(flowmatrix_last_cycle_timestamp_seconds)",
            "for": stale,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "no flowmatrix watch is scraped",
                "description": "Prometheus holds no flowmatrix metric: the watch is down or "
                "not scraped.",
            },
        },
    ]
    document = {"groups": [{"name": "flowmatrix-watch", "rules": rules}]}
    header = (
        "# Prometheus alerting rules for flowmatrix watch "
        f"(interval {promql_duration(interval)}, down after {down_cycles} cycles).\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
