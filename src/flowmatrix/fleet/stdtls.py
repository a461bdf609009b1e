"""TLS checks with the standard library only, for source hosts whose Python lacks ``cryptography``.

The probe engine's own TLS check parses the certificate with ``cryptography`` (a compiled
package the zipapp cannot carry). Without it, OpenSSL's verification through ``ssl``
still says what matters for a flow: the handshake works, the chain is trusted by the
host, the certificate covers the name the clients use, it has not expired. Details
(subject, SANs, dates) come from ``getpeercert()``, which only gives them for a verified
certificate; otherwise the report keeps the DER fingerprint and OpenSSL's reason.

The remote entry point installs this module as ``flowmatrix.probe.tls`` when
``cryptography`` cannot be imported, before the probe package loads; it offers the same
``tls_check`` call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where used: this module must load before the ``flowmatrix.probe`` package,
    # whose ``__init__`` imports the engine that imports ``flowmatrix.probe.tls``.
    from flowmatrix.probe.results import TlsInfo

#: OpenSSL verification error codes (``X509_V_ERR_*``) that are findings, not trust notes.
_NOT_YET_VALID = 9
_EXPIRED = 10
_NAME_MISMATCH = frozenset({62, 64})  # hostname, IP address
NO_DETAILS_NOTE = (
    "certificate details (subject, names, dates) need the 'cryptography' module in this "
    "host's Python; trust, name and expiry were checked by OpenSSL"
)


@dataclass(frozen=True, slots=True)
class TlsCheck:
    info: TlsInfo
    findings: tuple[str, ...]
    notes: tuple[str, ...]


def _context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    if verify:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = True
        if ssl.HAS_NEVER_CHECK_COMMON_NAME:
            context.hostname_checks_common_name = False  # SANs only, as iOS and Android do
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


async def _handshake(
    address: str,
    port: int,
    name: str,
    server_name: str | None,
    source_address: str | None,
    timeout: float,
    context: ssl.SSLContext,
) -> _Handshake:
    local = (source_address, 0) if source_address else None
    async with asyncio.timeout(timeout):
        _, writer = await asyncio.open_connection(
            address,
            port,
            ssl=context,
            server_hostname=name,
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


def _rdn(name: Any) -> str | None:
    if not name:
        return None
    parts = [f"{key}={value}" for rdn in name for key, value in rdn]
    return ",".join(parts) or None


def _time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(text), dt.UTC)


def _fingerprint(der: bytes | None) -> str | None:
    if der is None:
        return None
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _verified(shake: _Handshake, server_name: str | None, now: dt.datetime) -> TlsCheck:
    from flowmatrix.probe.results import TlsInfo

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


def _rejected(
    shake: _Handshake, error: ssl.SSLCertVerificationError, name: str, server_name: str | None
) -> TlsCheck:
    from flowmatrix.probe.results import TlsInfo

    code = error.verify_code
    reason = error.verify_message or str(error)
    findings: list[str] = []
    notes: list[str] = [NO_DETAILS_NOTE]
    trusted: bool | None = None
    if code == _EXPIRED:
        findings.append("the certificate has expired")
    elif code == _NOT_YET_VALID:
        findings.append("the certificate is not valid yet")
    elif code in _NAME_MISMATCH:
        trusted = True  # OpenSSL checks the name after the chain
        findings.append(f"the certificate does not cover {name}")
    else:
        trusted = False
        notes.insert(
            0,
            f"certificate not trusted by this host: {reason} "
            "(expected with a private CA: give --ca-file)",
        )
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


async def tls_check(
    address: str,
    port: int,
    *,
    server_name: str | None,
    timeout: float,
    source_address: str | None = None,
    ca_file: str | None = None,
    now: dt.datetime | None = None,
) -> TlsCheck:
    """Handshake with ``address:port`` (SNI: ``server_name``) and let OpenSSL judge it."""
    name = server_name or address
    moment = now or dt.datetime.now(dt.UTC)
    try:
        try:
            shake = await _handshake(
                address, port, name, server_name, source_address, timeout, _context(True, ca_file)
            )
            return _verified(shake, server_name, moment)
        except ssl.SSLCertVerificationError as exc:
            plain = await _handshake(
                address, port, name, server_name, source_address, timeout, _context(False, None)
            )
            return _rejected(plain, exc, name, server_name)
    except TimeoutError:
        return _failed(server_name, f"no TLS handshake within {timeout:g} s")
    except (ssl.SSLError, OSError) as exc:
        return _failed(server_name, _ssl_text(exc))


def _failed(server_name: str | None, error: str) -> TlsCheck:
    from flowmatrix.probe.results import TlsInfo

    return TlsCheck(
        TlsInfo(server_name=server_name, error=error), (f"TLS handshake failed: {error}",), ()
    )


def _ssl_text(exc: BaseException) -> str:
    """A short reason for a failed handshake."""
    reason = getattr(exc, "reason", None) if isinstance(exc, ssl.SSLError) else None
    if reason:
        return f"{reason} ({getattr(exc, 'library', None) or 'ssl'})"
    if isinstance(exc, ConnectionResetError):
        return "connection reset during the TLS handshake (is it a TLS service?)"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
