"""The ``flowmatrix verify --format json`` document (the contract of docs/verify.md).

Standard library only: the control node writes it from ``probe.verify_report`` and the remote
probe of ``fleet`` (a zipapp that carries no compiled package) writes it on the source
hosts, from this one builder.
"""

from __future__ import annotations

from typing import Any

from flowmatrix.documents import SiteRef, header
from flowmatrix.probe.verify import VerifyReport


def document_head(report: VerifyReport) -> dict[str, Any]:
    """Every key of the document but its ``results``."""
    return {
        **header("verify", SiteRef(report.site, report.site_digest)),
        "source": report.source,
        "options": {
            "timeout": report.options.timeout,
            "retries": report.options.retries,
            "two_ended": report.options.two_ended,
        },
        "summary": report.summary.to_dict(),
        "warnings": list(report.warnings),
    }


def report_dict(report: VerifyReport) -> dict[str, Any]:
    """The JSON document of a run."""
    return {
        **document_head(report),
        "results": [r.to_dict() for r in report.results],
        "checks": [r.check().to_dict() for r in report.results],
    }
