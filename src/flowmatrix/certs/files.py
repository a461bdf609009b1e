"""Certificate files in, certificates out; any file holding a private key is refused.

Accepted: PEM (one or many ``CERTIFICATE`` blocks, or a ``PKCS7`` block), DER
certificates and DER PKCS#7 (``.p7b``) bundles. A PKCS#7 bundle is a set without order:
its certificates are put in issuing order, leaf first. Refused with a :class:`PrivateKeyRefused`
(exit 2): anything :func:`flowmatrix.certs.keys.find_private_key` recognises. The
refusal message names the file and the kind of key, never its content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from flowmatrix.certs.findings import issuing_order
from flowmatrix.certs.keys import KeyFinding
from flowmatrix.certs.keyscan import find_private_key
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _
from flowmatrix.inputfile import read_input_bytes

#: Larger files are not certificate files (a chain of ten certificates is ~20 KiB).
MAX_FILE_BYTES = 4 * 1024 * 1024

FileFormat = Literal["pem", "der", "pkcs7"]

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----")
_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE"}
_PKCS7_LABELS = {"PKCS7", "CERTIFICATE CHAIN"}

KEY_HINT = N_(
    "certificate pinning needs only public certificates: export the certificate without "
    "its key, e.g. 'openssl x509 -in FILE -out server.pem', or from a PKCS#12 bundle "
    "'openssl pkcs12 -in FILE -nokeys -out server.pem'"
)


class PrivateKeyRefused(UserError):
    """A file holds a private key: it is refused and never read further or copied."""

    def __init__(self, path: str, finding: KeyFinding) -> None:
        super().__init__(
            _(
                "refused: the file contains a private key ({finding}); flowmatrix "
                "never reads, copies or displays private keys"
            ).format(finding=finding.describe()),
            file=path,
            hint=_(KEY_HINT),
        )
        self.finding = finding


@dataclass(frozen=True)
class CertificateFile:
    """The certificates read from one file, in file order."""

    path: str
    format: FileFormat
    certificates: tuple[x509.Certificate, ...]
    ignored_blocks: tuple[str, ...] = ()
    """Labels of PEM blocks that are not certificates (e.g. 'CERTIFICATE REQUEST')."""


def read_limited(path: Path) -> bytes:
    """The bytes of a user's input file, with clear errors for what is not a regular file."""
    return read_input_bytes(path, what=N_("certificate file"), limit=MAX_FILE_BYTES)


def screen_for_private_key(data: bytes, shown: str) -> None:
    """Raise :class:`PrivateKeyRefused` if ``data`` holds a private key."""
    finding = find_private_key(data)
    if finding is not None:
        raise PrivateKeyRefused(shown, finding)


def parse_certificates(data: bytes, shown: str) -> CertificateFile:
    """Certificates from bytes that were already screened for private keys."""
    labels = [m.group(1).decode("ascii", "replace") for m in _PEM_LABEL.finditer(data)]
    if labels:
        return _parse_pem(data, shown, labels)
    try:
        return CertificateFile(shown, "der", (x509.load_der_x509_certificate(data),))
    except ValueError:
        pass
    try:
        certs = pkcs7.load_der_pkcs7_certificates(data)
    except ValueError:
        certs = []
    if certs:
        return CertificateFile(shown, "pkcs7", tuple(issuing_order(certs)))
    raise UserError(
        _("not a certificate: neither PEM nor a DER certificate or PKCS#7 bundle"),
        file=shown,
        hint=_("give X.509 certificates in PEM ('-----BEGIN CERTIFICATE-----') or DER form"),
    )


def _parse_pem(data: bytes, shown: str, labels: list[str]) -> CertificateFile:
    if any(label in _CERT_LABELS for label in labels):
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise UserError(
                _("a PEM certificate block is damaged: {error}").format(error=exc),
                file=shown,
                hint=_("check that each block is complete, from BEGIN to END"),
            ) from None
        ignored = tuple(label for label in labels if label not in _CERT_LABELS)
        return CertificateFile(shown, "pem", tuple(certs), ignored)
    if any(label in _PKCS7_LABELS for label in labels):
        try:
            certs = pkcs7.load_pem_pkcs7_certificates(data)
        except ValueError as exc:
            raise UserError(
                _("a PEM PKCS#7 block is damaged: {error}").format(error=exc), file=shown
            ) from None
        ignored = tuple(label for label in labels if label not in _PKCS7_LABELS)
        return CertificateFile(shown, "pkcs7", tuple(issuing_order(certs)), ignored)
    found = ", ".join(sorted(set(labels)))
    raise UserError(
        _("no certificate in this PEM file (it holds: {blocks})").format(blocks=found),
        file=shown,
        hint=_("give the server certificate ('-----BEGIN CERTIFICATE-----')"),
    )


def load_certificate_file(path: str | Path) -> CertificateFile:
    """Read one certificate file; refuse it if it holds a private key."""
    target = Path(path)
    data = read_limited(target)
    screen_for_private_key(data, str(path))
    return parse_certificates(data, str(path))


def to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
