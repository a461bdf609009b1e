"""TLS checks on open ports: protocol, cipher and the certificate the clients will see.

The first handshake verifies the chain against this host's CA store (or ``--ca-file``);
when that fails, a second one with verification off still fetches the certificate so
the report shows it. With ``CERT_NONE`` ``getpeercert()`` is empty: the certificate is
taken in DER form and parsed with ``cryptography``. Names are matched against the SANs
by the same rules as ``flowmatrix certs`` (the subject CN is not consulted).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509

from flowmatrix.probe.results import TlsInfo
from flowmatrix.x509facts import describe, name_matches, utcnow

if TYPE_CHECKING:
    from flowmatrix.probe.pacing import PacketGate

#: Ports that stay clear text even when their flow is marked TLS ("80 and 443" rows).
CLEAR_TEXT_PORTS = frozenset({21, 25, 53, 80, 389, 3268, 8080, 9080})


def uses_tls(flow_tls: bool, port: int) -> bool:
    return flow_tls and port not in CLEAR_TEXT_PORTS


@dataclass(frozen=True, slots=True)
class TlsCheck:
    info: TlsInfo
    findings: tuple[str, ...]
    notes: tuple[str, ...]


def _context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    if verify:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = False  # names are checked against the SANs below
        return context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _handshake(
    address: str,
    port: int,
    server_name: str | None,
    source_address: str | None,
    timeout: float,
    context: ssl.SSLContext,
) -> tuple[str | None, str | None, bytes | None]:
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
        assert isinstance(tls, ssl.SSLObject)
        cipher = tls.cipher()
        return tls.version(), cipher[0] if cipher else None, tls.getpeercert(binary_form=True)
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
) -> TlsCheck:
    """Handshake with ``address:port`` (SNI: ``server_name``) and judge the certificate.

    With a ``gate`` (``--rate``), each connection's SYN waits for a token.
    """
    trusted: bool | None = True
    verify_error: str | None = None
    try:
        try:
            if gate is not None:
                await gate.wait()
            version, cipher, der = await _handshake(
                address, port, server_name, source_address, timeout, _context(True, ca_file)
            )
        except ssl.SSLCertVerificationError as exc:
            trusted, verify_error = False, exc.verify_message or str(exc)
            if gate is not None:
                await gate.wait()
            version, cipher, der = await _handshake(
                address, port, server_name, source_address, timeout, _context(False, None)
            )
    except TimeoutError:
        return _failed(server_name, f"no TLS handshake within {timeout:g} s")
    except (ssl.SSLError, OSError) as exc:
        return _failed(server_name, _ssl_text(exc))
    if der is None:
        return _failed(server_name, "the server sent no certificate")
    return judge(
        der,
        version=version,
        cipher=cipher,
        server_name=server_name,
        address=address,
        trusted=trusted,
        verify_error=verify_error,
        now=now or utcnow(),
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
    try:
        details = describe(x509.load_der_x509_certificate(der))
    except ValueError as exc:
        return _failed(server_name, f"unreadable certificate: {exc}")
    name = server_name or address
    matches = name_matches(details, name)
    expired = now > details.not_after
    early = now < details.not_before
    findings: list[str] = []
    notes: list[str] = []
    if expired:
        findings.append(
            f"the certificate expired on {details.not_after:%Y-%m-%d} "
            f"({-details.days_left(now)} days ago)"
        )
    if early:
        findings.append(f"the certificate is not valid before {details.not_before:%Y-%m-%d}")
    if not matches:
        covered = ", ".join(details.names()) or "no subjectAltName"
        findings.append(f"the certificate does not cover {name} (it covers: {covered})")
    if trusted is False and verify_error:
        notes.append(
            f"certificate not trusted by this host: {verify_error} "
            "(expected with a private CA: give --ca-file)"
        )
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
        TlsInfo(server_name=server_name, error=error), (f"TLS handshake failed: {error}",), ()
    )


def _ssl_text(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.reason} ({exc.library or 'ssl'})"
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection during the handshake (not a TLS service?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
