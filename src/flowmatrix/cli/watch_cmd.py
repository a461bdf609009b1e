"""``flowmatrix watch``: prove the planned flows in cycles and serve them to Prometheus."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli import probe_options as po
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, exit_with, load_plan_for, note, warn
from flowmatrix.i18n import _, ngettext

if TYPE_CHECKING:
    from flowmatrix.watch.cycle import Watcher
    from flowmatrix.watch.server import MetricsServer
    from flowmatrix.watch.state import Cycle

WatchFormat = StrEnum("WatchFormat", ["log", "json"])
DEFAULT_LISTEN = "127.0.0.1:9742"


def _log_line(event: dict[str, Any]) -> None:
    """One JSON object per line on stderr: state changes, reloads, failed cycles."""
    import sys

    import orjson

    sys.stderr.write(orjson.dumps(event).decode("utf-8") + "\n")
    sys.stderr.flush()


def _cycle_document(cycle: Cycle) -> bytes:
    """One cycle's verify document with its journeys, on one line."""
    import orjson

    from flowmatrix.probe.document import report_dict

    document = report_dict(cycle.report)
    document["journeys"] = [v.to_dict() for v in cycle.verdicts if v.state != "absent"]
    document["cycle"] = {"started": round(cycle.started, 3), "duration": round(cycle.duration, 4)}
    return orjson.dumps(document) + b"\n"


def _once(watcher: Watcher, cycle: Cycle, textfile: Path | None, fmt: WatchFormat) -> None:
    from flowmatrix.atomic import write_atomic
    from flowmatrix.watch.metrics import exposition

    if textfile is not None:
        write_atomic(textfile, exposition(watcher.state))
    if fmt is WatchFormat.json:
        emit(_cycle_document(cycle), None)
    for verdict in cycle.verdicts:
        if verdict.state != "absent":
            note(verdict.summary(watcher.plan.lang))
    exit_with(cycle.report.exit_code)


@app.command("watch")
def watch_command(
    site: opt.SiteArg = None,
    source: po.SourceOpt = None,
    flows: po.FlowsOpt = None,
    to: po.ToOpt = None,
    interval: Annotated[
        str,
        typer.Option(
            "--interval",
            metavar="DURATION",
            help="Time between cycles (60s, 5m, 500ms), give or take 10% of jitter.",
        ),
    ] = "60s",
    listen: Annotated[
        str,
        typer.Option(
            "--listen", metavar="ADDR:PORT", help="Serve /metrics for Prometheus on this address."
        ),
    ] = DEFAULT_LISTEN,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run one cycle and exit (1 when a required flow fails)."),
    ] = False,
    textfile: Annotated[
        Path | None,
        typer.Option(
            "--textfile",
            metavar="PATH",
            help="With --once: write the metrics there (atomically), for node_exporter's "
            "textfile collector.",
        ),
    ] = None,
    alert_rules: Annotated[
        Path | None,
        typer.Option(
            "--alert-rules",
            metavar="FILE",
            help="Write the Prometheus alerting rules for this --interval to FILE and exit.",
        ),
    ] = None,
    down_cycles: Annotated[
        int,
        typer.Option("--down-cycles", min=1, max=100, help="Alert after this many cycles down."),
    ] = 3,
    timeout: po.TimeoutOpt = 2.0,
    retries: po.RetriesOpt = 1,
    concurrency: po.ConcurrencyOpt = None,
    rate: po.RateOpt = None,
    two_ended: po.TwoEndedOpt = False,
    radius_secret: po.RadiusSecretOpt = None,
    resolver: opt.ResolverOpt = None,
    ca_file: po.CaFileOpt = None,
    no_tls: po.NoTlsOpt = False,
    fmt: opt.FormatOpt[WatchFormat] = WatchFormat.log,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
) -> None:
    """Probe the planned flows of this host in cycles and serve /metrics to Prometheus.

    The verify engine with the same bounds: only the plan's hosts and ports are probed.
    State changes are logged as JSON lines on stderr; '--format json' prints each cycle's
    verify document on stdout. SIGHUP re-reads the site (a broken edit keeps the old
    plan); SIGTERM stops.
    """
    from flowmatrix.errors import UserError
    from flowmatrix.probe.targets import Selection
    from flowmatrix.watch.cycle import Watcher, WatchSettings
    from flowmatrix.watch.durations import parse_duration
    from flowmatrix.watch.rules import alert_rules as rules_text

    seconds = parse_duration(interval)
    if alert_rules is not None:
        emit(rules_text(seconds, down_cycles), alert_rules)
        note(
            _("alerting rules for --interval {interval} written to {path}").format(
                interval=interval, path=alert_rules
            )
        )
        return
    if textfile is not None and not once:
        raise UserError(
            _("--textfile goes with --once"), hint=_("cron: flowmatrix watch --once ...")
        )
    settings = WatchSettings(
        selection=Selection(source=source, flows=tuple(flows or ()), to=to),
        options=po.probe_options(
            timeout=timeout,
            retries=retries,
            concurrency=concurrency,
            rate=rate,
            two_ended=two_ended,
            radius_secret=radius_secret,
            resolver=resolver,
            ca_file=ca_file,
            no_tls=no_tls,
        ),
        interval=seconds,
    )
    server = None
    if not once:
        from flowmatrix.watch.server import MetricsServer, parse_listen

        server = MetricsServer(*parse_listen(listen))
    try:
        watcher = Watcher(lambda: load_plan_for(site, lang, catalog), settings, _log_line)
        first, _changes = watcher.cycle()
        warn(first.report.warnings)
        if once:
            _once(watcher, first, textfile, fmt)
        if first.duration > seconds:
            probes = len(first.report.results)
            raise UserError(
                ngettext(
                    "--interval {interval} is below the measured cycle time "
                    "({duration:.2f}s for {n} probes)",
                    "--interval {interval} is below the measured cycle time "
                    "({duration:.2f}s for {n} probes)",
                    probes,
                ).format(interval=interval, duration=first.duration, n=probes),
                hint=_("give --interval {seconds}s or more, or lower --timeout / --retries").format(
                    seconds=max(1, int(first.duration * 2 + 1))
                ),
            )
        assert server is not None
        _serve(watcher, first, server, fmt)
    finally:
        if server is not None:
            server.close()


def _serve(watcher: Watcher, first: Cycle, server: MetricsServer, fmt: WatchFormat) -> None:
    from flowmatrix.watch.loop import WatchLoop
    from flowmatrix.watch.metrics import exposition

    def publish(cycle: Cycle | None) -> None:
        server.publish(exposition(watcher.state))
        if cycle is not None and fmt is WatchFormat.json:
            emit(_cycle_document(cycle), None)

    publish(first)
    loop = WatchLoop(watcher, publish)
    loop.install_signals()
    server.start()
    _log_line(
        {
            "event": "started",
            "listen": server.address,
            "probes": len(first.report.results),
            "interval": watcher.settings.interval,
        }
    )
    loop.run()
    _log_line({"event": "stopped", "cycles": watcher.state.cycles_total})
