"""The ``flowmatrix verify --format json`` document, built on the source host.

``flowmatrix.probe.report.report_dict`` builds the same document on the control node,
but it imports the rendering layer (and with it pydantic), which the zipapp cannot
carry. This builder uses only the report itself; ``tests/fleet/test_fleet_remote.py`` checks
that both give the same document for the same report, so the contract cannot drift.
"""

from __future__ import annotations

from typing import Any

from flowmatrix.probe.verify import VerifyReport

#: The ``format`` key of the document (docs/verify.md).
VERIFY_FORMAT = "flowmatrix-verify/1"


def verify_document(report: VerifyReport) -> dict[str, Any]:
    """The documented JSON of a ``verify`` run."""
    return {
        "format": VERIFY_FORMAT,
        "site": report.site,
        "source": report.source,
        "options": {
            "timeout": report.options.timeout,
            "retries": report.options.retries,
            "two_ended": report.options.two_ended,
        },
        "summary": report.summary.to_dict(),
        "warnings": list(report.warnings),
        "results": [result.to_dict() for result in report.results],
    }
