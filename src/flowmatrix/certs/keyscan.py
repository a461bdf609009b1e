"""Scan a whole certificate file for private keys, wherever and however they are written.

A certificate file may carry a key after, before or between its certificates, and not
only as a PEM block: as bare base64, hex, raw DER, a Microsoft PVK or PRIVATEKEYBLOB,
the body of an OpenSSH key, an OpenPGP secret-key packet, or PEM text in UTF-16.
:func:`find_private_key` looks at every part of the file that is not a certificate:

* the whole file and each PEM block, by structure (:mod:`flowmatrix.certs.keys`);
* the text outside the PEM blocks: runs of base64 and of hex are decoded and scanned
  again (a few levels deep), and binary bytes there are refused outright, since a PEM
  certificate file is text;
* each DER value of a binary file or decoded blob in turn (a key after a DER
  certificate), and the magic numbers of key containers at any offset;
* UTF-16 and UTF-32 text, by scanning every byte lane of the file as text.

Nothing of the key is decoded beyond its container's shape, kept or shown: the answer is
only *which kind* of key container was found.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from flowmatrix.certs.keys import KeyFinding, classify_der, read_der_end
from flowmatrix.i18n import N_

_PEM_PRIVATE = re.compile(
    rb"-{4,5}\s*BEGIN ([A-Z0-9 ]*PRIVATE KEY[A-Z ]*?)\s*-{4,5}", re.IGNORECASE
)
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.DOTALL)
_PEM_HEADER_LINE = re.compile(rb"^[A-Za-z-]+:")
_ARMOR_CHECKSUM = re.compile(rb"^=[A-Za-z0-9+/]{4}$")
_OPENSSH_MAGIC = b"openssh-key-v1\x00"
_PUTTY_MAGIC = re.compile(rb"PuTTY-User-Key-File-\d+:", re.IGNORECASE)
_JAVA_KEYSTORE_MAGICS = {
    b"\xfe\xed\xfe\xed": N_("Java key store (JKS)"),
    b"\xce\xce\xce\xce": N_("Java key store (JCEKS)"),
}
_PVK_MAGIC = b"\x1e\xf1\xb5\xb0\x00\x00\x00\x00"
# BLOBHEADER of a PRIVATEKEYBLOB (type 7, version 2), any algorithm, then the
# RSAPUBKEY / DSSPUBKEY magic of a private key.
_MSBLOB = re.compile(rb"\x07\x02\x00\x00....(?:RSA2|DSS2)", re.DOTALL)
_MIN_ENCODED = 32
"""Shorter base64 or hex holds no key container (an Ed25519 PKCS#8 key is 48 bytes)."""
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_BASE64_WORD = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}")
_HEX_RUN = re.compile(rb"[0-9A-Fa-f][0-9A-Fa-f \t\r\n:,-]{31,}")
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_BINARY_BYTE = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
# OpenPGP secret-key (tag 5) and secret-subkey (tag 7) packets, old and new header form.
_PGP_SECRET_TAGS = frozenset({0x94, 0x95, 0x96, 0x97, 0x9C, 0x9D, 0x9E, 0x9F, 0xC5, 0xC7})

_MAX_DEPTH = 3
"""How many encodings deep a key is looked for (e.g. hex of base64 of DER)."""
_MAX_DER_VALUES = 64
"""Consecutive DER values looked at in one blob (a chain has a handful)."""


def find_private_key(data: bytes) -> KeyFinding | None:
    """Why ``data`` must be refused as holding a private key, or None if it holds none."""
    return _scan_file(data, depth=0)


def _scan_file(data: bytes, depth: int) -> KeyFinding | None:
    found = _scan_text_markers(data)
    if found is not None:
        return found
    blocks = list(_PEM_BLOCK.finditer(data))
    for match in blocks:
        found = _scan_pem_block(match, depth)
        if found is not None:
            return found
    if blocks:
        outside = _outside_blocks(data, blocks)
        found = _scan_text(outside, depth)
        if found is not None:
            return found
        if _BINARY_BYTE.search(outside):
            return KeyFinding(
                N_("binary data outside the PEM blocks"),
                N_("it may be a private key; a PEM certificate file holds only text"),
            )
    else:
        text = not _BINARY_BYTE.search(data)
        found = _scan_text(data, depth) if text else _scan_blob(data, depth)
        if found is not None:
            return found
    return _scan_byte_lanes(data, depth)


def _scan_text_markers(data: bytes) -> KeyFinding | None:
    match = _PEM_PRIVATE.search(data)
    if match is not None:
        label = " ".join(match.group(1).decode("ascii", "replace").upper().split())
        return KeyFinding(f'PEM block "{label}"')
    if _PUTTY_MAGIC.search(data):
        return KeyFinding(N_("PuTTY private key file"))
    return None


def _scan_pem_block(match: re.Match[bytes], depth: int) -> KeyFinding | None:
    """A key hidden under another PEM label (e.g. "CERTIFICATE") is still a key."""
    label = match.group(1).decode("ascii", "replace")
    lines = [ln.strip() for ln in match.group(2).splitlines()]
    body = b"".join(
        ln
        for ln in lines
        if ln and not _PEM_HEADER_LINE.match(ln) and not _ARMOR_CHECKSUM.match(ln)
    )
    if len(body) < _MIN_ENCODED:
        return None
    try:
        found = _scan_blob(base64.b64decode(body, validate=True), depth + 1)
    except (binascii.Error, ValueError):
        found = _scan_text(match.group(2), depth)
    if found is not None:
        return KeyFinding(f'{found.kind} inside PEM block "{label}"', found.detail)
    return None


def _outside_blocks(data: bytes, blocks: list[re.Match[bytes]]) -> bytes:
    parts: list[bytes] = []
    position = 0
    for match in blocks:
        parts.append(data[position : match.start()])
        position = match.end()
    parts.append(data[position:])
    return b"\n".join(parts)


def _classify_start(blob: bytes) -> KeyFinding | None:
    """The key container ``blob`` starts with, or None."""
    if blob.startswith(_OPENSSH_MAGIC):
        return KeyFinding(N_("OpenSSH private key (binary)"))
    for magic, kind in _JAVA_KEYSTORE_MAGICS.items():
        if blob.startswith(magic):
            return KeyFinding(kind, N_("a key store may hold private keys"))
    if _is_pgp_secret_packet(blob, 0):
        return KeyFinding(N_("OpenPGP secret key packet"))
    return classify_der(blob)


def _scan_blob(blob: bytes, depth: int) -> KeyFinding | None:
    """Key containers in binary bytes: each DER value in turn, and magic numbers anywhere."""
    if _OPENSSH_MAGIC in blob:
        return KeyFinding(N_("OpenSSH private key (binary)"))
    if _PVK_MAGIC in blob:
        return KeyFinding(N_("Microsoft PVK private key"))
    if _MSBLOB.search(blob):
        return KeyFinding("Microsoft PRIVATEKEYBLOB")
    position = 0
    for _ in range(_MAX_DER_VALUES):
        rest = blob[position:]
        found = _classify_start(rest)
        if found is not None:
            return found
        end = read_der_end(rest)
        if end is None:
            break
        position += end
    rest = blob[position:]
    if rest and depth < _MAX_DEPTH and not _BINARY_BYTE.search(rest):
        return _scan_text(rest, depth)
    return None


def _scan_text(text: bytes, depth: int) -> KeyFinding | None:
    """Decode the base64 and hex runs of ``text`` and scan what they hold."""
    if depth >= _MAX_DEPTH:
        return None
    found = _scan_text_markers(text)
    if found is not None:
        return found
    for decoded, encoding in _decoded_runs(text):
        found = _scan_blob(decoded, depth + 1)
        if found is not None:
            return KeyFinding(f"{encoding} {found.kind}", found.detail)
    return None


def _decoded_runs(text: bytes) -> Iterator[tuple[bytes, str]]:
    """Bytes that runs of base64 lines, long base64 words and hex digits stand for."""
    lines = [line.strip() for line in text.splitlines()]
    run: list[bytes] = []
    for line in [*lines, b""]:
        if line and _BASE64_LINE.fullmatch(line):
            run.append(line)
            continue
        # A word before the run (e.g. a heading) would shift the decoding: try without.
        for skip in range(min(len(run), 3)):
            decoded = _base64_or_none(b"".join(run[skip:]))
            if decoded is not None:
                yield decoded, "base64"
        run = []
    for word in _BASE64_WORD.findall(text):
        decoded = _base64_or_none(word)
        if decoded is not None:
            yield decoded, "base64"
    for match in _HEX_RUN.finditer(text):
        digits = _NOT_HEX.sub(b"", match.group(0))
        for start in (0, 1):
            usable = digits[start:]
            yield binascii.unhexlify(usable[: len(usable) - len(usable) % 2]), "hex"


def _base64_or_none(body: bytes) -> bytes | None:
    if len(body) < _MIN_ENCODED:
        return None
    for candidate in (body, body[: len(body) - len(body) % 4]):
        try:
            return base64.b64decode(candidate, validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


def _scan_byte_lanes(data: bytes, depth: int) -> KeyFinding | None:
    """UTF-16 and UTF-32 text (either byte order, any alignment) read one lane at a time."""
    if b"\x00" not in data or depth > 0:
        return None
    strides = (2, 4) if b"\x00\x00\x00" in data else (2,)
    for stride in strides:
        for start in range(stride):
            lane = data[start::stride]
            found = _scan_text_markers(lane)
            if found is None and not _BINARY_BYTE.search(lane.replace(b"\x00", b"")):
                found = _scan_file(lane.replace(b"\x00", b""), depth + 1)
            if found is not None:
                return KeyFinding(f"UTF-{8 * stride} text: {found.kind}", found.detail)
    return None


def _is_pgp_secret_packet(blob: bytes, offset: int) -> bool:
    """A whole OpenPGP secret-key packet: header, then well-formed public key material."""
    body = _pgp_packet_body(blob, offset)
    if body is None or len(body) < 8:
        return False
    version = body[0]
    if version == 4:
        algorithm, position = body[5], 6
        end = _pgp_public_material_end(body, position, algorithm)
    elif version in (5, 6):
        algorithm, length = body[5], int.from_bytes(body[6:10], "big")
        end = 10 + length
        if _pgp_public_material_end(body, 10, algorithm) != end:
            return False
    else:
        return False
    # Then the S2K usage octet: 0 (unprotected), 253-255, or a cipher number.
    return (
        end is not None and end < len(body) and (body[end] in (0, 253, 254, 255) or body[end] < 14)
    )


def _pgp_packet_body(blob: bytes, offset: int) -> bytes | None:
    if offset >= len(blob) or blob[offset] not in _PGP_SECRET_TAGS:
        return None
    tag = blob[offset]
    pos = offset + 1
    if tag & 0x40:  # new format: one-, two- or five-octet length
        first = blob[pos] if pos < len(blob) else 255
        if first < 192:
            length, pos = first, pos + 1
        elif first < 224 and pos + 1 < len(blob):
            length, pos = ((first - 192) << 8) + blob[pos + 1] + 192, pos + 2
        elif first == 255:
            length, pos = int.from_bytes(blob[pos + 1 : pos + 5], "big"), pos + 5
        else:
            return None
    else:  # old format: the low two bits say how many octets of length follow
        size = (1, 2, 4, 0)[tag & 0x03]
        if size == 0:
            return None
        length, pos = int.from_bytes(blob[pos : pos + size], "big"), pos + size
    if pos + length > len(blob):
        return None
    return blob[pos : pos + length]


_PGP_MPI_COUNTS = {1: 2, 2: 2, 3: 2, 16: 3, 17: 4, 20: 3}
_PGP_NATIVE_SIZES = {25: 32, 26: 56, 27: 32, 28: 57}


def _pgp_public_material_end(body: bytes, position: int, algorithm: int) -> int | None:
    """Where the algorithm's public key fields end, if they are well formed."""
    if algorithm in _PGP_NATIVE_SIZES:
        native_end = position + _PGP_NATIVE_SIZES[algorithm]
        return native_end if native_end <= len(body) else None
    if algorithm in (18, 19, 22):  # curve OID, then the point as an MPI
        oid_length = body[position] if position < len(body) else 0
        if oid_length in (0, 0xFF):
            return None
        point_end = _pgp_mpis_end(body, position + 1 + oid_length, 1)
        if algorithm == 18 and point_end is not None:  # ECDH: KDF parameters follow
            return point_end + 4 if point_end < len(body) and body[point_end] == 3 else None
        return point_end
    count = _PGP_MPI_COUNTS.get(algorithm)
    return None if count is None else _pgp_mpis_end(body, position, count)


def _pgp_mpis_end(body: bytes, position: int, count: int) -> int | None:
    for _ in range(count):
        if position + 2 > len(body):
            return None
        bits = int.from_bytes(body[position : position + 2], "big")
        size = (bits + 7) // 8
        if bits == 0 or position + 2 + size > len(body):
            return None
        if body[position + 2].bit_length() != bits - 8 * (size - 1):
            return None
        position += 2 + size
    return position
