"""Reports of ``certs collect``, ``certs check`` and ``ads check`` as JSON and as text.

The JSON documents are a contract (keys documented in docs/certs.md and tested). The
text form is for people: Rich colours on a terminal, plain and stable when piped.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from flowmatrix.catalog import Lang
from flowmatrix.certs.ads import AdsReport
from flowmatrix.certs.check import CheckReport
from flowmatrix.certs.collect import CollectReport, EndpointReport
from flowmatrix.certs.findings import Finding
from flowmatrix.documents import header
from flowmatrix.probe.results import ProbeResult
from flowmatrix.render import HEADERS, escaped, text_console
from flowmatrix.x509facts import CertDetails

if TYPE_CHECKING:
    from flowmatrix.probe.verify import VerifyReport

#: Identifiers of the JSON documents (bumped on incompatible changes).

_LABELS: dict[str, dict[Lang, str]] = {
    "sans": {"en": "SANs", "fr": "SAN"},
    "issuer": {"en": "Issuer", "fr": "Émetteur"},
    "valid": {"en": "Valid", "fr": "Validité"},
    "days_left": {"en": "{days} days left", "fr": "{days} jours restants"},
    "expired_ago": {"en": "expired {days} days ago", "fr": "expiré depuis {days} jours"},
    "key": {"en": "Key", "fr": "Clé"},
    "sha256": {"en": "SHA-256", "fr": "SHA-256"},
    "pin": {"en": "SPKI pin", "fr": "Empreinte SPKI"},
    "file": {"en": "File", "fr": "Fichier"},
    "self_signed": {"en": "self-signed", "fr": "auto-signé"},
    "ca": {"en": "CA", "fr": "AC"},
    "chain": {"en": "chain: {n} certificate(s)", "fr": "chaîne : {n} certificat(s)"},
    "leaf_only": {"en": "leaf only", "fr": "feuille seule"},
    "none": {"en": "none", "fr": "aucun"},
    "collect_summary": {
        "en": "{total} endpoint(s): {ok} answered, {failed} failed; {warnings} warning(s)",
        "fr": "{total} point(s) d'accès : {ok} ont répondu, {failed} en échec ; "
        "{warnings} avertissement(s)",
    },
    "written": {
        "en": "{n} certificate file(s) written to {folder}",
        "fr": "{n} fichier(s) de certificat écrit(s) dans {folder}",
    },
    "check_summary": {
        "en": "{files} file(s), {certs} certificate(s); {warnings} warning(s)",
        "fr": "{files} fichier(s), {certs} certificat(s) ; {warnings} avertissement(s)",
    },
    "resolver": {"en": "Resolver", "fr": "Résolveur"},
    "answer": {"en": "Answer", "fr": "Réponse"},
    "documented": {"en": "Documented", "fr": "Documentées"},
    "expected": {"en": "Expected", "fr": "Attendues"},
    "not_probed": {
        "en": "documented addresses not probed (--no-documented)",
        "fr": "adresses documentées non testées (--no-documented)",
    },
    "origin": {"en": "Origin", "fr": "Origine"},
    "tls": {"en": "TLS", "fr": "TLS"},
    "certificate": {"en": "Certificate", "fr": "Certificat"},
    "origin_dns": {"en": "dns", "fr": "dns"},
    "origin_documented": {"en": "documented", "fr": "documentée"},
    "origin_expected": {"en": "expected", "fr": "attendue"},
    "trusted": {"en": "Trusted", "fr": "De confiance"},
    "yes": {"en": "yes", "fr": "oui"},
    "no": {"en": "no", "fr": "non"},
    "ads_summary": {
        "en": "{reachable} of {answered} answered address(es) reachable with a matching "
        "certificate; {failed} required failure(s)",
        "fr": "{reachable} adresse(s) sur {answered} joignable(s) avec un certificat "
        "conforme ; {failed} échec(s) bloquant(s)",
    },
    "notes": {"en": "Notes", "fr": "Remarques"},
    "no_answer": {"en": "no address", "fr": "aucune adresse"},
}


def label(key: str, lang: Lang, **values: object) -> str:
    """This module's texts; the column headers it shares with other tables come from
    :data:`flowmatrix.render.HEADERS`."""
    return (_LABELS.get(key) or HEADERS[key])[lang].format(**values)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- JSON ----------------------------------------------------------------------------


def details_to_dict(item: CertDetails, now: dt.datetime, file: str | None = None) -> dict[str, Any]:
    return {
        "position": item.position,
        "subject": item.subject,
        "issuer": item.issuer,
        "common_name": item.common_name,
        "dns_names": list(item.dns_names),
        "ip_addresses": list(item.ip_addresses),
        "not_before": _iso(item.not_before),
        "not_after": _iso(item.not_after),
        "days_left": item.days_left(now),
        "key_type": item.key_type,
        "key_size": item.key_size,
        "curve": item.curve,
        "serial": item.serial,
        "signature_algorithm": item.signature_algorithm,
        "sha256": item.sha256,
        "spki_sha256": item.spki_sha256,
        "self_signed": item.self_signed,
        "is_ca": item.is_ca,
        "file": file,
    }


def finding_to_dict(item: Finding) -> dict[str, Any]:
    return {
        "code": item.code,
        "severity": item.severity,
        "message": item.message,
        "position": item.position,
    }


def _certificates(
    details: Sequence[CertDetails], files: Sequence[str], now: dt.datetime
) -> list[dict[str, Any]]:
    return [
        details_to_dict(item, now, files[i] if i < len(files) else None)
        for i, item in enumerate(details)
    ]


def endpoint_to_dict(report: EndpointReport, now: dt.datetime) -> dict[str, Any]:
    target, fetch = report.target, report.fetch
    return {
        "host": target.host,
        "port": target.port,
        "server_name": fetch.server_name,
        "label": target.label,
        "role": target.role,
        "status": fetch.status,
        "peer": fetch.peer,
        "error": fetch.error,
        "tls_version": fetch.tls_version,
        "cipher": fetch.cipher,
        "chain_complete": fetch.chain_complete if fetch.ok else None,
        "elapsed_ms": fetch.elapsed_ms,
        "certificates": _certificates(report.certificates, report.files, now),
        "findings": [finding_to_dict(f) for f in report.findings],
    }


def collect_to_dict(report: CollectReport) -> dict[str, Any]:
    now = report.checked_at
    return {
        **header("certs-collect"),
        "checked_at": _iso(now),
        "warn_days": report.warn_days,
        "output_dir": report.output_dir,
        "endpoints": [endpoint_to_dict(e, now) for e in report.endpoints],
        "summary": {
            "endpoints": len(report.endpoints),
            "ok": len(report.endpoints) - report.failed,
            "failed": report.failed,
            "warnings": report.warnings,
            "files_written": sum(len(e.files) for e in report.endpoints),
        },
    }


def check_to_dict(report: CheckReport) -> dict[str, Any]:
    now = report.checked_at
    return {
        **header("certs-check"),
        "checked_at": _iso(now),
        "warn_days": report.warn_days,
        "name": report.name,
        "output_dir": report.output_dir,
        "files": [
            {
                "path": f.path,
                "format": f.format,
                "ignored_blocks": list(f.ignored_blocks),
                "certificates": _certificates(f.certificates, f.files, now),
                "findings": [finding_to_dict(x) for x in f.findings],
            }
            for f in report.files
        ],
        "summary": {
            "files": len(report.files),
            "certificates": sum(len(f.certificates) for f in report.files),
            "warnings": report.warnings,
            "files_written": sum(len(f.files) for f in report.files),
        },
    }


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


# --- text ----------------------------------------------------------------------------


def _console(buffer: io.StringIO, width: int, color: bool) -> Console:
    return text_console(buffer, width=width, color=color, soft_wrap=True)


_SEVERITY_STYLE = {"warning": "bold yellow", "note": "cyan"}
_STATUS_STYLE = {"ok": "green", "open": "green"}


def _validity(item: CertDetails, now: dt.datetime, lang: Lang) -> str:
    days = item.days_left(now)
    if days >= 0:
        left = label("days_left", lang, days=days)
    else:
        left = label("expired_ago", lang, days=-days)
    return f"{item.not_before:%Y-%m-%d} -> {item.not_after:%Y-%m-%d} ({left})"


def _key(item: CertDetails) -> str:
    size = f" {item.key_size}" if item.key_size else ""
    curve = f" ({item.curve})" if item.curve else ""
    return f"{item.key_type}{size}{curve}"


def _print_certificate(
    console: Console, item: CertDetails, file: str | None, now: dt.datetime, lang: Lang
) -> None:
    flags = [label("self_signed", lang)] if item.self_signed else []
    if item.is_ca:
        flags.append(label("ca", lang))
    extra = f"  [dim]({', '.join(flags)})[/]" if flags else ""
    console.print(f"  [bold]\\[{item.position}] {escaped(item.subject)}[/]{extra}")
    names = [f"DNS:{n}" for n in item.dns_names] + [f"IP:{n}" for n in item.ip_addresses]
    rows = [
        (label("sans", lang), ", ".join(names) or label("none", lang)),
        (label("issuer", lang), item.issuer),
        (label("valid", lang), _validity(item, now, lang)),
        (label("key", lang), _key(item)),
        (label("sha256", lang), item.sha256),
        (label("pin", lang), f'pin-sha256="{item.spki_sha256}"'),
    ]
    if file:
        rows.append((label("file", lang), file))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        console.print(f"      {name:<{width}}  {escaped(value)}")


def _print_findings(console: Console, findings: Sequence[Finding]) -> None:
    for item in findings:
        style = _SEVERITY_STYLE[item.severity]
        console.print(f"  [{style}]{item.severity:<7}[/] {item.code}: {escaped(item.message)}")


def collect_to_text(report: CollectReport, lang: Lang, *, width: int, color: bool) -> str:
    buffer = io.StringIO()
    console = _console(buffer, width, color)
    now = report.checked_at
    for endpoint in report.endpoints:
        target, fetch = endpoint.target, endpoint.fetch
        title = f"{target.server_name}  {target.display}" if target.server_name else target.display
        context = ", ".join(x for x in (target.role, target.label) if x)
        suffix = f"  ({escaped(context)})" if context else ""
        console.print(f"[bold]{escaped(title)}[/]{suffix}")
        style = _STATUS_STYLE.get(fetch.status, "red")
        if fetch.ok:
            chain = label("chain", lang, n=len(fetch.chain))
            if not fetch.chain_complete:
                chain += f" ({label('leaf_only', lang)})"
            parts = [fetch.tls_version or "", fetch.cipher or "", chain]
            console.print(f"  [{style}]ok[/]  " + escaped("  ".join(p for p in parts if p)))
        else:
            console.print(f"  [{style}]{fetch.status}[/]  {escaped(fetch.error or '')}")
        for i, item in enumerate(endpoint.certificates):
            file = endpoint.files[i] if i < len(endpoint.files) else None
            _print_certificate(console, item, file, now, lang)
        _print_findings(console, endpoint.findings)
        console.print()
    ok = len(report.endpoints) - report.failed
    console.print(
        label(
            "collect_summary",
            lang,
            total=len(report.endpoints),
            ok=ok,
            failed=report.failed,
            warnings=report.warnings,
        )
    )
    written = sum(len(e.files) for e in report.endpoints)
    if report.output_dir is not None:
        console.print(label("written", lang, n=written, folder=report.output_dir))
    return buffer.getvalue()


def check_to_text(report: CheckReport, lang: Lang, *, width: int, color: bool) -> str:
    buffer = io.StringIO()
    console = _console(buffer, width, color)
    now = report.checked_at
    for item in report.files:
        console.print(f"[bold]{escaped(item.path)}[/]  ({item.format})")
        for i, details in enumerate(item.certificates):
            file = item.files[i] if i < len(item.files) else None
            _print_certificate(console, details, file, now, lang)
        if item.ignored_blocks:
            console.print(
                f"  [dim]ignored PEM blocks: {escaped(', '.join(item.ignored_blocks))}[/]"
            )
        _print_findings(console, item.findings)
        console.print()
    console.print(
        label(
            "check_summary",
            lang,
            files=len(report.files),
            certs=sum(len(f.certificates) for f in report.files),
            warnings=report.warnings,
        )
    )
    if report.output_dir is not None:
        written = sum(len(f.files) for f in report.files)
        console.print(label("written", lang, n=written, folder=report.output_dir))
    return buffer.getvalue()


def _reachable(result: ProbeResult) -> bool:
    return bool(
        result.state == "open"
        and result.tls is not None
        and result.tls.error is None
        and not result.findings
    )


def _yes_no(value: bool | None, lang: Lang) -> str:
    if value is None:
        return ""
    return label("yes" if value else "no", lang)


def ads_to_text(report: AdsReport, lang: Lang, *, width: int, color: bool) -> str:
    buffer = io.StringIO()
    console = _console(buffer, width, color)
    dns = report.dns
    console.print(f"[bold]{escaped(report.fqdn)}[/]  port {report.port}")
    answer = ", ".join(dns.addresses) or f"{label('no_answer', lang)} ({dns.error or ''})"
    console.print(f"  {label('resolver', lang)}: {escaped(dns.resolver)}")
    console.print(f"  {label('answer', lang)}: {escaped(answer)}")
    which = "documented" if report.documented_source == "catalog" else "expected"
    console.print(
        f"  {label(which, lang)}: {escaped(', '.join(dns.documented) or label('none', lang))}"
    )
    if not report.documented_probed:
        console.print(f"  [dim]{label('not_probed', lang)}[/]")
    table = Table(show_lines=False, header_style="bold", expand=False)
    columns = ("address", "origin", "state", "tls", "certificate", "name", "trusted", "reason")
    for key in columns:
        table.add_column(label(key, lang), overflow="fold")
    other = "origin_documented" if report.documented_source == "catalog" else "origin_expected"
    for result in report.results:
        origin = label("origin_dns" if result.required else other, lang)
        tls = result.tls
        cells = [result.address or "", origin, result.state, "", "", "", "", ""]
        if tls is not None:
            cells[3] = tls.version or ""
            names = [*tls.dns_names, *tls.ip_addresses]
            cells[4] = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
            cells[4] = cells[4] or tls.subject or tls.error or ""
            cells[5] = _yes_no(tls.name_matches, lang)
            cells[6] = _yes_no(tls.trusted, lang)
        cells[7] = "; ".join(result.findings) or result.reason
        style = "green" if _reachable(result) else ("red" if result.required else "yellow")
        shown = [escaped(c) for c in cells]
        if color:
            shown[2] = f"[{style}]{shown[2]}[/]"
        table.add_row(*shown)
    console.print(table)
    answered = [r for r in report.results if r.required]
    console.print(
        label(
            "ads_summary",
            lang,
            reachable=sum(1 for r in answered if _reachable(r)),
            answered=len(answered),
            failed=report.summary.failed,
        )
    )
    console.print(f"\n[bold]{label('notes', lang)}[/]")
    for note in report.notes:
        console.print(f"  - {escaped(note)}")
    return buffer.getvalue()


def _as_verify_report(report: AdsReport) -> VerifyReport:
    from flowmatrix.probe.runner import ProbeOptions
    from flowmatrix.probe.verify import VerifyReport

    return VerifyReport(
        results=report.results,
        source="this host",
        warnings=report.notes,
        options=ProbeOptions(),
        site=f"auto discovery service {report.fqdn}",
    )


def ads_to_csv(report: AdsReport) -> str:
    """The results as ``verify --format csv`` writes them (same columns)."""
    from flowmatrix.probe.report import to_csv_text

    return to_csv_text(_as_verify_report(report))


def ads_to_junit(report: AdsReport) -> str:
    """The results as ``verify --format junit`` writes them (one test case per address)."""
    from flowmatrix.probe.report import to_junit

    return to_junit(_as_verify_report(report))
