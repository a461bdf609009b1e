"""TLS checks on open ports: protocol, cipher and the certificate the clients will see.

One module, two ways of judging the certificate, chosen by what this host's Python has
(the remote probe of ``fleet`` carries this module to hosts that may lack
``cryptography``):

- with ``cryptography`` (``ENGINE`` "cryptography"): the first handshake verifies the
  chain against this host's CA store (or ``--ca-file``); when that fails, a second one
  with verification off still fetches the certificate so the report shows it. The
  certificate is taken in DER form and parsed with ``cryptography``; names are matched
  against the SANs by the same rules as ``flowmatrix certs`` (the subject CN is not
  consulted);
- with the standard library only ("standard library"): OpenSSL verifies the chain, the
  name (SANs only, as iOS and Android do) and the dates. The details (subject, SANs,
  dates) come from ``getpeercert()``, which gives them for a verified certificate only;
  otherwise the report keeps the DER fingerprint and OpenSSL's reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import importlib
import ssl
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from flowmatrix.i18n import N_, _, ngettext
from flowmatrix.probe.results import TlsInfo

if TYPE_CHECKING:
    from flowmatrix.probe.pacing import PacketGate

Engine = Literal["cryptography", "standard library"]

#: OpenSSL verification error codes (``X509_V_ERR_*``) that are findings, not trust notes.
_NOT_YET_VALID = 9
_EXPIRED = 10
_NAME_MISMATCH = frozenset({62, 64})  # hostname, IP address
NO_DETAILS_NOTE = N_(
    "certificate details (subject, names, dates) need the 'cryptography' module in this "
    "host's Python; trust, name and expiry were checked by OpenSSL"
)


@cache
def engine() -> Engine:
    """How certificates are judged here: with ``cryptography`` when this Python has a
    working one (absent, or built for another Python or OpenSSL: the standard library)."""
    try:
        importlib.import_module("cryptography.x509")
    except Exception:
        return "standard library"
    return "cryptography"


#: Ports that stay clear text even when their flow is marked TLS ("80 and 443" rows).
CLEAR_TEXT_PORTS = frozenset({21, 25, 53, 80, 389, 3268, 8080, 9080})


def uses_tls(flow_tls: bool, port: int) -> bool:
    return flow_tls and port not in CLEAR_TEXT_PORTS


@dataclass(frozen=True, slots=True)
class TlsCheck:
    info: TlsInfo
    findings: tuple[str, ...]
    notes: tuple[str, ...]


def _context(verify: bool, ca_file: str | None, *, openssl_names: bool = False) -> ssl.SSLContext:
    """A client context; ``openssl_names``: OpenSSL checks the name too (SANs only)."""
    if verify:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = openssl_names  # else: names are checked against the SANs
        if openssl_names and ssl.HAS_NEVER_CHECK_COMMON_NAME:
            context.hostname_checks_common_name = False
        return context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True, slots=True)
class _Handshake:
    version: str | None
    cipher: str | None
    der: bytes | None
    cert: dict[str, Any]
    """What ``getpeercert()`` gives: the details of a verified certificate, else empty."""


async def _handshake(
    address: str,
    port: int,
    server_name: str | None,
    source_address: str | None,
    timeout: float,
    context: ssl.SSLContext,
    gate: PacketGate | None,
) -> _Handshake:
    if gate is not None:
        await gate.wait()
    local = (source_address, 0) if source_address else None
    async with asyncio.timeout(timeout):
        _reader, writer = await asyncio.open_connection(
            address,
            port,
            ssl=context,
            server_hostname=server_name or address,
            local_addr=local,
            ssl_handshake_timeout=timeout,
        )
    try:
        tls = writer.get_extra_info("ssl_object")
        if not isinstance(tls, ssl.SSLObject):
            raise ssl.SSLError("no TLS session")
        cipher = tls.cipher()
        cert = tls.getpeercert() if context.verify_mode != ssl.CERT_NONE else None
        return _Handshake(
            tls.version(),
            cipher[0] if cipher else None,
            tls.getpeercert(binary_form=True),
            dict(cert or {}),
        )
    finally:
        writer.transport.abort()


async def tls_check(
    address: str,
    port: int,
    *,
    server_name: str | None,
    timeout: float,
    source_address: str | None = None,
    ca_file: str | None = None,
    now: dt.datetime | None = None,
    gate: PacketGate | None = None,
    judged_by: Engine | None = None,
) -> TlsCheck:
    """Handshake with ``address:port`` (SNI: ``server_name``) and judge the certificate
    (``judged_by``: this host's :func:`engine` unless said).

    With a ``gate`` (``--rate``), each connection's SYN waits for a token.
    """
    by_openssl = (judged_by or engine()) == "standard library"
    moment = now or dt.datetime.now(dt.UTC)
    trusted: bool | None = True
    refused: ssl.SSLCertVerificationError | None = None
    try:
        try:
            context = _context(True, ca_file, openssl_names=by_openssl)
            shake = await _handshake(
                address, port, server_name, source_address, timeout, context, gate
            )
        except ssl.SSLCertVerificationError as exc:
            trusted, refused = False, exc
            shake = await _handshake(
                address, port, server_name, source_address, timeout, _context(False, None), gate
            )
    except TimeoutError:
        return _failed(
            server_name, _("no TLS handshake within {timeout:g} s").format(timeout=timeout)
        )
    except (ssl.SSLError, OSError) as exc:
        return _failed(server_name, _ssl_text(exc))
    if by_openssl:
        name = server_name or address
        if refused is not None:
            return _rejected_by_openssl(shake, refused, name, server_name)
        return _verified_by_openssl(shake, server_name, moment)
    if shake.der is None:
        return _failed(server_name, _("the server sent no certificate"))
    return judge(
        shake.der,
        version=shake.version,
        cipher=shake.cipher,
        server_name=server_name,
        address=address,
        trusted=trusted,
        verify_error=(refused.verify_message or str(refused)) if refused else None,
        now=moment,
    )


def judge(
    der: bytes,
    *,
    version: str | None,
    cipher: str | None,
    server_name: str | None,
    address: str,
    trusted: bool | None,
    verify_error: str | None,
    now: dt.datetime,
) -> TlsCheck:
    """Describe a certificate and list what is wrong with it for clients using ``server_name``."""
    from cryptography import x509

    from flowmatrix.x509facts import describe, name_matches

    try:
        details = describe(x509.load_der_x509_certificate(der))
    except ValueError as exc:
        return _failed(server_name, _("unreadable certificate: {error}").format(error=exc))
    name = server_name or address
    matches = name_matches(details, name)
    expired = now > details.not_after
    early = now < details.not_before
    findings: list[str] = []
    notes: list[str] = []
    if expired:
        days = -details.days_left(now)
        findings.append(
            ngettext(
                "the certificate expired on {date} ({n} days ago)",
                "the certificate expired on {date} ({n} days ago)",
                days,
            ).format(date=f"{details.not_after:%Y-%m-%d}", n=days)
        )
    if early:
        findings.append(
            _("the certificate is not valid before {date}").format(
                date=f"{details.not_before:%Y-%m-%d}"
            )
        )
    if not matches:
        covered = ", ".join(details.names()) or _("no subjectAltName")
        findings.append(
            _("the certificate does not cover {name} (it covers: {covered})").format(
                name=name, covered=covered
            )
        )
    if trusted is False and verify_error:
        notes.append(_untrusted_note(verify_error))
    info = TlsInfo(
        server_name=server_name,
        version=version,
        cipher=cipher,
        subject=details.subject,
        issuer=details.issuer,
        dns_names=details.dns_names,
        ip_addresses=details.ip_addresses,
        not_before=details.not_before.isoformat(),
        not_after=details.not_after.isoformat(),
        sha256=details.sha256,
        trusted=trusted,
        verify_error=verify_error,
        name_matches=matches,
        expired=expired,
        not_yet_valid=early,
        days_left=details.days_left(now),
    )
    return TlsCheck(info, tuple(findings), tuple(notes))


def _failed(server_name: str | None, error: str) -> TlsCheck:
    return TlsCheck(
        TlsInfo(server_name=server_name, error=error),
        (_("TLS handshake failed: {error}").format(error=error),),
        (),
    )


def _ssl_text(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.reason} ({exc.library or 'ssl'})"
    if isinstance(exc, ConnectionResetError):
        return _("the server reset the connection during the handshake (not a TLS service?)")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _fingerprint(der: bytes | None) -> str | None:
    if der is None:
        return None
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _rdn(name: Any) -> str | None:
    if not name:
        return None
    parts = [f"{key}={value}" for rdn in name for key, value in rdn]
    return ",".join(parts) or None


def _time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(text), dt.UTC)


def _verified_by_openssl(shake: _Handshake, server_name: str | None, now: dt.datetime) -> TlsCheck:
    """A certificate OpenSSL accepted: chain, name and dates are right."""
    sans = shake.cert.get("subjectAltName", ())
    not_before, not_after = _time(shake.cert.get("notBefore")), _time(shake.cert.get("notAfter"))
    info = TlsInfo(
        server_name=server_name,
        version=shake.version,
        cipher=shake.cipher,
        subject=_rdn(shake.cert.get("subject")),
        issuer=_rdn(shake.cert.get("issuer")),
        dns_names=tuple(v for k, v in sans if k == "DNS"),
        ip_addresses=tuple(v.strip() for k, v in sans if k == "IP Address"),
        not_before=not_before.isoformat() if not_before else None,
        not_after=not_after.isoformat() if not_after else None,
        days_left=(not_after - now).days if not_after else None,
        sha256=_fingerprint(shake.der),
        trusted=True,
        name_matches=True,
        expired=False,
        not_yet_valid=False,
    )
    return TlsCheck(info, (), ())


def _rejected_by_openssl(
    shake: _Handshake, error: ssl.SSLCertVerificationError, name: str, server_name: str | None
) -> TlsCheck:
    """A certificate OpenSSL refused: its reason says whether it is a finding (dates, name)
    or a trust note (a chain this host does not know)."""
    code = error.verify_code
    reason = error.verify_message or str(error)
    findings: list[str] = []
    notes: list[str] = [_(NO_DETAILS_NOTE)]
    trusted: bool | None = None
    if code == _EXPIRED:
        findings.append(_("the certificate has expired"))
    elif code == _NOT_YET_VALID:
        findings.append(_("the certificate is not valid yet"))
    elif code in _NAME_MISMATCH:
        trusted = True  # OpenSSL checks the name after the chain
        findings.append(_("the certificate does not cover {name}").format(name=name))
    else:
        trusted = False
        notes.insert(0, _untrusted_note(reason))
    info = TlsInfo(
        server_name=server_name,
        version=shake.version,
        cipher=shake.cipher,
        sha256=_fingerprint(shake.der),
        trusted=trusted,
        verify_error=reason,
        name_matches=False if code in _NAME_MISMATCH else None,
        expired=True if code == _EXPIRED else None,
        not_yet_valid=True if code == _NOT_YET_VALID else None,
    )
    return TlsCheck(info, tuple(findings), tuple(notes))


def _untrusted_note(reason: str) -> str:
    return _(
        "certificate not trusted by this host: {reason} (expected with a private CA: give "
        "--ca-file)"
    ).format(reason=reason)
