"""``listen`` output: live event lines, and the final report as JSON, CSV or a table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flowmatrix.documents import header
from flowmatrix.i18n import Lang, _, language, ngettext
from flowmatrix.probe.listen import FlowArrival, ListenEvent, ListenReport
from flowmatrix.render import to_csv, to_json, to_table

FLOW_COLUMNS = (
    "flow",
    "requirement",
    "source",
    "protocol",
    "ports",
    "listening",
    "arrived",
    "count",
    "sources",
)


def _time(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="milliseconds")


def event_line(event: ListenEvent) -> str:
    """One line per arrival, for the live log."""
    source = f"[{event.source_address}]" if ":" in event.source_address else event.source_address
    text = _("{time} {protocol}/{port} from {source}").format(
        time=_time(event.time),
        protocol=event.protocol,
        port=event.port,
        source=f"{source}:{event.source_port}",
    )
    if event.flows:
        text += f" -> {', '.join(event.flows)}"
    else:
        text += " -> " + _(
            "not a planned source for this port (NAT on the way, or an unplanned flow?)"
        )
    if event.marker is not None:
        marked = (
            _(" (marked probe for {flow}, answered)")
            if event.answered
            else _(" (marked probe for {flow})")
        )
        text += marked.format(flow=event.marker)
    return text


def _event_dict(event: ListenEvent) -> dict[str, Any]:
    return {
        "time": _time(event.time),
        "protocol": event.protocol,
        "port": event.port,
        "local_address": event.local_address,
        "source_address": event.source_address,
        "source_port": event.source_port,
        "flows": list(event.flows),
        "marker": event.marker,
        "answered": event.answered,
    }


def _arrival_dict(arrival: FlowArrival) -> dict[str, Any]:
    return {
        "flow": arrival.flow,
        "requirement": arrival.requirement,
        "source_role": arrival.source_role,
        "protocol": arrival.protocol,
        "ports": list(arrival.ports),
        "listening": arrival.listening,
        "arrived": arrival.arrived,
        "count": arrival.count,
        "sources": list(arrival.sources),
    }


def report_dict(report: ListenReport) -> dict[str, Any]:
    return {
        **header("listen", report.site),
        "as": report.label,
        "started": _time(report.started),
        "duration_s": round(report.duration, 3),
        "summary": {
            "flows": len(report.arrivals),
            "arrived": sum(1 for a in report.arrivals if a.arrived),
            "missing": len(report.missing),
            "events": len(report.events),
            "unplanned_events": sum(1 for e in report.events if not e.planned),
            "failed_listeners": len(report.failed_bindings),
        },
        "warnings": list(report.warnings),
        "listeners": [
            {
                "protocol": b.protocol,
                "port": b.port,
                "address": b.address,
                "bound": b.bound,
                "error": b.error,
            }
            for b in report.bindings
        ],
        "flows": [_arrival_dict(a) for a in report.arrivals],
        "events": [_event_dict(e) for e in report.events],
        "checks": [c.to_dict() for a in report.arrivals for c in a.checks()],
    }


def to_json_text(report: ListenReport) -> str:
    return to_json(report_dict(report))


def _row(arrival: FlowArrival, yes: str = "yes", no: str = "no") -> dict[str, Any]:
    return {
        "flow": arrival.flow,
        "requirement": arrival.requirement,
        "source": arrival.source_role,
        "protocol": arrival.protocol,
        "ports": arrival.ports.text(" "),
        "listening": yes if arrival.listening else no,
        "arrived": yes if arrival.arrived else no,
        "count": arrival.count,
        "sources": " ".join(arrival.sources),
    }


def to_csv_text(report: ListenReport) -> str:
    return to_csv([_row(a) for a in report.arrivals], FLOW_COLUMNS)


def to_table_text(report: ListenReport, lang: Lang, *, width: int, color: bool) -> str:
    """The planned flows for people, in ``lang`` (the CSV keeps yes/no)."""
    with language(lang):
        yes, no = _("yes"), _("no")
        title = _("listen as {label}").format(label=report.label)
    styles = {"arrived": {yes: "green", no: "red"}, "listening": {no: "red"}}
    return to_table(
        [_row(a, yes, no) for a in report.arrivals],
        FLOW_COLUMNS,
        lang,
        title=title,
        width=width,
        color=color,
        styles=styles,
    )


def summary_line(report: ListenReport) -> str:
    arrived = sum(1 for a in report.arrivals if a.arrived)
    text = ngettext(
        "{arrived} of {n} planned flows arrived in {duration:.1f} s",
        "{arrived} of {n} planned flows arrived in {duration:.1f} s",
        arrived,
    ).format(arrived=arrived, n=len(report.arrivals), duration=report.duration)
    events = len(report.events)
    text += " (" + ngettext(
        "{n} connections/datagrams", "{n} connections/datagrams", events
    ).format(n=events)
    unplanned = sum(1 for e in report.events if not e.planned)
    if unplanned:
        text += ngettext(
            ", {n} from unplanned sources", ", {n} from unplanned sources", unplanned
        ).format(n=unplanned)
    return text + ")"
