"""``certs collect``: fetch the chains of the XenMobile and NetScaler Gateway endpoints.

The targets come from the plan (TLS flows whose destination role is one of ``roles``:
each destination address, or the host's FQDN when it has no address, times each TLS
port) or from ``HOST:PORT`` arguments. Each presented certificate is written as PEM,
leaf first, and described with the findings that matter before pinning it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from flowmatrix.atomic import write_atomic
from flowmatrix.certs.files import to_pem
from flowmatrix.certs.findings import DEFAULT_WARN_DAYS, Finding, chain_findings
from flowmatrix.certs.tlsfetch import TlsFetch, run_fetches
from flowmatrix.errors import ExitCode, UserError
from flowmatrix.i18n import _, pgettext
from flowmatrix.x509facts import CertDetails, describe, parse_ip, utcnow

if TYPE_CHECKING:
    from flowmatrix.model import Plan

#: The roles whose certificates Citrix asks for when certificate pinning is enabled.
PINNING_ROLES = ("xenmobile", "netscaler-gateway")

_TARGET = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^\s:\[\]/]+)):(?P<port>\d{1,5})$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Target:
    """One TLS endpoint to collect from."""

    host: str
    """Address or DNS name to connect to."""
    port: int
    server_name: str | None = None
    """Name to send as SNI and to check the certificate against."""
    label: str | None = None
    """Site host name (e.g. 'xms1'), when the target comes from the plan."""
    role: str | None = None
    """Catalog role of the destination, when the target comes from the plan."""

    @property
    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def checked_name(self) -> str | None:
        """The name the leaf must cover: the FQDN, else a DNS-name host, else None."""
        if self.server_name:
            return self.server_name
        return None if parse_ip(self.host) is not None else self.host


def looks_like_target(text: str) -> bool:
    """Whether a command-line argument is a ``HOST:PORT`` (rather than a site file)."""
    return _TARGET.match(text) is not None and not Path(text).exists()


def parse_target(text: str, server_name: str | None = None) -> Target:
    """``HOST:PORT`` or ``[IPv6]:PORT`` from the command line.

    ``server_name`` is the SNI to send and the name to check; by default the host itself
    when it is a DNS name (an address gets no SNI).
    """
    match = _TARGET.match(text.strip())
    hint = _("write HOST:PORT, e.g. {examples}").format(
        examples="xms.example.com:8443 or [2001:db8::5]:443"
    )
    if match is None:
        raise UserError(_("{text!r} is not HOST:PORT").format(text=text), hint=hint)
    port = int(match.group("port"))
    if not 1 <= port <= 65535:
        raise UserError(
            _("port {port} in {text!r} is outside 1-65535").format(port=port, text=text), hint=hint
        )
    if match.group("v6") is not None:
        host = match.group("v6")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UserError(
                _("{host!r} is not an IPv6 address").format(host=host), hint=hint
            ) from None
    else:
        host = match.group("host")
        if parse_ip(host) is None and _HOSTNAME.match(host) is None:
            raise UserError(
                _("{host!r} is neither an address nor a host name").format(host=host), hint=hint
            )
    if server_name is None and parse_ip(host) is None:
        server_name = host.rstrip(".")
    return Target(host, port, server_name)


def _single_address(text: str) -> str | None:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return str(network.network_address) if network.num_addresses == 1 else None


def plan_targets(plan: Plan, roles: Sequence[str] = PINNING_ROLES) -> list[Target]:
    """The TLS endpoints of ``roles`` in the plan, in plan order, without duplicates."""
    known = {role.id for role in plan.catalog.roles}
    unknown = [r for r in roles if r not in known]
    if unknown:
        tls_roles = sorted({f.destination.role for f in plan.flows if f.tls})
        raise UserError(
            _("unknown role {role!r}").format(role=unknown[0]),
            hint=_("roles with TLS flows in this plan: {roles}").format(
                roles=", ".join(tls_roles) or pgettext("roles", "none")
            ),
        )
    found: dict[Target, None] = {}
    for flow in plan.flows:
        if not flow.tls or flow.destination.role not in roles:
            continue
        for host in flow.destination.hosts:
            fqdn = host.fqdn if host.fqdn and "*" not in host.fqdn else None
            addresses = [a for a in (_single_address(x) for x in host.addresses) if a]
            for port in flow.ports:
                if addresses:
                    for address in addresses:
                        found.setdefault(
                            Target(address, port, fqdn, host.name, flow.destination.role)
                        )
                elif fqdn:
                    found.setdefault(Target(fqdn, port, fqdn, host.name, flow.destination.role))
    return list(found)


@dataclass(frozen=True)
class EndpointReport:
    """What one endpoint presented, and what is wrong with it."""

    target: Target
    fetch: TlsFetch
    certificates: tuple[CertDetails, ...]
    findings: tuple[Finding, ...]
    files: tuple[str, ...] = ()
    """PEM files written, in chain order (empty without an output folder)."""

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


@dataclass(frozen=True)
class CollectReport:
    endpoints: tuple[EndpointReport, ...]
    output_dir: str | None
    warn_days: int
    checked_at: dt.datetime

    @property
    def failed(self) -> int:
        return sum(1 for e in self.endpoints if not e.fetch.ok)

    @property
    def warnings(self) -> int:
        return sum(e.warnings for e in self.endpoints)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FINDINGS if self.failed or self.warnings else ExitCode.OK


def safe_name(text: str) -> str:
    """A file-name fragment: letters, digits, '.', '_', '-' only (IPv6 ':' become '-')."""
    return _UNSAFE.sub("-", text).strip(".-") or "host"


def pem_file_name(target: Target, position: int, details: CertDetails) -> str:
    """``<name>[_<address>]_<port>_<position>_<fingerprint8>.pem``."""
    parts = [safe_name(target.server_name)] if target.server_name else []
    if not parts or target.host.lower() != (target.server_name or "").lower():
        parts.append(safe_name(target.host))
    return "_".join([*parts, str(target.port), str(position), details.short_fingerprint]) + ".pem"


def prepare_output_dir(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise UserError(
            _("exists and is not a folder"), file=str(path), hint=_("give a folder for -o")
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            _("cannot create the folder: {error}").format(error=exc.strerror), file=str(path)
        ) from None
    return path


def analyse_endpoint(
    target: Target,
    fetch: TlsFetch,
    *,
    now: dt.datetime,
    warn_days: int,
) -> tuple[list[x509.Certificate], tuple[CertDetails, ...], tuple[Finding, ...]]:
    """Parse and judge what an endpoint presented."""
    certs: list[x509.Certificate] = []
    for der in fetch.chain:
        try:
            certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            break
    details = tuple(describe(cert, i) for i, cert in enumerate(certs))
    findings: list[Finding] = []
    if len(certs) < len(fetch.chain):
        findings.append(
            Finding(
                "unparsable",
                "warning",
                _("certificate {position} of the presented chain cannot be parsed").format(
                    position=len(certs)
                ),
                len(certs),
            )
        )
    name = target.checked_name
    findings.extend(
        chain_findings(
            certs,
            details,
            name=name,
            now=now,
            warn_days=warn_days,
            complete=fetch.chain_complete and len(certs) == len(fetch.chain),
        )
    )
    if certs and name is None:
        findings.append(
            Finding(
                "name-unchecked",
                "note",
                _(
                    "no name to check the certificate against ({host} has no FQDN); "
                    "devices connect by name"
                ).format(host=target.host),
                0,
            )
        )
    return certs, details, tuple(findings)


def collect(
    targets: Sequence[Target],
    *,
    output_dir: str | Path | None = None,
    timeout: float = 5.0,
    warn_days: int = DEFAULT_WARN_DAYS,
    concurrency: int = 16,
    now: dt.datetime | None = None,
) -> CollectReport:
    """Handshake with each target, describe the chains, write them as PEM to ``output_dir``."""
    if not targets:
        raise UserError(
            _("no TLS endpoint to collect from"),
            hint=_("give HOST:PORT arguments, or a site with xenmobile / netscaler-gateway hosts"),
        )
    folder = prepare_output_dir(Path(output_dir)) if output_dir is not None else None
    fetches = run_fetches(
        [(t.host, t.port, t.server_name) for t in targets],
        timeout=timeout,
        concurrency=concurrency,
    )
    moment = now or utcnow()
    reports: list[EndpointReport] = []
    for target, fetch in zip(targets, fetches, strict=True):
        certs, details, findings = analyse_endpoint(target, fetch, now=moment, warn_days=warn_days)
        files: list[str] = []
        if folder is not None:
            for cert, item in zip(certs, details, strict=True):
                path = folder / pem_file_name(target, item.position, item)
                write_atomic(path, to_pem(cert))
                files.append(str(path))
        reports.append(EndpointReport(target, fetch, details, findings, tuple(files)))
    return CollectReport(
        tuple(reports), str(folder) if folder is not None else None, warn_days, moment
    )
