"""Loopback-only TLS servers, a tiny DNS responder and a certificate authority for tests.

Every test in this folder runs under a guard that refuses any connection, datagram or
name lookup that is not for loopback: the ADS name and its documented public addresses
must never be contacted from a test.
"""

from __future__ import annotations

import datetime as dt
import errno
import ipaddress
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ADS_NAME = "discovery.mdm.zenprise.com"
XMS_NAME = "xms.lab.test"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Block (and fail the test on) any traffic or lookup that is not for loopback."""
    violations: list[object] = []

    def guard(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            violations.append(address)
            raise PermissionError(errno.EPERM, f"test traffic to {address!r} is not allowed")

    def connect(self: socket.socket, address: Any) -> None:
        guard(address)
        _real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return _real_connect_ex(self, address)

    def sendto(self: socket.socket, data: bytes, *args: Any) -> int:
        guard(args[-1])
        return _real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "localhost") and not _is_loopback(host):
            violations.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"lookup of {host!r} blocked in tests")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield violations
    assert not violations, f"non-loopback traffic attempted: {violations}"


# --- certificates ----------------------------------------------------------------------


@dataclass
class Served:
    """A certificate chain to serve (PEM, leaf first) and its private key (PEM)."""

    chain: list[bytes]
    key: bytes

    @property
    def leaf(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.chain[0])


@dataclass
class Pki:
    ca: trustme.CA
    intermediate: trustme.CA
    ca_file: Path
    good: Served
    expired: Served
    expiring: Served
    wrong_name: Served
    self_signed: Served
    missing_intermediate: Served
    ads: Served
    ads_wrong: Served
    extra: dict[str, Served] = field(default_factory=dict)


def _served(leaf: trustme.LeafCert) -> Served:
    return Served([blob.bytes() for blob in leaf.cert_chain_pems], leaf.private_key_pem.bytes())


def self_signed(name: str) -> Served:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Served([cert.public_bytes(serialization.Encoding.PEM)], key_pem)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    now = dt.datetime.now(dt.UTC)
    ca = trustme.CA()
    intermediate = ca.create_child_ca()
    folder = tmp_path_factory.mktemp("pki")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    good = _served(intermediate.issue_cert(XMS_NAME))
    missing = Served(good.chain[:1], good.key)
    return Pki(
        ca=ca,
        intermediate=intermediate,
        ca_file=ca_file,
        good=good,
        expired=_served(
            intermediate.issue_cert(
                XMS_NAME,
                not_before=now - dt.timedelta(days=400),
                not_after=now - dt.timedelta(days=3),
            )
        ),
        expiring=_served(
            intermediate.issue_cert(
                XMS_NAME,
                not_before=now - dt.timedelta(days=300),
                not_after=now + dt.timedelta(days=10),
            )
        ),
        wrong_name=_served(intermediate.issue_cert("other.lab.test")),
        self_signed=self_signed(XMS_NAME),
        missing_intermediate=missing,
        ads=_served(intermediate.issue_cert(ADS_NAME)),
        ads_wrong=_served(intermediate.issue_cert("www.unrelated.test")),
    )


# --- TLS servers ------------------------------------------------------------------------


class TlsServer:
    """A TLS server on a loopback address, in a thread: it handshakes, then hangs up."""

    def __init__(
        self,
        served: Served,
        folder: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls13_only: bool = False,
        max_tls12: bool = False,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        chain_file = folder / f"chain-{id(self)}.pem"
        key_file = folder / f"key-{id(self)}.pem"
        chain_file.write_bytes(b"".join(served.chain))
        key_file.write_bytes(served.key)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(chain_file, key_file)
        if tls13_only:
            self.context.minimum_version = ssl.TLSVersion.TLSv1_3
        if max_tls12:
            self.context.maximum_version = ssl.TLSVersion.TLSv1_2
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(3)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                self.handshakes += 1
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[Callable[..., TlsServer]]:
    """Start TLS servers on loopback; all are stopped after the test."""
    started: list[TlsServer] = []

    def start(served: Served, **options: Any) -> TlsServer:
        server = TlsServer(served, tmp_path / "servers", **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


# --- DNS --------------------------------------------------------------------------------


def _encode(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


class DnsResponder:
    """A loopback DNS server answering from a table, with compressed names and CNAMEs.

    ``addresses`` maps a name to its A records; ``aliases`` maps a name to a CNAME
    target; names in ``nxdomain`` get NXDOMAIN; others get NOERROR with no answer.
    ``truncate`` answers UDP with the TC bit and serves the full answer on TCP;
    ``silent`` never answers.
    """

    def __init__(
        self,
        addresses: dict[str, list[str]],
        aliases: dict[str, str] | None = None,
        nxdomain: set[str] | None = None,
        *,
        truncate: bool = False,
        silent: bool = False,
    ) -> None:
        self.addresses = addresses
        self.aliases = aliases or {}
        self.nxdomain = nxdomain or set()
        self.truncate = truncate
        self.silent = silent
        self.queries: list[tuple[str, int, str]] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.udp.settimeout(0.1)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(4)
        self.tcp.settimeout(0.1)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answer(self, query: bytes, transport: str) -> bytes:
        query_id, _flags = struct.unpack("!HH", query[:4])
        pos = 12
        labels = []
        while query[pos]:
            length = query[pos]
            labels.append(query[pos + 1 : pos + 1 + length].decode("ascii"))
            pos += 1 + length
        question_end = pos + 5
        qtype = struct.unpack("!H", query[pos + 1 : pos + 3])[0]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype, transport))
        question = query[12:question_end]
        flags = 0x8180  # QR, RD, RA
        if name in self.nxdomain:
            return struct.pack("!HHHHHH", query_id, flags | 3, 1, 0, 0, 0) + question
        if self.truncate and transport == "udp":
            return struct.pack("!HHHHHH", query_id, flags | 0x0200, 1, 0, 0, 0) + question
        records = b""
        count = 0
        owner_pointer = 0xC00C  # the question name, at offset 12
        current = name
        body_offset = 12 + len(question)
        if current in self.aliases:
            target = self.aliases[current]
            rdata = _encode(target)
            record = struct.pack("!HHHIH", owner_pointer, 5, 1, 300, len(rdata)) + rdata
            # The alias target's name starts right after this record's fixed part.
            owner_pointer = 0xC000 | (body_offset + len(records) + 12)
            records += record
            count += 1
            current = target
        if qtype == 1:
            for address in self.addresses.get(current, []):
                rdata = socket.inet_aton(address)
                records += struct.pack("!HHHIH", owner_pointer, 1, 1, 300, 4) + rdata
                count += 1
        header = struct.pack("!HHHHHH", query_id, flags, 1, count, 0, 0)
        return header + question + records

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            if self.silent:
                continue
            self.udp.sendto(self.answer(data, "udp"), peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    length = struct.unpack("!H", conn.recv(2))[0]
                    data = b""
                    while len(data) < length:
                        data += conn.recv(length - len(data))
                    reply = self.answer(data, "tcp")
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, struct.error):
                    pass

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def dns_responder() -> Iterator[Callable[..., DnsResponder]]:
    started: list[DnsResponder] = []

    def start(*args: Any, **kwargs: Any) -> DnsResponder:
        responder = DnsResponder(*args, **kwargs)
        started.append(responder)
        return responder

    yield start
    for responder in started:
        responder.close()


# --- CLI ----------------------------------------------------------------------------------


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``flowmatrix`` in-process; returns exit code, stdout and stderr."""
    from flowmatrix.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        code = info.value.code
        return CliResult(int(code) if isinstance(code, int) else 0, out, err)

    return run


@pytest.fixture
def closed_port() -> Iterator[Callable[[str], int]]:
    """A port that refuses connections on a loopback address: bound, never listening.

    Holding the bound socket keeps anyone else from listening there during the test.
    """
    held: list[socket.socket] = []

    def reserve(host: str = "127.0.0.1") -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((host, 0))
        held.append(sock)
        return int(sock.getsockname()[1])

    yield reserve
    for sock in held:
        sock.close()
