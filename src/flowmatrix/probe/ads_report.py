"""The ``ads check`` report as JSON, text, CSV and JUnit (the last two as ``verify``
writes them: the same columns, one test case per address)."""

from __future__ import annotations

import io
from typing import Any

from rich.table import Table

from flowmatrix.documents import header
from flowmatrix.i18n import N_, Lang, _, current, language, ngettext, pgettext
from flowmatrix.probe.ads_check import AdsReport
from flowmatrix.probe.results import ProbeResult, state_label
from flowmatrix.probe.verify import VerifyReport
from flowmatrix.render import escaped, text_console
from flowmatrix.render import header as column_header


def ads_to_dict(report: AdsReport) -> dict[str, Any]:
    answered = [r for r in report.results if r.required]
    return {
        **header("ads"),
        "fqdn": report.fqdn,
        "port": report.port,
        "dns": report.dns.to_dict(),
        "documented_source": report.documented_source,
        "documented_probed": report.documented_probed,
        "comparison": report.comparison(),
        "reachable": [r.address for r in answered if _reachable(r)],
        "results": [r.to_dict() for r in report.results],
        "summary": report.summary.to_dict(),
        "proxy": report.proxy.to_dict(),
        "notes": list(report.notes),
    }


#: Column headers of the ``ads check`` table that the shared headers do not have.
_ADS_HEADERS = {
    "origin": N_("Origin"),
    "tls": N_("TLS"),
    "certificate": N_("Certificate"),
    "trusted": N_("Trusted"),
}


def _reachable(result: ProbeResult) -> bool:
    return bool(
        result.state == "open"
        and result.tls is not None
        and result.tls.error is None
        and not result.findings
    )


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("yes") if value else _("no")


def _ads_header(key: str) -> str:
    own = _ADS_HEADERS.get(key)
    return _(own) if own is not None else column_header(key, current())


def ads_to_text(report: AdsReport, lang: Lang, *, width: int, color: bool) -> str:
    with language(lang):
        return _ads_text(report, width=width, color=color)


def _ads_text(report: AdsReport, *, width: int, color: bool) -> str:
    buffer = io.StringIO()
    console = text_console(buffer, width=width, color=color, soft_wrap=True)
    dns = report.dns
    port = _("port {port}").format(port=report.port)
    console.print(f"[bold]{escaped(report.fqdn)}[/]  {port}")
    answer = ", ".join(dns.addresses) or _("no address") + f" ({dns.error or ''})"
    resolver = escaped(dns.resolver)
    console.print("  " + _("Resolver: {resolver}").format(resolver=resolver))
    console.print("  " + _("Answer: {answer}").format(answer=escaped(answer)))
    listed = escaped(", ".join(dns.documented) or pgettext("addresses", "none"))
    if report.documented_source == "catalog":
        line = pgettext("addresses", "Documented: {addresses}").format(addresses=listed)
    else:
        line = pgettext("addresses", "Expected: {addresses}").format(addresses=listed)
    console.print("  " + line)
    if not report.documented_probed:
        not_probed = _("documented addresses not probed (--no-documented)")
        console.print(f"  [dim]{not_probed}[/]")
    table = Table(show_lines=False, header_style="bold", expand=False)
    columns = ("address", "origin", "state", "tls", "certificate", "name", "trusted", "reason")
    for key in columns:
        table.add_column(_ads_header(key), overflow="fold")
    if report.documented_source == "catalog":
        other = pgettext("address origin", "documented")
    else:
        other = pgettext("address origin", "expected")
    for result in report.results:
        origin = pgettext("address origin", "dns") if result.required else other
        tls = result.tls
        cells = [result.address or "", origin, state_label(result.state), "", "", "", "", ""]
        if tls is not None:
            cells[3] = tls.version or ""
            names = [*tls.dns_names, *tls.ip_addresses]
            cells[4] = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
            cells[4] = cells[4] or tls.subject or tls.error or ""
            cells[5] = _yes_no(tls.name_matches)
            cells[6] = _yes_no(tls.trusted)
        cells[7] = "; ".join(result.findings) or result.reason
        style = "green" if _reachable(result) else ("red" if result.required else "yellow")
        shown = [escaped(c) for c in cells]
        if color:
            shown[2] = f"[{style}]{shown[2]}[/]"
        table.add_row(*shown)
    console.print(table)
    answered = [r for r in report.results if r.required]
    console.print(
        ngettext(
            "{reachable} of {answered} answered address(es) reachable with a matching "
            "certificate; {failed} required failure(s)",
            "{reachable} of {answered} answered address(es) reachable with a matching "
            "certificate; {failed} required failure(s)",
            len(answered),
        ).format(
            reachable=sum(1 for r in answered if _reachable(r)),
            answered=len(answered),
            failed=report.summary.failed,
        )
    )
    notes = pgettext("ads report", "Notes")
    console.print(f"\n[bold]{notes}[/]")
    for note in report.notes:
        console.print(f"  - {escaped(note)}")
    return buffer.getvalue()


def _as_verify_report(report: AdsReport) -> VerifyReport:
    from flowmatrix.probe.scheduler import ProbeOptions
    from flowmatrix.probe.verify import VerifyReport

    return VerifyReport(
        results=report.results,
        source=_("this host"),
        warnings=report.notes,
        options=ProbeOptions(),
        site=_("auto discovery service {fqdn}").format(fqdn=report.fqdn),
    )


def ads_to_csv(report: AdsReport) -> str:
    """The results as ``verify --format csv`` writes them (same columns)."""
    from flowmatrix.probe.verify_report import to_csv_text

    return to_csv_text(_as_verify_report(report))


def ads_to_junit(report: AdsReport) -> str:
    """The results as ``verify --format junit`` writes them (one test case per address)."""
    from flowmatrix.probe.verify_report import to_junit

    return to_junit(_as_verify_report(report))
