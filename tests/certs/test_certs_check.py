"""``certs check``: what certificate files hold, in PEM, DER and PKCS#7 form."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from flowmatrix.certs.findings import FINDING_CODES, certificate_findings
from flowmatrix.x509facts import describe, name_matches

XMS = "xms.lab.test"
CERT_KEYS = {
    "position",
    "subject",
    "issuer",
    "common_name",
    "dns_names",
    "ip_addresses",
    "not_before",
    "not_after",
    "days_left",
    "key_type",
    "key_size",
    "curve",
    "serial",
    "signature_algorithm",
    "sha256",
    "spki_sha256",
    "self_signed",
    "is_ca",
    "file",
}


def check_json(cli: Callable[..., Any], *args: str) -> tuple[int, dict[str, Any], str]:
    result = cli("certs", "check", *args, "--format", "json")
    return result.code, (json.loads(result.out) if result.out else {}), result.err


def test_pem_chain_file(pki: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    chain = tmp_path / "fullchain.pem"
    chain.write_bytes(b"".join(pki.good.chain))
    code, report, _ = check_json(cli, str(chain), "--name", XMS)
    assert code == 0
    assert set(report) == {
        "format", "checked_at", "warn_days", "name", "output_dir", "files", "summary",
    }  # fmt: skip
    assert report["format"] == "flowmatrix-certs-check/1"
    (item,) = report["files"]
    assert item["format"] == "pem"
    assert [set(c) for c in item["certificates"]] == [CERT_KEYS, CERT_KEYS]
    assert [f["code"] for f in item["findings"]] == ["chain-end"]
    assert report["summary"] == {
        "files": 1,
        "certificates": 2,
        "warnings": 0,
        "files_written": 0,
    }


def test_der_file_is_read_and_written_back_as_pem(
    pki: Any, cli: Callable[..., Any], tmp_path: Path
) -> None:
    der = tmp_path / "server.cer"
    der.write_bytes(pki.good.leaf.public_bytes(serialization.Encoding.DER))
    out = tmp_path / "for-support"
    code, report, _ = check_json(cli, str(der), "-o", str(out))
    assert code == 0
    (item,) = report["files"]
    assert item["format"] == "der"
    (written,) = list(out.iterdir())
    assert written.read_bytes() == pki.good.chain[0]
    assert written.name.startswith("server_0_")
    assert item["certificates"][0]["file"] == str(written)


def test_pkcs7_bundle(pki: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    certs = [x509.load_pem_x509_certificate(pem) for pem in pki.good.chain]
    p7b = tmp_path / "chain.p7b"
    p7b.write_bytes(pkcs7.serialize_certificates(certs, serialization.Encoding.DER))
    code, report, _ = check_json(cli, str(p7b))
    assert code == 0
    assert report["files"][0]["format"] == "pkcs7"
    assert len(report["files"][0]["certificates"]) == 2


def test_findings_on_files(pki: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    expired = tmp_path / "expired.pem"
    expired.write_bytes(pki.expired.chain[0])
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(pki.wrong_name.chain[0])
    selfsigned = tmp_path / "self.pem"
    selfsigned.write_bytes(pki.self_signed.chain[0])
    code, report, _ = check_json(cli, str(expired), str(wrong), str(selfsigned), "--name", XMS)
    assert code == 1
    found = {
        Path(f["path"]).name: {x["code"] for x in f["findings"] if x["severity"] == "warning"}
        for f in report["files"]
    }
    assert found == {
        "expired.pem": {"expired"},
        "wrong.pem": {"name-mismatch"},
        "self.pem": {"self-signed"},
    }
    for item in report["files"]:
        for finding in item["findings"]:
            assert finding["code"] in FINDING_CODES


def test_out_of_order_chain_file(pki: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    grand = pki.intermediate.create_child_ca()
    leaf = grand.issue_cert(XMS)
    leaf_pem, grand_pem, inter_pem = (b.bytes() for b in leaf.cert_chain_pems)
    shuffled = tmp_path / "shuffled.pem"
    shuffled.write_bytes(leaf_pem + inter_pem + grand_pem)
    code, report, _ = check_json(cli, str(shuffled))
    assert code == 1
    codes = [f["code"] for f in report["files"][0]["findings"]]
    assert "chain-order" in codes
    ordered = tmp_path / "ordered.pem"
    ordered.write_bytes(leaf_pem + grand_pem + inter_pem)
    code, report, _ = check_json(cli, str(ordered))
    assert code == 0, report


def test_weak_rsa_key(tmp_path: Path, cli: Callable[..., Any]) -> None:
    ca_key = rsa.generate_private_key(65537, 2048)
    key = rsa.generate_private_key(65537, 1024)
    now = dt.datetime.now(dt.UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, XMS)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .sign(ca_key, hashes.SHA256())
    )
    path = tmp_path / "old.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    code, report, _ = check_json(cli, str(path), "--name", XMS)
    assert code == 1
    item = report["files"][0]
    assert {f["code"] for f in item["findings"]} == {"weak-key", "name-mismatch"}
    cert_info = item["certificates"][0]
    assert (cert_info["key_type"], cert_info["key_size"]) == ("RSA", 1024)
    assert cert_info["signature_algorithm"] == "rsa-with-sha256"
    # Only a CN, no subjectAltName: clients ignore the CN, and so does the name check.
    assert cert_info["common_name"] == XMS and cert_info["dns_names"] == []


def test_weak_signature_rule(pki: Any) -> None:
    details = describe(pki.good.leaf)
    now = dt.datetime.now(dt.UTC)
    assert certificate_findings(details, now=now) == []
    sha1 = replace(details, signature_algorithm="rsa-with-sha1")
    assert [f.code for f in certificate_findings(sha1, now=now)] == ["weak-signature"]
    # A root's own signature is never checked by clients: not a finding.
    root = replace(sha1, self_signed=True)
    assert certificate_findings(root, now=now) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a certificate"),
        (b"hello world\n", "not a certificate"),
        (
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            "no certificate",
        ),
        (
            b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
            "damaged",
        ),
    ],
)
def test_bad_files_are_user_errors(
    cli: Callable[..., Any], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "input.pem"
    path.write_bytes(content)
    result = cli("certs", "check", str(path))
    assert result.code == 2
    assert message in result.err
    assert str(path) in result.err
    assert "Traceback" not in result.err


def test_missing_file_and_folder(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("certs", "check", str(tmp_path / "absent.pem"))
    assert result.code == 2 and "no such file" in result.err
    result = cli("certs", "check", str(tmp_path))
    assert result.code == 2 and "folder" in result.err


def test_table_output(pki: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "server.pem"
    path.write_bytes(pki.expiring.chain[0])
    result = cli("certs", "check", str(path))
    assert result.code == 1
    assert "expiring" in result.out
    assert "days left" in result.out
    assert "1 file(s), 1 certificate(s); 1 warning(s)" in result.out


def test_name_matching_rules(pki: Any) -> None:
    wildcard = pki.intermediate.issue_cert("*.lab.test", "10.0.0.5", "2001:db8::5")
    details = describe(x509.load_pem_x509_certificate(wildcard.cert_chain_pems[0].bytes()))
    assert name_matches(details, "xms.lab.test")
    assert name_matches(details, "XMS.Lab.Test.")
    assert not name_matches(details, "lab.test")
    assert not name_matches(details, "a.b.lab.test")
    assert name_matches(details, "10.0.0.5")
    assert name_matches(details, "2001:db8:0::5")
    assert not name_matches(details, "10.0.0.6")
    for pattern in ("*.test", "x*.lab.test", "*.*.test", "xms.*.test"):
        assert not name_matches(replace(details, dns_names=(pattern,)), "xms.lab.test"), pattern
