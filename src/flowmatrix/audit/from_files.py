"""The Python API of the audit: a site and a ruleset file in, a report out.

>>> from flowmatrix.audit.from_files import audit
>>> report = audit(None, ruleset="fw.rules", firewall="fw-back")  # doctest: +SKIP
>>> [f.flow_id for f in report.findings]                          # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from flowmatrix.audit.ipassmt import load_ipassmt
from flowmatrix.audit.judging import EPHEMERAL, audit_plan
from flowmatrix.audit.loader import Format, NftReader, load_ruleset
from flowmatrix.audit.result import PARTS_LISTED, AuditReport
from flowmatrix.collector import collector_paused
from flowmatrix.errors import UserError
from flowmatrix.i18n import Lang, _, language
from flowmatrix.model import Plan


def parse_port_range(text: str) -> tuple[tuple[int, int], ...]:
    """``1024-65535`` (or one port) as an interval set; UserError when malformed."""
    low_text, _sep, high_text = text.partition("-")
    try:
        low = int(low_text)
        high = int(high_text) if high_text else low
    except ValueError:
        raise UserError(
            _("bad port range {text!r}").format(text=text), hint=_("write e.g. 1024-65535")
        ) from None
    if not 0 <= low <= high <= 65535:
        raise UserError(
            _("bad port range {text!r}").format(text=text), hint=_("ports go from 0 to 65535")
        )
    return ((low, high),)


def audit(
    site: str | Path | None,
    *,
    ruleset: str | Path,
    firewall: str | None = None,
    host: str | None = None,
    ipassmt: str | Path | None = None,
    ipset: str | Path | None = None,
    lang: Lang = "en",
    catalog: str | None = None,
    ruleset_format: Format = "auto",
    nft_reader: NftReader = "auto",
    source_ports: str | None = None,
    plan: Plan | None = None,
    context: str | None = None,
    parts_listed: int = PARTS_LISTED,
) -> AuditReport:
    """Load the site's plan and the ruleset, and audit one firewall (or one host); the
    report's texts (reasons, notes, errors) are in ``lang``.

    The cyclic garbage collector is paused meanwhile: reading, judging and describing
    make millions of small objects and no cycles to collect, and the collector's passes
    over all of them cost about a sixth of the audit of a large ruleset."""
    with language(lang), collector_paused():
        return _audit(
            site,
            ruleset=ruleset,
            firewall=firewall,
            host=host,
            ipassmt=ipassmt,
            ipset=ipset,
            lang=lang,
            catalog=catalog,
            ruleset_format=ruleset_format,
            nft_reader=nft_reader,
            source_ports=source_ports,
            plan=plan,
            context=context,
            parts_listed=parts_listed,
        )


def _audit(
    site: str | Path | None,
    *,
    ruleset: str | Path,
    firewall: str | None,
    host: str | None,
    ipassmt: str | Path | None,
    ipset: str | Path | None,
    lang: Lang,
    catalog: str | None,
    ruleset_format: Format,
    nft_reader: NftReader,
    source_ports: str | None,
    plan: Plan | None,
    context: str | None,
    parts_listed: int,
) -> AuditReport:
    if plan is None:
        from flowmatrix.api import load_plan

        plan = load_plan(site, lang=lang, catalog=catalog)
    rules = load_ruleset(
        ruleset,
        ipset=ipset,
        fmt=ruleset_format,
        nft_reader=nft_reader,
        context=context,
        prefer=firewall,
    )
    interfaces = load_ipassmt(ipassmt) if ipassmt is not None else None
    ports = parse_port_range(source_ports) if source_ports else EPHEMERAL
    return audit_plan(
        plan,
        rules,
        firewall=firewall,
        host=host,
        ipassmt=interfaces,
        source_ports=ports,
        parts_listed=parts_listed,
    )
