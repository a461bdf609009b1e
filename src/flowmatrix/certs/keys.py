"""Recognise private keys in any common encoding, without ever decoding the key itself.

Certificate pinning needs public certificates only. :func:`classify_der` tells a
private-key structure by its *shape* (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1, DSA,
PKCS#12); :mod:`flowmatrix.certs.keyscan` looks for such structures, and for the other
key containers, all through a file. Nothing of the key is decoded,
kept or shown: the answer is only *which kind* of key container the file is.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowmatrix.i18n import N_, _

# ASN.1 universal tags used here (identifier octets as they appear in DER).
_INTEGER = 0x02
_OCTET_STRING = 0x04
_OCTET_STRING_CONSTRUCTED = 0x24
_OID = 0x06
_SEQUENCE = 0x30
_CONTEXT_0 = 0xA0
_CONTEXT_1 = 0xA1

# DER-encoded OBJECT IDENTIFIER contents.
_OID_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")  # 1.2.840.113549.1.7.1
_OID_PKCS7_SIGNED = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2
_OID_KEY_BAG = bytes.fromhex("2a864886f70d010c0a0101")  # 1.2.840.113549.1.12.10.1.1
_OID_SHROUDED_KEY_BAG = bytes.fromhex("2a864886f70d010c0a0102")  # ...12.10.1.2

_MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class KeyFinding:
    """What kind of private-key container a file is, and where the evidence is."""

    kind: str
    """e.g. 'PEM block "RSA PRIVATE KEY"', 'DER PKCS#8 private key', 'PKCS#12 bundle'."""
    detail: str | None = None
    """Why a container is refused although its key is not visible (password protection)."""

    def describe(self) -> str:
        """The finding as people read it, in the current language (kind and detail are
        kept in English, marked for the catalog, and translated here)."""
        kind = _(self.kind)
        if not self.detail:
            return kind
        detail = _(self.detail)
        return f"{kind} ({detail})"


@dataclass(frozen=True, slots=True)
class _Tlv:
    tag: int
    content: bytes
    """The content octets; for an indefinite-length value, the raw bytes of its children."""
    end: int
    """Offset just after this value in the buffer it was read from."""

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)


class _BerError(ValueError):
    pass


def _read_tlv(data: bytes, offset: int = 0, depth: int = 0) -> _Tlv:
    """One BER value (DER is a subset). Indefinite lengths are accepted for PKCS#12."""
    if depth > _MAX_DEPTH:
        raise _BerError("nesting too deep")
    if offset + 2 > len(data):
        raise _BerError("truncated")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise _BerError("high tag numbers are not used by key formats")
    first = data[offset + 1]
    pos = offset + 2
    if first == 0x80:  # indefinite length: children up to an end-of-contents marker
        if not tag & 0x20:
            raise _BerError("indefinite length on a primitive value")
        start = pos
        while True:
            if data[pos : pos + 2] == b"\x00\x00":
                return _Tlv(tag, data[start:pos], pos + 2)
            pos = _read_tlv(data, pos, depth + 1).end
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise _BerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    end = pos + length
    if end > len(data):
        raise _BerError("truncated value")
    return _Tlv(tag, data[pos:end], end)


def _children(value: _Tlv, depth: int = 0) -> list[_Tlv]:
    items: list[_Tlv] = []
    pos = 0
    content = value.content
    while pos < len(content):
        item = _read_tlv(content, pos, depth + 1)
        items.append(item)
        pos = item.end
    return items


def _octets(value: _Tlv) -> bytes:
    """An OCTET STRING's bytes, joining the chunks of a constructed (BER) one."""
    if value.tag == _OCTET_STRING:
        return value.content
    if value.tag == _OCTET_STRING_CONSTRUCTED:
        return b"".join(_octets(chunk) for chunk in _children(value))
    raise _BerError("not an OCTET STRING")


def _small_int(value: _Tlv) -> int | None:
    if value.tag != _INTEGER or not 1 <= len(value.content) <= 2:
        return None
    return int.from_bytes(value.content, "big", signed=True)


def _is_algorithm_identifier(value: _Tlv) -> bool:
    if value.tag != _SEQUENCE:
        return False
    try:
        parts = _children(value)
    except _BerError:
        return False
    return bool(parts) and parts[0].tag == _OID


def _pkcs12_contents(pfx: list[_Tlv]) -> KeyFinding:
    """Look inside a PFX for key bags that are visible without the password."""
    bundle = N_("PKCS#12 bundle")
    try:
        auth_safe = _children(pfx[1])
        if auth_safe[0].content == _OID_PKCS7_SIGNED:
            return KeyFinding(bundle, N_("public-key integrity mode: contents not inspected"))
        wrapped = _children(auth_safe[1])[0]
        safes = _children(_read_tlv(_octets(wrapped)))
        hidden = False
        for content_info in safes:
            parts = _children(content_info)
            content_type = parts[0].content
            if content_type == _OID_PKCS7_DATA:
                inner = _read_tlv(_octets(_children(parts[1])[0]))
                for bag in _children(inner):
                    bag_id = _children(bag)[0].content
                    if bag_id in (_OID_KEY_BAG, _OID_SHROUDED_KEY_BAG):
                        return KeyFinding(bundle, N_("it holds a private key"))
            else:  # encryptedData (password) or envelopedData (recipient key)
                hidden = True
    except (_BerError, IndexError):
        return KeyFinding(bundle, N_("contents could not be inspected"))
    if hidden:
        return KeyFinding(bundle, N_("password-protected: it may hold a private key"))
    return KeyFinding(bundle, N_("a key container; give the certificates as PEM instead"))


def classify_der(data: bytes) -> KeyFinding | None:
    """The kind of private-key structure ``data`` starts with, or None."""
    try:
        top = _read_tlv(data)
        if top.tag != _SEQUENCE:
            return None
        parts = _children(top)
    except _BerError:
        return None
    if not parts:
        return None
    version = _small_int(parts[0])
    # PKCS#12 PFX: version 3, then a ContentInfo (data or signedData).
    if version == 3 and len(parts) >= 2 and parts[1].tag == _SEQUENCE:
        try:
            info = _children(parts[1])
        except _BerError:
            info = []
        if info and info[0].tag == _OID and info[0].content in (_OID_PKCS7_DATA, _OID_PKCS7_SIGNED):
            return _pkcs12_contents(parts)
    # PKCS#8 PrivateKeyInfo / OneAsymmetricKey: version, AlgorithmIdentifier, OCTET STRING.
    if (
        version in (0, 1)
        and len(parts) >= 3
        and _is_algorithm_identifier(parts[1])
        and parts[2].tag == _OCTET_STRING
    ):
        return KeyFinding(N_("DER PKCS#8 private key"))
    # EncryptedPrivateKeyInfo: AlgorithmIdentifier, OCTET STRING (and nothing else).
    if len(parts) == 2 and _is_algorithm_identifier(parts[0]) and parts[1].tag == _OCTET_STRING:
        return KeyFinding(N_("DER encrypted PKCS#8 private key"))
    # SEC1 ECPrivateKey: version 1, OCTET STRING, optional [0] parameters, [1] public key.
    if (
        version == 1
        and 2 <= len(parts) <= 4
        and parts[1].tag == _OCTET_STRING
        and all(p.tag in (_CONTEXT_0, _CONTEXT_1) for p in parts[2:])
    ):
        return KeyFinding(N_("DER EC private key (SEC1)"))
    if all(p.tag == _INTEGER for p in parts) and version in (0, 1):
        # PKCS#1 RSAPrivateKey: version and 8 integers (more for multi-prime keys).
        if len(parts) >= 9:
            return KeyFinding(N_("DER RSA private key (PKCS#1)"))
        # OpenSSL's DSA private key: version, p, q, g, y, x.
        if len(parts) == 6:
            return KeyFinding(N_("DER DSA private key"))
    return None


def read_der_end(data: bytes) -> int | None:
    """Where the BER/DER value that ``data`` starts with ends, or None if it is not one."""
    try:
        return _read_tlv(data).end
    except _BerError:
        return None
