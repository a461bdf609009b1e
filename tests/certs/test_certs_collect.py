"""``certs collect`` against real TLS servers on loopback, with trustme-made chains."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from flowmatrix.api import load_plan
from flowmatrix.certs.collect import Target, collect, parse_target, plan_targets
from flowmatrix.certs.tlsfetch import NATIVE_CHAIN, certificates_from_records
from flowmatrix.errors import UserError

XMS = "xms.lab.test"


def codes(endpoint: dict[str, Any]) -> set[str]:
    return {f["code"] for f in endpoint["findings"] if f["severity"] == "warning"}


def collect_json(cli: Callable[..., Any], *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("certs", "collect", *args, "--format", "json", "--timeout", "2")
    return result.code, json.loads(result.out)


def test_valid_chain_with_intermediate(
    pki: Any, tls_server: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    server = tls_server(pki.good)
    out = tmp_path / "pins"
    code, report = collect_json(cli, f"127.0.0.1:{server.port}", "--sni", XMS, "-o", str(out))
    assert code == 0
    assert set(report) == {
        "format", "checked_at", "warn_days", "output_dir", "endpoints", "summary",
    }  # fmt: skip
    assert report["format"] == "flowmatrix-certs-collect/1"
    (endpoint,) = report["endpoints"]
    assert set(endpoint) == {
        "host", "port", "server_name", "label", "role", "status", "peer", "error",
        "tls_version", "cipher", "chain_complete", "elapsed_ms", "certificates", "findings",
    }  # fmt: skip
    assert endpoint["status"] == "ok"
    assert endpoint["server_name"] == XMS
    assert endpoint["chain_complete"] is True
    assert codes(endpoint) == set()
    assert [f["code"] for f in endpoint["findings"]] == ["chain-end"]
    leaf, intermediate = endpoint["certificates"]
    assert leaf["dns_names"] == [XMS]
    assert leaf["issuer"] == intermediate["subject"]
    assert intermediate["is_ca"] is True
    # The files hold exactly the presented chain, leaf first, as PEM.
    written = [Path(c["file"]) for c in endpoint["certificates"]]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert written[0].read_bytes() == pki.good.chain[0]
    assert written[1].read_bytes() == pki.good.chain[1]
    fp0 = leaf["sha256"].replace(":", "").lower()[:8]
    assert written[0].name == f"{XMS}_127.0.0.1_{server.port}_0_{fp0}.pem"
    for path in written:
        assert b"PRIVATE" not in path.read_bytes()
    # Fingerprint and pin, computed here from the served certificate.
    cert = pki.good.leaf
    der = cert.public_bytes(serialization.Encoding.DER)
    assert leaf["sha256"].replace(":", "") == hashlib.sha256(der).hexdigest().upper()
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert leaf["spki_sha256"] == base64.b64encode(hashlib.sha256(spki).digest()).decode()
    assert leaf["key_type"] == "EC" and leaf["key_size"] == 256


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_pin_matches_the_openssl_recipe(
    pki: Any, tls_server: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    server = tls_server(pki.good)
    out = tmp_path / "pins"
    _, report = collect_json(cli, f"127.0.0.1:{server.port}", "--sni", XMS, "-o", str(out))
    leaf = report["endpoints"][0]["certificates"][0]
    public = subprocess.run(
        ["openssl", "x509", "-in", leaf["file"], "-pubkey", "-noout"],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"],
        input=public,
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    assert leaf["spki_sha256"] == base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("expired", {"expired"}),
        ("expiring", {"expiring"}),
        ("wrong_name", {"name-mismatch"}),
        ("self_signed", {"self-signed"}),
        ("missing_intermediate", {"incomplete-chain"}),
    ],
)
def test_bad_chains_are_reported(
    pki: Any,
    tls_server: Callable[..., Any],
    cli: Callable[..., Any],
    tmp_path: Path,
    case: str,
    expected: set[str],
) -> None:
    server = tls_server(getattr(pki, case))
    out = tmp_path / "pins"
    code, report = collect_json(cli, f"127.0.0.1:{server.port}", "--sni", XMS, "-o", str(out))
    assert code == 1
    (endpoint,) = report["endpoints"]
    assert endpoint["status"] == "ok"
    assert codes(endpoint) == expected
    # The certificates are still saved: they are what the server presents.
    assert len(list(out.iterdir())) == len(getattr(pki, case).chain)


def test_expiry_window_is_configurable(
    pki: Any, tls_server: Callable[..., Any], cli: Callable[..., Any]
) -> None:
    server = tls_server(pki.expiring)
    code, report = collect_json(cli, f"127.0.0.1:{server.port}", "--sni", XMS, "--warn-days", "5")
    assert code == 0
    assert codes(report["endpoints"][0]) == set()


def test_tls13_only_server(pki: Any, tls_server: Callable[..., Any]) -> None:
    server = tls_server(pki.good, tls13_only=True)
    report = collect([Target("127.0.0.1", server.port, XMS)], timeout=2)
    (endpoint,) = report.endpoints
    assert endpoint.fetch.ok
    assert endpoint.fetch.tls_version == "TLSv1.3"
    notes = {f.code for f in endpoint.findings}
    if NATIVE_CHAIN:
        assert endpoint.fetch.chain_complete and len(endpoint.certificates) == 2
    else:
        # Before Python 3.13 only the leaf of a TLS 1.3 handshake can be read: said, not hidden.
        assert not endpoint.fetch.chain_complete
        assert len(endpoint.certificates) == 1
        assert "leaf-only" in notes
        assert "incomplete-chain" not in notes
    assert (
        endpoint.certificates[0].sha256.replace(":", "")
        == hashlib.sha256(pki.good.leaf.public_bytes(serialization.Encoding.DER))
        .hexdigest()
        .upper()
    )


def test_tls12_server_gives_the_whole_chain(pki: Any, tls_server: Callable[..., Any]) -> None:
    server = tls_server(pki.good, max_tls12=True)
    report = collect([Target("127.0.0.1", server.port, XMS)], timeout=2)
    (endpoint,) = report.endpoints
    assert endpoint.fetch.tls_version == "TLSv1.2"
    assert endpoint.fetch.chain_complete
    assert [c.subject for c in endpoint.certificates] == [
        x509.load_pem_x509_certificate(pem).subject.rfc4514_string() for pem in pki.good.chain
    ]


def test_closed_port_and_plain_tcp_service(
    pki: Any, cli: Callable[..., Any], closed_port: Callable[[str], int], tmp_path: Path
) -> None:
    import socket
    import threading

    closed = closed_port("127.0.0.1")
    plain = socket.create_server(("127.0.0.1", 0))
    plain_port = plain.getsockname()[1]

    def talk() -> None:
        # Two connections: the capped handshake, then the uncapped retry.
        plain.settimeout(3)
        for _ in range(1 if NATIVE_CHAIN else 2):
            conn, _ = plain.accept()
            with conn:
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    out = tmp_path / "pins"
    code, report = collect_json(
        cli, f"127.0.0.1:{closed}", f"127.0.0.1:{plain_port}", "--sni", XMS, "-o", str(out)
    )
    thread.join(3)
    plain.close()
    assert code == 1, report
    first, second = report["endpoints"]
    assert first["status"] == "closed"
    assert second["status"] == "tls-error"
    assert first["certificates"] == [] and second["certificates"] == []
    assert not any(out.iterdir())
    assert report["summary"] == {
        "endpoints": 2,
        "ok": 0,
        "failed": 2,
        "warnings": 0,
        "files_written": 0,
    }


def test_ipv6_loopback_endpoint(pki: Any, tmp_path: Path) -> None:
    import socket
    import ssl
    import threading

    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    (tmp_path / "c.pem").write_bytes(b"".join(pki.good.chain))
    (tmp_path / "k.pem").write_bytes(pki.good.key)
    context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")

    def serve() -> None:
        conn, _ = server.accept()
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except OSError:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    target = parse_target(f"[::1]:{port}", XMS)
    report = collect([target], output_dir=tmp_path / "out", timeout=2)
    thread.join(3)
    server.close()
    endpoint = report.endpoints[0]
    assert endpoint.fetch.ok, endpoint.fetch.error
    assert all(":" not in Path(f).name for f in endpoint.files)
    assert Path(endpoint.files[0]).name.startswith(f"{XMS}_1_{port}_0_")


def test_site_endpoints(
    pki: Any, tls_server: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "version: 1\nname: loopback lab\ncatalog: xenmobile-10\n"
        "zones:\n  - name: internet\n    internet: true\n"
        "  - name: servers\n    cidrs: [127.0.0.64/26]\n"
        "firewalls:\n  - name: fw\n    zones: [internet, servers]\n"
        "hosts:\n  - name: xms1\n    role: xenmobile\n    addresses: [127.0.0.71]\n"
        f"    fqdn: {XMS}\n"
    )
    plan = load_plan(str(site))
    targets = plan_targets(plan)
    assert {(t.host, t.server_name, t.role) for t in targets} == {("127.0.0.71", XMS, "xenmobile")}
    ports = sorted(t.port for t in targets)
    assert 8443 in ports
    try:
        server = tls_server(pki.good, host="127.0.0.71", port=8443)
    except OSError as exc:
        pytest.skip(f"127.0.0.71:8443 is taken on this machine: {exc}")
    out = tmp_path / "pins"
    code, report = collect_json(cli, str(site), "--role", "xenmobile", "-o", str(out))
    by_port = {e["port"]: e for e in report["endpoints"]}
    assert sorted(by_port) == ports
    assert by_port[8443]["status"] == "ok"
    assert by_port[8443]["label"] == "xms1" and by_port[8443]["role"] == "xenmobile"
    assert codes(by_port[8443]) == set()
    assert server.handshakes >= 1
    others_ok = all(e["status"] == "ok" for e in report["endpoints"])
    assert code == (0 if others_ok else 1)


def test_default_plan_targets_cover_both_roles() -> None:
    plan = load_plan(None)
    targets = plan_targets(plan)
    roles = {t.role for t in targets}
    assert roles == {"xenmobile", "netscaler-gateway"}
    assert len(targets) == len(set(targets))
    for target in targets:
        flows = [
            f
            for f in plan.flows
            if f.tls and f.destination.role == target.role and target.port in f.ports
        ]
        assert flows, target
        hosts = [h for f in flows for h in f.destination.hosts if target.host in h.addresses]
        assert hosts and hosts[0].fqdn == target.server_name
    only_gateway = plan_targets(plan, ("netscaler-gateway",))
    assert only_gateway and {t.role for t in only_gateway} == {"netscaler-gateway"}
    with pytest.raises(UserError) as info:
        plan_targets(plan, ("no-such-role",))
    assert info.value.hint and "xenmobile" in info.value.hint


@pytest.mark.parametrize(
    "bad", ["nohostport", "host:0", "host:70000", "[::1:443", "[nothex]:443", "bad host:443"]
)
def test_bad_endpoint_arguments(cli: Callable[..., Any], bad: str) -> None:
    result = cli("certs", "collect", bad)
    assert result.code == 2
    assert "Traceback" not in result.err


def test_mixing_site_and_endpoints_is_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("version: 1\n")
    result = cli("certs", "collect", str(site), "127.0.0.1:443")
    assert result.code == 2 and "not both" in result.err
    result = cli("certs", "collect", "127.0.0.1:443", "--role", "xenmobile")
    assert result.code == 2 and "--role" in result.err


def test_output_dir_that_is_a_file(cli: Callable[..., Any], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("certs", "collect", "127.0.0.1:9", "-o", str(blocker))
    assert result.code == 2 and "not a folder" in result.err


def test_table_output(
    pki: Any, tls_server: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    server = tls_server(pki.wrong_name)
    result = cli("certs", "collect", f"127.0.0.1:{server.port}", "--sni", XMS, "--timeout", "2")
    assert result.code == 1
    assert "name-mismatch" in result.out
    assert 'pin-sha256="' in result.out
    assert "1 endpoint(s): 1 answered, 0 failed; 1 warning(s)" in result.out
    assert "\x1b[" not in result.out  # plain when not on a terminal
    french = cli(
        "certs",
        "collect",
        f"127.0.0.1:{server.port}",
        "--sni",
        XMS,
        "--timeout",
        "2",
        "--lang",
        "fr",
    )
    assert "Émetteur" in french.out


def test_record_parser_handles_fragmented_records() -> None:
    certs = [b"\x30\x03\x02\x01\x01", b"\x30\x03\x02\x01\x02"]
    body = b"".join(len(c).to_bytes(3, "big") + c for c in certs)
    message = bytes([11]) + (len(body) + 3).to_bytes(3, "big") + (len(body)).to_bytes(3, "big")
    message += body
    hello = bytes([2, 0, 0, 4]) + b"\x03\x03\x00\x00"
    stream = hello + message

    def record(kind: int, payload: bytes) -> bytes:
        return bytes([kind, 3, 3]) + len(payload).to_bytes(2, "big") + payload

    # One record per 5 bytes: messages cross record boundaries.
    records = b"".join(record(22, stream[i : i + 5]) for i in range(0, len(stream), 5))
    assert certificates_from_records(records) == certs
    # Anything after ChangeCipherSpec is encrypted and ignored.
    assert certificates_from_records(record(20, b"\x01") + records) is None
    # A truncated certificate message yields nothing rather than garbage.
    assert certificates_from_records(records[:-3]) is None


def test_parse_target() -> None:
    assert parse_target("xms.lab.test:8443") == Target("xms.lab.test", 8443, "xms.lab.test")
    assert parse_target("10.0.0.5:443") == Target("10.0.0.5", 443, None)
    assert parse_target("10.0.0.5:443", "xms.lab.test").server_name == "xms.lab.test"
    assert parse_target("[2001:db8::5]:4443") == Target("2001:db8::5", 4443, None)
    assert parse_target("[2001:db8::5]:4443").display == "[2001:db8::5]:4443"
