"""Reports of ``certs collect`` and ``certs check`` as JSON and as text.

The JSON documents are a contract (keys documented in docs/certs.md and tested). The
text form is for people: Rich colours on a terminal, plain and stable when piped.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console

from flowmatrix.certs.check import CheckReport
from flowmatrix.certs.collect import CollectReport, EndpointReport
from flowmatrix.certs.findings import Finding
from flowmatrix.documents import header
from flowmatrix.i18n import Lang, _, language, ngettext, pgettext
from flowmatrix.probe.results import state_label
from flowmatrix.render import escaped, text_console
from flowmatrix.x509facts import CertDetails

if TYPE_CHECKING:
    pass

#: Identifiers of the JSON documents (bumped on incompatible changes).


def _fetch_status(status: str) -> str:
    """The status of a TLS fetch as people read it (the JSON keeps the code)."""
    if status == "ok":
        return pgettext("tls fetch", "ok")
    if status == "tls-error":
        return pgettext("tls fetch", "tls-error")
    return state_label(status)


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


# --- text ----------------------------------------------------------------------------


def _console(buffer: io.StringIO, width: int, color: bool) -> Console:
    return text_console(buffer, width=width, color=color, soft_wrap=True)


_SEVERITY_STYLE = {"warning": "bold yellow", "note": "cyan"}
_STATUS_STYLE = {"ok": "green", "open": "green"}


def _severity(severity: str) -> str:
    if severity == "warning":
        return pgettext("severity", "warning")
    if severity == "note":
        return pgettext("severity", "note")
    return severity


def _validity(item: CertDetails, now: dt.datetime) -> str:
    days = item.days_left(now)
    if days >= 0:
        left = ngettext("{days} days left", "{days} days left", days).format(days=days)
    else:
        left = ngettext("expired {days} days ago", "expired {days} days ago", -days).format(
            days=-days
        )
    return f"{item.not_before:%Y-%m-%d} -> {item.not_after:%Y-%m-%d} ({left})"


def _key(item: CertDetails) -> str:
    size = f" {item.key_size}" if item.key_size else ""
    curve = f" ({item.curve})" if item.curve else ""
    return f"{item.key_type}{size}{curve}"


def _print_certificate(
    console: Console, item: CertDetails, file: str | None, now: dt.datetime
) -> None:
    flags = [_("self-signed")] if item.self_signed else []
    if item.is_ca:
        flags.append(pgettext("certificate authority", "CA"))
    extra = f"  [dim]({', '.join(flags)})[/]" if flags else ""
    console.print(f"  [bold]\\[{item.position}] {escaped(item.subject)}[/]{extra}")
    names = [f"DNS:{n}" for n in item.dns_names] + [f"IP:{n}" for n in item.ip_addresses]
    rows = [
        (_("SANs"), ", ".join(names) or pgettext("names", "none")),
        (_("Issuer"), item.issuer),
        (_("Valid"), _validity(item, now)),
        (_("Key"), _key(item)),
        (_("SHA-256"), item.sha256),
        (_("SPKI pin"), f'pin-sha256="{item.spki_sha256}"'),
    ]
    if file:
        rows.append((_("File"), file))
    width = max(len(name) for name, _value in rows)
    for name, value in rows:
        console.print(f"      {name:<{width}}  {escaped(value)}")


def _print_findings(console: Console, findings: Sequence[Finding]) -> None:
    for item in findings:
        style = _SEVERITY_STYLE[item.severity]
        severity = _severity(item.severity)
        width = max(7, len(severity))
        console.print(f"  [{style}]{severity:<{width}}[/] {item.code}: {escaped(item.message)}")


def _written(count: int, folder: str) -> str:
    return ngettext(
        "{n} certificate file(s) written to {folder}",
        "{n} certificate file(s) written to {folder}",
        count,
    ).format(n=count, folder=folder)


def collect_to_text(report: CollectReport, lang: Lang, *, width: int, color: bool) -> str:
    with language(lang):
        return _collect_text(report, width=width, color=color)


def _collect_text(report: CollectReport, *, width: int, color: bool) -> str:
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
        status = escaped(_fetch_status(fetch.status))
        if fetch.ok:
            count = len(fetch.chain)
            chain = ngettext(
                "chain: {n} certificate(s)", "chain: {n} certificate(s)", count
            ).format(n=count)
            if not fetch.chain_complete:
                chain += " (" + _("leaf only") + ")"
            parts = [fetch.tls_version or "", fetch.cipher or "", chain]
            console.print(f"  [{style}]{status}[/]  " + escaped("  ".join(p for p in parts if p)))
        else:
            console.print(f"  [{style}]{status}[/]  {escaped(fetch.error or '')}")
        for i, item in enumerate(endpoint.certificates):
            file = endpoint.files[i] if i < len(endpoint.files) else None
            _print_certificate(console, item, file, now)
        _print_findings(console, endpoint.findings)
        console.print()
    total = len(report.endpoints)
    console.print(
        ngettext(
            "{total} endpoint(s): {ok} answered, {failed} failed; {warnings} warning(s)",
            "{total} endpoint(s): {ok} answered, {failed} failed; {warnings} warning(s)",
            total,
        ).format(
            total=total, ok=total - report.failed, failed=report.failed, warnings=report.warnings
        )
    )
    written = sum(len(e.files) for e in report.endpoints)
    if report.output_dir is not None:
        console.print(_written(written, report.output_dir))
    return buffer.getvalue()


def check_to_text(report: CheckReport, lang: Lang, *, width: int, color: bool) -> str:
    with language(lang):
        return _check_text(report, width=width, color=color)


def _check_text(report: CheckReport, *, width: int, color: bool) -> str:
    buffer = io.StringIO()
    console = _console(buffer, width, color)
    now = report.checked_at
    for item in report.files:
        console.print(f"[bold]{escaped(item.path)}[/]  ({item.format})")
        for i, details in enumerate(item.certificates):
            file = item.files[i] if i < len(item.files) else None
            _print_certificate(console, details, file, now)
        if item.ignored_blocks:
            blocks = escaped(", ".join(item.ignored_blocks))
            ignored = _("ignored PEM blocks: {blocks}").format(blocks=blocks)
            console.print(f"  [dim]{ignored}[/]")
        _print_findings(console, item.findings)
        console.print()
    files = len(report.files)
    console.print(
        ngettext(
            "{files} file(s), {certs} certificate(s); {warnings} warning(s)",
            "{files} file(s), {certs} certificate(s); {warnings} warning(s)",
            files,
        ).format(
            files=files,
            certs=sum(len(f.certificates) for f in report.files),
            warnings=report.warnings,
        )
    )
    if report.output_dir is not None:
        written = sum(len(f.files) for f in report.files)
        console.print(_written(written, report.output_dir))
    return buffer.getvalue()
