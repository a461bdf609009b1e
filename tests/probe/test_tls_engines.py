"""The TLS check judged with the standard library agrees with the one judged with
``cryptography`` on what matters (the remote probe uses the first where a host lacks
``cryptography``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from flowmatrix.probe import tls
from probe.responders import tls_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _context(ca: trustme.CA, **issue: object) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1", **issue).configure_cert(context)  # type: ignore[arg-type]
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def good(ca: trustme.CA) -> Iterator[int]:
    """The port of a server with a trusted certificate for localhost and 127.0.0.1."""
    with tls_server(_context(ca)) as port:
        yield port


def _both(port: int, **kwargs: object) -> tuple[tls.TlsCheck, tls.TlsCheck]:
    async def run() -> tuple[tls.TlsCheck, tls.TlsCheck]:
        mine = await tls.tls_check(
            "127.0.0.1",
            port,
            timeout=3.0,
            judged_by="standard library",
            **kwargs,  # type: ignore[arg-type]
        )
        theirs = await tls.tls_check(
            "127.0.0.1",
            port,
            timeout=3.0,
            judged_by="cryptography",
            **kwargs,  # type: ignore[arg-type]
        )
        return mine, theirs

    return asyncio.run(run())


def test_trusted_certificate_for_the_right_name(good: int, ca_file: str) -> None:
    mine, theirs = _both(good, server_name="localhost", ca_file=ca_file)
    assert mine.findings == theirs.findings == ()
    assert mine.info.trusted is theirs.info.trusted is True
    assert mine.info.name_matches is theirs.info.name_matches is True
    assert mine.info.dns_names == theirs.info.dns_names == ("localhost",)
    assert mine.info.ip_addresses == theirs.info.ip_addresses
    assert mine.info.sha256 == theirs.info.sha256
    assert mine.info.not_after == theirs.info.not_after
    assert mine.info.version == theirs.info.version


def test_untrusted_chain_is_a_note_not_a_finding(good: int) -> None:
    mine, theirs = _both(good, server_name="localhost")
    assert mine.findings == theirs.findings == ()
    assert mine.info.trusted is theirs.info.trusted is False
    assert mine.notes[0].startswith("certificate not trusted by this host")
    assert tls.NO_DETAILS_NOTE in mine.notes
    assert mine.info.sha256 == theirs.info.sha256


def test_wrong_name_is_a_finding(good: int, ca_file: str) -> None:
    mine, theirs = _both(good, server_name="xms.example.com", ca_file=ca_file)
    assert len(mine.findings) == len(theirs.findings) == 1
    assert "does not cover xms.example.com" in mine.findings[0]
    assert mine.info.name_matches is theirs.info.name_matches is False


def test_expired_certificate_is_a_finding(ca: trustme.CA, ca_file: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    with tls_server(_context(ca, not_before=past, not_after=past + dt.timedelta(days=30))) as port:
        mine, theirs = _both(port, server_name="localhost", ca_file=ca_file)
    assert mine.info.expired is theirs.info.expired is True
    assert any("expired" in f for f in mine.findings)
    assert any("expired" in f for f in theirs.findings)


def test_plain_text_service_fails_the_handshake() -> None:
    with tls_server(None) as port:
        mine, theirs = _both(port, server_name="localhost")
    assert mine.findings[0].startswith("TLS handshake failed")
    assert theirs.findings[0].startswith("TLS handshake failed")
    assert mine.info.error
