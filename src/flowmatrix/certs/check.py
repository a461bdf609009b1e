"""``certs check``: what certificate files contain, before they are handed over for pinning.

All files are screened for private keys before any is parsed or written: one file with
a key refuses the whole run (exit 2) and nothing is written, so no copy of it (or of
the files beside it) lands in the output folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flowmatrix.atomic import write_atomic
from flowmatrix.certs.collect import prepare_output_dir, safe_name
from flowmatrix.certs.files import (
    KEY_HINT,
    CertificateFile,
    FileFormat,
    PrivateKeyRefused,
    parse_certificates,
    read_limited,
    to_pem,
)
from flowmatrix.certs.findings import (
    DEFAULT_WARN_DAYS,
    Finding,
    certificate_findings,
    chain_findings,
)
from flowmatrix.certs.keyscan import find_private_key
from flowmatrix.errors import ExitCode, UserError
from flowmatrix.i18n import _, ngettext, pgettext
from flowmatrix.x509facts import CertDetails, describe, name_matches, utcnow


@dataclass(frozen=True)
class FileReport:
    """What one file holds."""

    path: str
    format: FileFormat
    certificates: tuple[CertDetails, ...]
    findings: tuple[Finding, ...]
    ignored_blocks: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    """PEM copies written to the output folder, in file order."""

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


@dataclass(frozen=True)
class CheckReport:
    files: tuple[FileReport, ...]
    output_dir: str | None
    warn_days: int
    checked_at: dt.datetime
    name: str | None = None

    @property
    def warnings(self) -> int:
        return sum(f.warnings for f in self.files)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FINDINGS if self.warnings else ExitCode.OK


def _file_findings(
    loaded: CertificateFile,
    details: tuple[CertDetails, ...],
    *,
    name: str | None,
    now: dt.datetime,
    warn_days: int,
) -> list[Finding]:
    certs = loaded.certificates
    if len(certs) > 1:
        # A file with several certificates is read as a chain, leaf first.
        return chain_findings(certs, details, name=name, now=now, warn_days=warn_days)
    found = certificate_findings(details[0], now=now, warn_days=warn_days)
    leaf = details[0]
    if name is not None and not name_matches(leaf, name):
        covered = ", ".join(leaf.names()) or pgettext("names", "none")
        found.append(
            Finding(
                "name-mismatch",
                "warning",
                _("the certificate does not cover {name!r} (names: {names})").format(
                    name=name, names=covered
                ),
                0,
            )
        )
    if leaf.self_signed and not leaf.is_ca:
        found.append(
            Finding(
                "self-signed",
                "warning",
                _(
                    "the certificate is self-signed ({subject}): devices reject it unless "
                    "it is pinned or installed as trusted"
                ).format(subject=leaf.subject),
                0,
            )
        )
    return found


def screen_files(paths: Sequence[str | Path]) -> list[tuple[str, bytes]]:
    """Read every file and refuse the lot if any holds a private key."""
    contents: list[tuple[str, bytes]] = []
    refused: list[PrivateKeyRefused] = []
    for path in paths:
        data = read_limited(Path(path))
        finding = find_private_key(data)
        if finding is not None:
            refused.append(PrivateKeyRefused(str(path), finding))
        contents.append((str(path), data))
    if len(refused) == 1:
        raise refused[0]
    if refused:
        listed = "; ".join(f"{r.file}: {r.finding.describe()}" for r in refused)
        raise UserError(
            ngettext(
                "refused: {count} files contain private keys ({listed}); flowmatrix "
                "never reads, copies or displays private keys",
                "refused: {count} files contain private keys ({listed}); flowmatrix "
                "never reads, copies or displays private keys",
                len(refused),
            ).format(count=len(refused), listed=listed),
            file=refused[0].file,
            hint=_(KEY_HINT),
        )
    return contents


def check_files(
    paths: Sequence[str | Path],
    *,
    name: str | None = None,
    warn_days: int = DEFAULT_WARN_DAYS,
    output_dir: str | Path | None = None,
    now: dt.datetime | None = None,
) -> CheckReport:
    """Describe the certificates in ``paths``; with ``output_dir``, write PEM copies there."""
    if not paths:
        raise UserError(_("no file to check"), hint=_("give one or more certificate files"))
    contents = screen_files(paths)
    loaded = [parse_certificates(data, shown) for shown, data in contents]
    moment = now or utcnow()
    folder = prepare_output_dir(Path(output_dir)) if output_dir is not None else None
    reports: list[FileReport] = []
    for item in loaded:
        details = tuple(describe(cert, i) for i, cert in enumerate(item.certificates))
        findings = _file_findings(item, details, name=name, now=moment, warn_days=warn_days)
        files: list[str] = []
        if folder is not None:
            stem = safe_name(Path(item.path).stem)
            for cert, info in zip(item.certificates, details, strict=True):
                target = folder / f"{stem}_{info.position}_{info.short_fingerprint}.pem"
                write_atomic(target, to_pem(cert))
                files.append(str(target))
        reports.append(
            FileReport(
                item.path, item.format, details, tuple(findings), item.ignored_blocks, tuple(files)
            )
        )
    return CheckReport(
        tuple(reports),
        str(folder) if folder is not None else None,
        warn_days,
        moment,
        name,
    )
