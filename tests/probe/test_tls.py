"""TLS checks against real handshakes with trustme certificates."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import trustme

from flowmatrix.probe.tls import TlsCheck, tls_check
from probe.responders import tls_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@contextmanager
def server(cert: trustme.LeafCert) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    with tls_server(context) as port:
        yield port


def check(port: int, server_name: str | None, ca_file: str | None = None) -> TlsCheck:
    return asyncio.run(
        tls_check("127.0.0.1", port, server_name=server_name, timeout=2.0, ca_file=ca_file)
    )


def test_good_certificate(ca: trustme.CA, ca_file: str) -> None:
    with server(ca.issue_cert("xms.lab.test")) as port:
        result = check(port, "xms.lab.test", ca_file)
    assert result.findings == ()
    info = result.info
    assert info.trusted is True and info.verify_error is None
    assert info.name_matches is True and info.expired is False
    assert info.version in {"TLSv1.2", "TLSv1.3"}
    assert info.cipher
    assert info.dns_names == ("xms.lab.test",)
    assert info.sha256 is not None and len(info.sha256.split(":")) == 32
    assert info.days_left is not None and info.days_left > 300


def test_expired_certificate_is_a_finding(ca: trustme.CA, ca_file: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    cert = ca.issue_cert("xms.lab.test", not_before=past - dt.timedelta(days=365), not_after=past)
    with server(cert) as port:
        result = check(port, "xms.lab.test", ca_file)
    assert result.info.expired is True
    assert result.info.trusted is False  # the chain check refuses it too
    assert any("expired on" in f and "days ago" in f for f in result.findings)
    assert result.info.not_after is not None and result.info.not_after.startswith(
        f"{past:%Y-%m-%d}"
    )


def test_wrong_name_is_a_finding(ca: trustme.CA, ca_file: str) -> None:
    with server(ca.issue_cert("other.lab.test")) as port:
        result = check(port, "xms.lab.test", ca_file)
    assert result.info.name_matches is False
    assert result.info.trusted is True
    assert result.findings == (
        "the certificate does not cover xms.lab.test (it covers: other.lab.test)",
    )


def test_without_a_name_the_address_is_checked(ca: trustme.CA, ca_file: str) -> None:
    with server(ca.issue_cert("127.0.0.1")) as port:
        result = check(port, None, ca_file)
    assert result.info.name_matches is True
    assert result.info.ip_addresses == ("127.0.0.1",)
    assert result.findings == ()


def test_sni_selects_the_certificate(ca: trustme.CA, ca_file: str) -> None:
    """The name from the plan is sent as SNI: a server with several certificates picks ours."""
    good = ca.issue_cert("xms.lab.test")
    other = ca.issue_cert("default.lab.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.configure_cert(context)
    named = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    good.configure_cert(named)
    seen: list[str | None] = []

    def pick(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: ssl.SSLContext) -> None:
        seen.append(name)
        if name == "xms.lab.test":
            sock.context = named

    context.sni_callback = pick  # type: ignore[assignment]
    with tls_server(context) as port:
        result = check(port, "xms.lab.test", ca_file)
    assert "xms.lab.test" in seen
    assert result.info.dns_names == ("xms.lab.test",) and result.findings == ()


def test_private_ca_is_a_note_not_a_finding(ca: trustme.CA) -> None:
    with server(ca.issue_cert("xms.lab.test")) as port:
        result = check(port, "xms.lab.test", None)
    assert result.info.trusted is False
    assert result.info.subject is not None
    assert result.findings == ()
    assert any("--ca-file" in n for n in result.notes)


def test_plain_tcp_on_a_tls_port_is_a_finding() -> None:
    import socket

    with socket.socket() as plain:
        plain.bind(("127.0.0.1", 0))
        plain.listen(1)
        port = plain.getsockname()[1]

        async def run() -> TlsCheck:
            task = asyncio.create_task(tls_check("127.0.0.1", port, server_name=None, timeout=0.5))
            await asyncio.sleep(0.05)
            conn, _ = plain.accept()
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            conn.close()
            return await task

        plain.setblocking(True)
        result = asyncio.run(run())
    assert result.info.error is not None
    assert result.findings and result.findings[0].startswith("TLS handshake failed")
