"""A key beside certificates is refused, in every encoding and every place in the file.

Each case is a real certificate file (PEM, or DER) with a real private key, generated here
with ``cryptography``, written after, before or between the certificates as PEM, bare
base64, raw DER, hex, PVK, PRIVATEKEYBLOB, an OpenSSH body, OpenPGP or UTF-16/32 PEM.
``certs check`` must exit 2 naming a private key, copy nothing, and show nothing of the key.
"""

from __future__ import annotations

import base64
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from flowmatrix.certs.keyscan import find_private_key

Enc = serialization.Encoding
Fmt = serialization.PrivateFormat
NONE = serialization.NoEncryption()

Encoder = Callable[[Any], bytes]


def _le(number: int, size: int) -> bytes:
    return number.to_bytes(size, "little")


def msblob(key: rsa.RSAPrivateKey) -> bytes:
    """A Microsoft PRIVATEKEYBLOB (the layout ``openssl rsa -outform MSBLOB`` writes)."""
    numbers = key.private_numbers()
    bits = key.key_size
    half = bits // 16
    header = b"\x07\x02\x00\x00" + _le(0xA400, 4) + b"RSA2" + _le(bits, 4)
    header += _le(numbers.public_numbers.e, 4)
    parts = [
        _le(numbers.public_numbers.n, bits // 8),
        _le(numbers.p, half),
        _le(numbers.q, half),
        _le(numbers.dmp1, half),
        _le(numbers.dmq1, half),
        _le(numbers.iqmp, half),
        _le(numbers.d, bits // 8),
    ]
    return header + b"".join(parts)


def pvk(key: rsa.RSAPrivateKey) -> bytes:
    """A Microsoft PVK file, unencrypted (``openssl rsa -outform PVK -pvk-none``)."""
    blob = msblob(key)
    return struct.pack("<IIIIII", 0xB0B5F11E, 0, 1, 0, 0, len(blob)) + blob


def _mpi(number: int) -> bytes:
    return struct.pack(">H", number.bit_length()) + number.to_bytes(
        (number.bit_length() + 7) // 8, "big"
    )


def pgp_secret_packet(key: Any) -> bytes:
    """An OpenPGP v4 secret-key packet (RFC 9580), unprotected."""
    created = struct.pack(">I", int(time.time()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        public = key.public_key().public_bytes(Enc.Raw, serialization.PublicFormat.Raw)
        secret = key.private_bytes(Enc.Raw, Fmt.Raw, NONE)
        body = b"\x04" + created + bytes([27]) + public + b"\x00" + secret
        body += struct.pack(">H", sum(secret) % 65536)
        return bytes([0xC5, len(body)]) + body  # new header form, one-octet length
    numbers = key.private_numbers()
    secret = _mpi(numbers.d) + _mpi(numbers.p) + _mpi(numbers.q) + _mpi(numbers.iqmp)
    public = _mpi(numbers.public_numbers.n) + _mpi(numbers.public_numbers.e)
    body = b"\x04" + created + bytes([1]) + public + b"\x00" + secret
    body += struct.pack(">H", sum(secret) % 65536)
    return bytes([0x95]) + struct.pack(">H", len(body)) + body  # old form, two octets


def _armour(label: str, der: bytes) -> bytes:
    return (
        f"-----BEGIN {label}-----\n".encode()
        + base64.encodebytes(der)
        + (f"-----END {label}-----\n".encode())
    )


def _hex_colons(der: bytes) -> bytes:
    pairs = [f"{b:02x}" for b in der]
    lines = [":".join(pairs[i : i + 15]) for i in range(0, len(pairs), 15)]
    return ("\n".join("    " + line for line in lines) + "\n").encode()


def _pem(key: Any) -> bytes:
    return key.private_bytes(Enc.PEM, Fmt.PKCS8, NONE)


def _openssh_body(key: Any) -> bytes:
    armoured = key.private_bytes(Enc.PEM, Fmt.OpenSSH, NONE).decode().splitlines()[1:-1]
    return base64.b64decode("".join(armoured))


ENCODINGS: dict[str, tuple[tuple[str, ...], Encoder]] = {
    "pem-pkcs8": (("rsa", "ec", "ed25519"), _pem),
    "pem-traditional": (
        ("rsa", "ec"),
        lambda k: k.private_bytes(Enc.PEM, Fmt.TraditionalOpenSSL, NONE),
    ),
    "pem-openssh": (("rsa", "ed25519"), lambda k: k.private_bytes(Enc.PEM, Fmt.OpenSSH, NONE)),
    "base64-pkcs8": (
        ("rsa", "ec", "ed25519"),
        lambda k: base64.encodebytes(k.private_bytes(Enc.DER, Fmt.PKCS8, NONE)),
    ),
    "base64-pkcs8-one-line": (
        ("rsa", "ec"),
        lambda k: base64.b64encode(k.private_bytes(Enc.DER, Fmt.PKCS8, NONE)) + b"\n",
    ),
    "base64-pkcs1": (
        ("rsa",),
        lambda k: base64.encodebytes(k.private_bytes(Enc.DER, Fmt.TraditionalOpenSSL, NONE)),
    ),
    "der-pkcs8": (("rsa", "ec", "ed25519"), lambda k: k.private_bytes(Enc.DER, Fmt.PKCS8, NONE)),
    "der-traditional": (
        ("rsa", "ec"),
        lambda k: k.private_bytes(Enc.DER, Fmt.TraditionalOpenSSL, NONE),
    ),
    "hex-pkcs8": (
        ("rsa", "ec", "ed25519"),
        lambda k: k.private_bytes(Enc.DER, Fmt.PKCS8, NONE).hex().encode() + b"\n",
    ),
    "hex-colons-pkcs1": (
        ("rsa", "ec"),
        lambda k: _hex_colons(k.private_bytes(Enc.DER, Fmt.TraditionalOpenSSL, NONE)),
    ),
    "pvk": (("rsa",), pvk),
    "msblob": (("rsa",), msblob),
    "msblob-base64": (("rsa",), lambda k: base64.encodebytes(msblob(k))),
    "openssh-body": (("rsa", "ed25519"), _openssh_body),
    "openssh-body-base64": (("ed25519",), lambda k: base64.encodebytes(_openssh_body(k))),
    "pgp-armoured": (
        ("rsa", "ed25519"),
        lambda k: _armour("PGP PRIVATE KEY BLOCK", pgp_secret_packet(k)),
    ),
    "pgp-binary": (("rsa", "ed25519"), pgp_secret_packet),
    "pgp-base64": (("ed25519",), lambda k: base64.encodebytes(pgp_secret_packet(k))),
    "pgp-under-other-label": (
        ("ed25519",),
        lambda k: _armour("PGP MESSAGE", pgp_secret_packet(k)),
    ),
    "der-after-der-under-other-label": (
        ("rsa", "ec"),
        lambda k: _armour(
            "CERTIFICATE REQUEST",
            b"\x30\x03\x02\x01\x00" + k.private_bytes(Enc.DER, Fmt.PKCS8, NONE),
        ),
    ),
    "msblob-under-other-label": (("rsa",), lambda k: _armour("X509 CRL", msblob(k))),
    "hex-under-other-label": (
        ("ec",),
        lambda k: (
            b"-----BEGIN DATA-----\n"
            + _hex_colons(k.private_bytes(Enc.DER, Fmt.PKCS8, NONE))
            + b"-----END DATA-----\n"
        ),
    ),
    "utf16le-pem": (("rsa", "ec"), lambda k: "\ufeff".encode("utf-16-le") + _utf(k, "utf-16-le")),
    "utf16be-pem": (("ec",), lambda k: _utf(k, "utf-16-be")),
    "utf32-pem": (("ed25519",), lambda k: _utf(k, "utf-32-le")),
}


def _utf(key: Any, codec: str) -> bytes:
    return _pem(key).decode().encode(codec)


POSITIONS = ("after", "before", "between")
CASES = [
    pytest.param(encoding, key_name, position, id=f"{encoding}-{key_name}-{position}")
    for encoding, (key_names, _) in ENCODINGS.items()
    for key_name in key_names
    for position in POSITIONS
]


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {
        "rsa": rsa.generate_private_key(65537, 2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
    }


def _place(chain: list[bytes], key_part: bytes, position: str) -> bytes:
    if position == "after":
        return chain[0] + key_part
    if position == "before":
        return key_part + chain[0]
    return chain[0] + key_part + chain[1]


def _telltales(key: Any) -> list[str]:
    """Pieces of the key's own bytes, in the textual forms they could leak in."""
    der = key.private_bytes(Enc.DER, Fmt.PKCS8, NONE)
    b64 = base64.b64encode(der).decode()
    hexed = der.hex()
    middle = len(der) // 2
    return [b64[40:64], b64[-40:-16], hexed[middle : middle + 24], hexed[-40:-16]]


@pytest.mark.parametrize(("encoding", "key_name", "position"), CASES)
def test_a_key_anywhere_in_a_pem_file_is_refused(
    encoding: str,
    key_name: str,
    position: str,
    keys: dict[str, Any],
    pki: Any,
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    key = keys[key_name]
    path = tmp_path / "server.pem"
    path.write_bytes(_place(pki.good.chain, ENCODINGS[encoding][1](key), position))
    out = tmp_path / "pinned"
    result = cli("certs", "check", str(path), "-o", str(out))
    assert result.code == 2, (result.out, result.err)
    assert "private key" in result.err
    assert str(path) in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not out.exists()
    shown = result.out + result.err
    for piece in _telltales(key):
        assert piece not in shown


@pytest.mark.parametrize(
    "encoding", ["der-pkcs8", "der-traditional", "pvk", "msblob", "openssh-body", "pgp-binary"]
)
def test_a_key_after_a_der_certificate_is_refused(
    encoding: str, keys: dict[str, Any], pki: Any, cli: Callable[..., Any], tmp_path: Path
) -> None:
    cert = x509.load_pem_x509_certificate(pki.good.chain[0]).public_bytes(Enc.DER)
    path = tmp_path / "server.der"
    path.write_bytes(cert + ENCODINGS[encoding][1](keys["rsa"]))
    result = cli("certs", "check", str(path), "-o", str(tmp_path / "pinned"))
    assert result.code == 2, result.err
    assert "private key" in result.err
    assert not (tmp_path / "pinned").exists()


def test_certificate_files_with_text_around_them_still_pass(
    pki: Any, cli: Callable[..., Any], tmp_path: Path
) -> None:
    """What openssl writes beside certificates (attributes, a text dump, hex) is not a key."""
    leaf = x509.load_pem_x509_certificate(pki.good.chain[0])
    der = leaf.public_bytes(Enc.DER)
    public = leaf.public_key().public_bytes(
        Enc.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = (
        b"Bag Attributes\n    localKeyID: 01 00 00 00\n    friendlyName: xms\n"
        + f"subject={leaf.subject.rfc4514_string()}\n".encode()
        + "Kommentar: Zertifikat f\u00fcr M\u00fcnchen\n".encode()
        + b"Certificate:\n    Signature Value:\n"
        + _hex_colons(leaf.signature)
        + b"    Whole certificate as hex:\n"
        + der.hex().encode()
        + b"\n"
        + base64.encodebytes(der)
    )
    path = tmp_path / "annotated.pem"
    path.write_bytes(text + pki.good.chain[0] + public + pki.good.chain[1])
    out = tmp_path / "pinned"
    result = cli("certs", "check", str(path), "-o", str(out))
    assert result.code in (0, 1), result.err
    assert len(list(out.iterdir())) == 2


def test_many_certificates_are_never_taken_for_keys(tmp_path: Path) -> None:
    import trustme

    for number in range(40):
        key_type = (trustme.KeyType.RSA, trustme.KeyType.ECDSA)[number % 2]
        ca = trustme.CA(key_type=key_type)
        issued = ca.issue_cert(f"host{number}.lab.test", key_type=key_type)
        pem = issued.cert_chain_pems[0].bytes() + ca.cert_pem.bytes()
        der = x509.load_pem_x509_certificate(pem).public_bytes(Enc.DER)
        assert find_private_key(pem) is None
        assert find_private_key(der) is None
        assert find_private_key(der.hex().encode() + b"\n" + pem) is None
        assert find_private_key(base64.encodebytes(der + der) + pem) is None


def test_random_data_is_not_taken_for_a_key(pki: Any) -> None:
    """Encoded noise beside a certificate is no key: the scanner looks for structure."""
    import random

    noise = random.Random(18).randbytes(192 * 1024)
    assert find_private_key(pki.good.chain[0] + base64.encodebytes(noise)) is None
    assert find_private_key(pki.good.chain[0] + noise.hex().encode()) is None
    # Binary bytes beside PEM text are refused all the same: a PEM file is text.
    found = find_private_key(pki.good.chain[0] + noise)
    assert found is not None
    assert "binary data" in found.kind
