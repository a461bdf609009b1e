"""Warnings about certificates and chains: expiry, names, self-signed leaves, broken chains.

A finding with severity ``warning`` makes the command exit 1; a ``note`` is information.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509

from flowmatrix.i18n import _, ngettext, pgettext
from flowmatrix.x509facts import CertDetails, issued_by, name_matches

Severity = Literal["warning", "note"]

#: Days before expiry from which a certificate is reported as expiring.
DEFAULT_WARN_DAYS = 30

#: Codes of the findings, with what they mean (the JSON contract; see docs/certs.md).
FINDING_CODES = {
    "expired": "the certificate's notAfter is in the past",
    "not-yet-valid": "the certificate's notBefore is in the future",
    "expiring": "the certificate expires within the warning period",
    "name-mismatch": "the leaf's subjectAltName entries do not cover the name connected to",
    "self-signed": "the leaf is self-signed: devices will not trust it unless it is pinned",
    "incomplete-chain": "the leaf's issuer is not among the certificates presented",
    "chain-order": "the presented certificates are not in leaf-to-root order",
    "weak-key": "RSA or DSA key below 2048 bits, or EC key below 256 bits",
    "weak-signature": "a non-root certificate signed with MD5 or SHA-1",
    "chain-end": "the chain stops at a certificate whose issuer clients must already trust",
    "extra-certificate": "a presented certificate is not part of the leaf's chain",
    "leaf-only": "only the leaf could be read, so the chain was not checked",
    "name-unchecked": "no DNS name is known for the endpoint, so the name was not checked",
    "unparsable": "a presented certificate could not be parsed",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing worth telling about a certificate or a chain."""

    code: str
    """Stable identifier, one of ``FINDING_CODES``."""
    severity: Severity
    """``warning`` (counts as a finding, exit 1) or ``note`` (information)."""
    message: str
    """Human-readable explanation."""
    position: int | None = None
    """Position of the certificate concerned (0 = leaf), if the finding is about one."""


def certificate_findings(
    details: CertDetails,
    *,
    now: dt.datetime,
    warn_days: int = DEFAULT_WARN_DAYS,
) -> list[Finding]:
    """Findings about one certificate on its own: validity period, key and signature."""
    found: list[Finding] = []
    pos = details.position
    subject = details.subject or _("empty subject")
    if details.not_after < now:
        days = -details.days_left(now)
        message = ngettext(
            "certificate {position} ({subject}) expired on {date} ({days} days ago)",
            "certificate {position} ({subject}) expired on {date} ({days} days ago)",
            days,
        )
        found.append(
            Finding(
                "expired",
                "warning",
                message.format(
                    position=pos, subject=subject, date=f"{details.not_after:%Y-%m-%d}", days=days
                ),
                pos,
            )
        )
    elif details.not_before > now:
        message = _("certificate {position} ({subject}) is not valid before {moment} UTC")
        found.append(
            Finding(
                "not-yet-valid",
                "warning",
                message.format(
                    position=pos, subject=subject, moment=f"{details.not_before:%Y-%m-%d %H:%M}"
                ),
                pos,
            )
        )
    elif details.not_after - now <= dt.timedelta(days=warn_days):
        days = details.days_left(now)
        message = ngettext(
            "certificate {position} ({subject}) expires on {date} "
            "(in {days} days, within the {warn_days}-day warning period)",
            "certificate {position} ({subject}) expires on {date} "
            "(in {days} days, within the {warn_days}-day warning period)",
            days,
        )
        found.append(
            Finding(
                "expiring",
                "warning",
                message.format(
                    position=pos,
                    subject=subject,
                    date=f"{details.not_after:%Y-%m-%d}",
                    days=days,
                    warn_days=warn_days,
                ),
                pos,
            )
        )
    weak = (details.key_type in ("RSA", "DSA") and (details.key_size or 0) < 2048) or (
        details.key_type == "EC" and (details.key_size or 0) < 256
    )
    if weak:
        found.append(
            Finding(
                "weak-key",
                "warning",
                _(
                    "certificate {position} ({subject}) has a weak {key_type} {key_size}-bit key"
                ).format(
                    position=pos,
                    subject=subject,
                    key_type=details.key_type,
                    key_size=details.key_size,
                ),
                pos,
            )
        )
    algorithm = details.signature_algorithm
    if not details.self_signed and ("md5" in algorithm or "sha1" in algorithm):
        found.append(
            Finding(
                "weak-signature",
                "warning",
                _("certificate {position} ({subject}) is signed with {algorithm}").format(
                    position=pos, subject=subject, algorithm=algorithm
                ),
                pos,
            )
        )
    return found


def issuing_order(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The certificates of an unordered set (PKCS#7), leaf first, then up its issuers.

    The leaf is the certificate that issued none of the others; certificates that are
    not on its path follow in their original order.
    """
    if len(certs) < 2:
        return list(certs)
    issuers = {
        j
        for i, child in enumerate(certs)
        for j, parent in enumerate(certs)
        if i != j and issued_by(child, parent)
    }
    leaves = [i for i in range(len(certs)) if i not in issuers]
    start = leaves[0] if leaves else 0
    order = [start]
    while True:
        current = certs[order[-1]]
        parent = next(
            (j for j in range(len(certs)) if j not in order and issued_by(current, certs[j])),
            None,
        )
        if parent is None:
            break
        order.append(parent)
    order += [i for i in range(len(certs)) if i not in order]
    return [certs[i] for i in order]


def _path_from_leaf(certs: Sequence[x509.Certificate]) -> list[int]:
    """Positions of the issuing path from the leaf through the presented certificates."""
    path = [0]
    remaining = set(range(1, len(certs)))
    current = 0
    while remaining and not issued_by(certs[current], certs[current]):
        # Prefer the next position (the expected order), then any other presented one.
        candidates = sorted(remaining, key=lambda i: (i != current + 1, i))
        parent = next((i for i in candidates if issued_by(certs[current], certs[i])), None)
        if parent is None:
            break
        path.append(parent)
        remaining.discard(parent)
        current = parent
    return path


def chain_findings(
    certs: Sequence[x509.Certificate],
    details: Sequence[CertDetails],
    *,
    name: str | None,
    now: dt.datetime,
    warn_days: int = DEFAULT_WARN_DAYS,
    complete: bool = True,
) -> list[Finding]:
    """Findings about a presented chain (leaf first), checked against the name connected to.

    ``complete`` is False when only the leaf could be read: the chain checks are then
    replaced by a ``leaf-only`` note instead of a false ``incomplete-chain`` warning.
    """
    if not certs:
        return []
    found: list[Finding] = []
    for item in details:
        found.extend(certificate_findings(item, now=now, warn_days=warn_days))
    leaf = details[0]
    if name is not None and not name_matches(leaf, name):
        covered = ", ".join(leaf.names()) or pgettext("names", "none")
        if leaf.has_san:
            message = _("the leaf does not cover {name!r} (names: {names})")
        else:
            message = _(
                "the leaf does not cover {name!r} (names: {names}); the certificate has no "
                "subjectAltName and clients (iOS 13+, Android, browsers) ignore the subject CN"
            )
        found.append(
            Finding("name-mismatch", "warning", message.format(name=name, names=covered), 0)
        )
    if leaf.self_signed:
        found.append(
            Finding(
                "self-signed",
                "warning",
                _(
                    "the leaf is self-signed ({subject}): devices reject it unless it is "
                    "pinned or installed as trusted"
                ).format(subject=leaf.subject),
                0,
            )
        )
    if not complete:
        found.append(
            Finding(
                "leaf-only",
                "note",
                _(
                    "only the leaf certificate could be read from this server, so the chain "
                    "was not checked"
                ),
                0,
            )
        )
        return found
    path = _path_from_leaf(certs)
    if not leaf.self_signed and len(path) == 1:
        found.append(
            Finding(
                "incomplete-chain",
                "warning",
                ngettext(
                    "the leaf's issuer ({issuer}) is not among the {count} "
                    "certificate(s) presented: the server must send its intermediate CA(s)",
                    "the leaf's issuer ({issuer}) is not among the {count} "
                    "certificate(s) presented: the server must send its intermediate CA(s)",
                    len(certs),
                ).format(issuer=leaf.issuer, count=len(certs)),
                0,
            )
        )
    elif path != list(range(len(path))):
        order = " -> ".join(str(i) for i in path)
        found.append(
            Finding(
                "chain-order",
                "warning",
                _(
                    "the certificates are not in leaf-to-root order (issuing path: {order}); "
                    "some clients reject out-of-order chains"
                ).format(order=order),
            )
        )
    last = details[path[-1]]
    if len(path) > 1 and not last.self_signed:
        found.append(
            Finding(
                "chain-end",
                "note",
                _(
                    "the chain ends at certificate {position} ({subject}); its issuer "
                    "({issuer}) must be a root CA the devices trust"
                ).format(position=last.position, subject=last.subject, issuer=last.issuer),
                last.position,
            )
        )
    for position in range(len(certs)):
        if position not in path:
            found.append(
                Finding(
                    "extra-certificate",
                    "note",
                    _(
                        "certificate {position} ({subject}) is not part of the leaf's issuing path"
                    ).format(position=position, subject=details[position].subject),
                    position,
                )
            )
    return found


def count_warnings(findings: Sequence[Finding]) -> int:
    return sum(1 for f in findings if f.severity == "warning")
