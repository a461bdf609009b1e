"""Private keys in every common format are refused (exit 2), never echoed, never copied."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519
from cryptography.hazmat.primitives.serialization import pkcs12
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatrix.certs.check import check_files
from flowmatrix.certs.files import PrivateKeyRefused, load_certificate_file
from flowmatrix.certs.keys import classify_der
from flowmatrix.certs.keyscan import find_private_key
from flowmatrix.errors import UserError

Enc = serialization.Encoding
Fmt = serialization.PrivateFormat
NONE = serialization.NoEncryption()
PASSWORD = serialization.BestAvailableEncryption(b"correct horse")


@pytest.fixture(scope="session")
def keys() -> dict[str, Any]:
    return {
        "rsa": rsa.generate_private_key(65537, 2048),
        "ec": ec.generate_private_key(ec.SECP384R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
        "x25519": x25519.X25519PrivateKey.generate(),
        "dsa": dsa.generate_private_key(1024),
    }


@pytest.fixture(scope="session")
def corpus(
    keys: dict[str, Any], pki: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Every common private-key container, generated here, one file each."""
    folder = tmp_path_factory.mktemp("keys")
    files: dict[str, bytes] = {}
    for name, key in keys.items():
        files[f"{name}-pkcs8.pem"] = key.private_bytes(Enc.PEM, Fmt.PKCS8, NONE)
        files[f"{name}-pkcs8-encrypted.pem"] = key.private_bytes(Enc.PEM, Fmt.PKCS8, PASSWORD)
        files[f"{name}-pkcs8.der"] = key.private_bytes(Enc.DER, Fmt.PKCS8, NONE)
        files[f"{name}-pkcs8-encrypted.der"] = key.private_bytes(Enc.DER, Fmt.PKCS8, PASSWORD)
    for name in ("rsa", "ec", "dsa"):
        key = keys[name]
        files[f"{name}-traditional.pem"] = key.private_bytes(Enc.PEM, Fmt.TraditionalOpenSSL, NONE)
        files[f"{name}-traditional-encrypted.pem"] = key.private_bytes(
            Enc.PEM, Fmt.TraditionalOpenSSL, PASSWORD
        )
        files[f"{name}-traditional.der"] = key.private_bytes(Enc.DER, Fmt.TraditionalOpenSSL, NONE)
    for name in ("rsa", "ec", "ed25519"):
        files[f"{name}-openssh.pem"] = keys[name].private_bytes(Enc.PEM, Fmt.OpenSSH, NONE)
        # The binary body of an OpenSSH key file, without its PEM armour.
        armoured = files[f"{name}-openssh.pem"].decode().splitlines()[1:-1]
        files[f"{name}-openssh.bin"] = base64.b64decode("".join(armoured))

    cert = x509.load_pem_x509_certificate(pki.good.chain[0])
    chain_key = serialization.load_pem_private_key(pki.good.key, None)
    files["bundle.p12"] = pkcs12.serialize_key_and_certificates(b"xms", chain_key, cert, None, NONE)
    files["bundle-password.p12"] = pkcs12.serialize_key_and_certificates(
        b"xms", chain_key, cert, None, PASSWORD
    )
    legacy = (
        Fmt.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(b"legacy")
    )
    files["bundle-legacy.pfx"] = pkcs12.serialize_key_and_certificates(
        b"xms", chain_key, cert, None, legacy
    )
    files["certs-only-password.p12"] = pkcs12.serialize_key_and_certificates(
        None, None, None, [cert], PASSWORD
    )
    cert_pem = pki.good.chain[0]
    files["cert-and-key.pem"] = cert_pem + pki.good.key
    pkcs8 = keys["rsa"].private_bytes(Enc.DER, Fmt.PKCS8, NONE)
    body = base64.encodebytes(pkcs8)
    files["key-under-certificate-label.pem"] = (
        b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"
    )
    files["key-bare-base64.txt"] = body
    files["putty.ppk"] = (
        b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: test\n"
        b"Public-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0\nbG9vcGJhY2s=\n"
    )
    files["ssh2-commercial.key"] = (
        b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAi4AAAA3aWYtbW9kbg==\n"
        b"---- END SSH2 ENCRYPTED PRIVATE KEY ----\n"
    )
    files["pgp-secret.asc"] = (
        b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlFgEZVx0ZRYJKwYBBAHaRw8BAQdA\n"
        b"-----END PGP PRIVATE KEY BLOCK-----\n"
    )
    paths = {}
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths[name] = path
    return paths


@pytest.fixture(scope="session")
def tool_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Key files made by other tools (ssh-keygen, openssl, keytool) where installed."""
    folder = tmp_path_factory.mktemp("tool-keys")
    made: dict[str, Path] = {}
    if shutil.which("ssh-keygen"):
        target = folder / "id_ed25519_encrypted"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-pass", "-f", str(target)],
            check=True,
            timeout=30,
        )
        made["ssh-keygen-encrypted"] = target
    if shutil.which("openssl"):
        key = folder / "openssl-key.pem"
        cert = folder / "openssl-cert.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "2",
                "-subj",
                "/CN=x",
            ],
            check=True,
            timeout=30,
            capture_output=True,
        )
        p12 = folder / "openssl.p12"
        subprocess.run(
            [
                "openssl",
                "pkcs12",
                "-export",
                "-inkey",
                str(key),
                "-in",
                str(cert),
                "-out",
                str(p12),
                "-passout",
                "pass:secret",
            ],
            check=True,
            timeout=30,
            capture_output=True,
        )
        made["openssl-p12"] = p12
        made["openssl-key"] = key
    if shutil.which("keytool"):
        for store_type in ("JKS", "PKCS12"):
            store = folder / f"keystore.{store_type.lower()}"
            result = subprocess.run(
                [
                    "keytool",
                    "-genkeypair",
                    "-alias",
                    "xms",
                    "-keyalg",
                    "EC",
                    "-dname",
                    "CN=x",
                    "-keystore",
                    str(store),
                    "-storetype",
                    store_type,
                    "-storepass",
                    "changeit",
                    "-keypass",
                    "changeit",
                    "-validity",
                    "2",
                ],
                timeout=60,
                capture_output=True,
            )
            if result.returncode == 0:
                made[f"keytool-{store_type}"] = store
    return made


def _assert_refused(cli: Callable[..., Any], path: Path, out: Path) -> None:
    result = cli("certs", "check", str(path), "-o", str(out))
    assert result.code == 2, (path.name, result.out, result.err)
    assert "private key" in result.err
    assert str(path) in result.err
    # Nothing of the key is shown: no 16-byte run of its content appears in the output.
    content = path.read_bytes().decode("latin-1")
    shown = result.out + result.err
    for line in content.splitlines():
        line = line.strip()
        if len(line) >= 24 and "PRIVATE KEY" not in line and "PuTTY" not in line:
            assert line[:24] not in shown
    # And nothing is copied: the output folder is not even created.
    assert not out.exists() or not any(out.iterdir())


def test_every_generated_key_format_is_refused(
    corpus: dict[str, Path], cli: Callable[..., Any], tmp_path: Path
) -> None:
    assert len(corpus) >= 40
    for name, path in corpus.items():
        _assert_refused(cli, path, tmp_path / f"out-{name}")


def test_key_files_made_by_other_tools_are_refused(
    tool_corpus: dict[str, Path], cli: Callable[..., Any], tmp_path: Path
) -> None:
    if not tool_corpus:
        pytest.skip("none of ssh-keygen, openssl, keytool is installed")
    for name, path in tool_corpus.items():
        _assert_refused(cli, path, tmp_path / f"out-{name}")


def test_one_key_among_good_files_refuses_the_whole_run(
    corpus: dict[str, Path], pki: Any, cli: Callable[..., Any], tmp_path: Path
) -> None:
    good = tmp_path / "server.pem"
    good.write_bytes(pki.good.chain[0])
    out = tmp_path / "out"
    result = cli("certs", "check", str(good), str(corpus["ec-pkcs8.der"]), "-o", str(out))
    assert result.code == 2
    assert not out.exists()
    # The good file alone goes through and is copied as PEM.
    result = cli("certs", "check", str(good), "-o", str(out))
    assert result.code == 0, result.err
    assert len(list(out.iterdir())) == 1


def test_several_key_files_are_all_named(corpus: dict[str, Path]) -> None:
    picked = [corpus["rsa-pkcs8.pem"], corpus["bundle-password.p12"]]
    with pytest.raises(UserError) as info:
        check_files(picked)
    assert "2 files contain private keys" in info.value.message
    assert all(str(p) in info.value.message for p in picked)


def test_pkcs12_refusal_says_why(corpus: dict[str, Path]) -> None:
    with pytest.raises(PrivateKeyRefused) as info:
        load_certificate_file(corpus["bundle.p12"])
    assert "holds a private key" in info.value.message
    with pytest.raises(PrivateKeyRefused) as info:
        load_certificate_file(corpus["certs-only-password.p12"])
    assert "password-protected" in info.value.message
    with pytest.raises(PrivateKeyRefused) as info:
        load_certificate_file(corpus["bundle-password.p12"])
    assert "PKCS#12" in info.value.message


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rsa-pkcs8.der", "DER PKCS#8 private key"),
        ("ed25519-pkcs8-encrypted.der", "DER encrypted PKCS#8 private key"),
        ("rsa-traditional.der", "DER RSA private key (PKCS#1)"),
        ("ec-traditional.der", "DER EC private key (SEC1)"),
        ("dsa-traditional.der", "DER DSA private key"),
        ("bundle-legacy.pfx", "PKCS#12 bundle"),
    ],
)
def test_der_structures_are_named(corpus: dict[str, Path], name: str, kind: str) -> None:
    found = classify_der(corpus[name].read_bytes())
    assert found is not None
    assert found.kind == kind


def test_public_material_is_not_mistaken_for_a_key(keys: dict[str, Any], pki: Any) -> None:
    cert = x509.load_pem_x509_certificate(pki.good.chain[0])
    assert find_private_key(cert.public_bytes(Enc.DER)) is None
    assert find_private_key(cert.public_bytes(Enc.PEM)) is None
    for key in keys.values():
        public = key.public_key()
        spki = public.public_bytes(Enc.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert find_private_key(spki) is None
    rsa_public = keys["rsa"].public_key()
    pkcs1_public = rsa_public.public_bytes(Enc.DER, serialization.PublicFormat.PKCS1)
    assert find_private_key(pkcs1_public) is None


def test_malformed_ber_does_not_crash() -> None:
    samples = [
        b"",
        b"\x30",
        b"\x30\x80",
        b"\x30\x84\xff\xff\xff\xff",
        b"\x30\x80" * 40,
        b"\x30\x03\x02\x01",
        bytes(range(256)),
    ]
    for sample in samples:
        assert find_private_key(sample) is None


def test_raw_key_bytes_are_never_accepted(
    keys: dict[str, Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    raw = keys["ed25519"].private_bytes(Enc.Raw, Fmt.Raw, NONE)
    path = tmp_path / "raw.key"
    path.write_bytes(raw)
    out = tmp_path / "out"
    result = cli("certs", "check", str(path), "-o", str(out))
    assert result.code == 2
    assert "not a certificate" in result.err
    assert not out.exists()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_screening_never_crashes_on_arbitrary_bytes(data: bytes) -> None:
    found = find_private_key(data)
    assert found is None or found.describe()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=40))
def test_screening_survives_truncated_keys(prefix: bytes, cut: int) -> None:
    key = ec.derive_private_key(12345, ec.SECP256R1())
    der = key.private_bytes(Enc.DER, Fmt.PKCS8, NONE)
    # A whole key is always found; damaged ones must never raise.
    assert find_private_key(der) is not None
    find_private_key(prefix + der[: len(der) - cut])
