"""What a certificate says: names, validity, key, fingerprints and the SPKI pin.

Everything here works on public certificates only (``cryptography.x509.Certificate``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID


@dataclass(frozen=True, slots=True)
class CertDetails:
    """The facts about one certificate that an administrator checks before pinning it."""

    position: int
    """Place in the chain or file: 0 is the first certificate (the leaf of a TLS chain)."""
    subject: str
    """Subject distinguished name, RFC 4514 string."""
    issuer: str
    """Issuer distinguished name, RFC 4514 string."""
    common_name: str | None
    """The subject's CN, if any (clients match names against the SANs, not the CN)."""
    dns_names: tuple[str, ...]
    """subjectAltName DNS entries."""
    ip_addresses: tuple[str, ...]
    """subjectAltName IP address entries."""
    has_san: bool
    """Whether the certificate carries a subjectAltName extension at all."""
    not_before: dt.datetime
    """Start of validity (UTC)."""
    not_after: dt.datetime
    """End of validity (UTC)."""
    key_type: str
    """RSA, EC, Ed25519, Ed448, DSA, X25519, X448, or 'unknown'."""
    key_size: int | None
    """Key size in bits (for EC: the curve's size)."""
    curve: str | None
    """Named curve of an EC key (e.g. secp256r1)."""
    serial: str
    """Serial number, hexadecimal."""
    signature_algorithm: str
    """Signature algorithm of the issuer over this certificate (e.g. sha256WithRSAEncryption)."""
    sha256: str
    """SHA-256 fingerprint of the DER certificate, colon-separated uppercase hex."""
    spki_sha256: str
    """Base64 SHA-256 of the DER SubjectPublicKeyInfo: the HPKP-style ``pin-sha256`` value."""
    self_signed: bool
    """Issuer equals subject and the certificate's own key verifies its signature."""
    is_ca: bool
    """basicConstraints CA flag."""

    @property
    def short_fingerprint(self) -> str:
        """First 8 hex digits of the SHA-256 fingerprint (lowercase): for file names."""
        return self.sha256.replace(":", "")[:8].lower()

    def days_left(self, now: dt.datetime) -> int:
        """Whole days from ``now`` until expiry (negative once expired)."""
        return (self.not_after - now) // dt.timedelta(days=1)

    def names(self) -> tuple[str, ...]:
        """All SAN names, DNS first, then IP addresses."""
        return (*self.dns_names, *self.ip_addresses)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sha256_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper()


def colon_hex(hex_digits: str) -> str:
    return ":".join(hex_digits[i : i + 2] for i in range(0, len(hex_digits), 2))


def spki_pin(cert: x509.Certificate) -> str:
    """The HPKP ``pin-sha256`` of a certificate's public key (base64 of SHA-256 of the SPKI)."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def _key_facts(cert: x509.Certificate) -> tuple[str, int | None, str | None]:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "unknown", None, None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    if isinstance(key, x25519.X25519PublicKey):
        return "X25519", 256, None
    if isinstance(key, x448.X448PublicKey):
        return "X448", 448, None
    return "unknown", None, None


def _san(cert: x509.Certificate) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return False, (), ()
    except ValueError:  # a malformed extension: treat as absent rather than crash
        return False, (), ()
    san = ext.value
    assert isinstance(san, x509.SubjectAlternativeName)
    dns = tuple(san.get_values_for_type(x509.DNSName))
    ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return True, dns, ips


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    except (x509.ExtensionNotFound, ValueError):
        return False
    value = ext.value
    return isinstance(value, x509.BasicConstraints) and value.ca


def _common_name(cert: x509.Certificate) -> str | None:
    try:
        values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return None
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _name_text(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:
        return "<unreadable name>"


def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """True when ``parent``'s subject is ``child``'s issuer and its key verifies the signature."""
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)


#: Readable names of the signature algorithms cryptography knows ("rsa-with-sha256").
_SIGNATURE_NAMES = {
    value: name.lower().replace("_", "-")
    for name, value in vars(SignatureAlgorithmOID).items()
    if isinstance(value, x509.ObjectIdentifier) and not name.startswith("_")
}


def _signature_algorithm(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return _SIGNATURE_NAMES.get(oid, oid.dotted_string)


def describe(cert: x509.Certificate, position: int = 0) -> CertDetails:
    """The details of ``cert``, as shown by ``certs collect`` and ``certs check``."""
    der = cert.public_bytes(serialization.Encoding.DER)
    has_san, dns, ips = _san(cert)
    key_type, key_size, curve = _key_facts(cert)
    try:
        pin = spki_pin(cert)
    except (ValueError, UnsupportedAlgorithm):
        pin = ""
    return CertDetails(
        position=position,
        subject=_name_text(cert.subject),
        issuer=_name_text(cert.issuer),
        common_name=_common_name(cert),
        dns_names=dns,
        ip_addresses=ips,
        has_san=has_san,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_size=key_size,
        curve=curve,
        serial=format(cert.serial_number, "X"),
        signature_algorithm=_signature_algorithm(cert),
        sha256=colon_hex(sha256_fingerprint(der)),
        spki_sha256=pin,
        self_signed=is_self_signed(cert),
        is_ca=_is_ca(cert),
    )


def _normalise_dns(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _wildcard_match(pattern: str, host: str) -> bool:
    """RFC 6125 matching: a '*' only as the whole left-most label, covering exactly one label."""
    pattern = _normalise_dns(pattern)
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[2:]
    # '*.com' style patterns (fewer than two labels after the wildcard) never match.
    if "*" in suffix or suffix.count(".") < 1:
        return False
    head, sep, rest = host.partition(".")
    return bool(sep) and bool(head) and rest == suffix


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def name_matches(details: CertDetails, name: str) -> bool:
    """Does the certificate cover ``name`` (a DNS name or an IP address) by its SANs?

    Matching follows RFC 6125 as modern clients do: the subject CN is not consulted
    (iOS 13+, Android and current browsers ignore it).
    """
    ip = parse_ip(name)
    if ip is not None:
        return any(parse_ip(item) == ip for item in details.ip_addresses)
    host = _normalise_dns(name)
    return any(_wildcard_match(pattern, host) for pattern in details.dns_names)
