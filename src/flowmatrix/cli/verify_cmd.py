"""``flowmatrix verify``: probe the planned flows from this host."""

from __future__ import annotations

from enum import StrEnum

from flowmatrix.cli import options as opt
from flowmatrix.cli import probe_options as po
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit_as, exit_with, load_plan_for, note, warn

VerifyFormat = StrEnum("VerifyFormat", ["table", "json", "junit", "csv"])


@app.command("verify")
def verify_command(
    site: opt.SiteArg = None,
    source: po.SourceOpt = None,
    flows: po.FlowsOpt = None,
    to: po.ToOpt = None,
    timeout: po.TimeoutOpt = 2.0,
    retries: po.RetriesOpt = 1,
    concurrency: po.ConcurrencyOpt = None,
    rate: po.RateOpt = None,
    two_ended: po.TwoEndedOpt = False,
    radius_secret: po.RadiusSecretOpt = None,
    resolver: opt.ResolverOpt = None,
    ca_file: po.CaFileOpt = None,
    no_tls: po.NoTlsOpt = False,
    fmt: opt.FormatOpt[VerifyFormat] = VerifyFormat.table,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Probe the planned flows from this host: TCP, DNS / NTP / RADIUS, TLS certificates.

    Only the hosts and ports of the plan are ever probed. Exit 1 when a required flow
    fails (closed, filtered, unreachable) or shows a finding (expired certificate...).
    """
    import sys
    from functools import partial

    from flowmatrix.journeys import journey_summaries
    from flowmatrix.probe import verify_report as render
    from flowmatrix.probe.progress import RichProgress
    from flowmatrix.probe.targets import Selection
    from flowmatrix.probe.verify import verify

    plan = load_plan_for(site, lang, catalog)
    options = po.probe_options(
        timeout=timeout,
        retries=retries,
        concurrency=concurrency,
        rate=rate,
        two_ended=two_ended,
        radius_secret=radius_secret,
        resolver=resolver,
        ca_file=ca_file,
        no_tls=no_tls,
    )
    selection = Selection(source=source, flows=tuple(flows or ()), to=to)
    progress = RichProgress() if sys.stderr.isatty() else None
    report = verify(plan, selection, options, progress)
    warn(report.warnings)
    emit_as(
        fmt,
        output,
        table=partial(render.to_table_text, report, lang.value),
        json=partial(render.to_json_document, report),
        csv=partial(render.to_csv_text, report),
        junit=partial(render.to_junit, report),
    )
    note(render.summary_line(report))
    for line in journey_summaries(plan, report.results):
        note(line)
    exit_with(report.exit_code)
