"""What the report tests share: hostile texts, a verify document, skip-or-fail rules."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.model import Plan

REQUIRE = os.environ.get("FLOWMATRIX_REQUIRE_KERNEL_TESTS") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"

#: Texts that try to break out of every format the report writes.
HOSTILE = {
    "script": "<script>window.__pwned=1</script>",
    "attr": '" onmouseover="window.__pwned=2" x=\'',
    "img": '<img src=x onerror="window.__pwned=3">',
    "formula": "=cmd|' /C calc'!A0",
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(A1:A2)",
    "dot": '"]; evil [label="pwned"]; x -> y [label="\\N \\G',
    "mermaid": '"] --> end; click n1 "javascript:alert(1)" %%',
    "markdown": "[click](javascript:alert(1)) | **bold** `code` ~~gone~~",
    "xml": "_x0041_ &amp; ]]> <!--",
}
HOSTILE_TEXT = " ".join(HOSTILE.values())


def skip_or_fail(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"required under FLOWMATRIX_REQUIRE_KERNEL_TESTS=1: {reason}")
    pytest.skip(reason)


def need_graphviz() -> None:
    """Graphviz is optional for users, required in CI."""
    if shutil.which("dot") is None:
        skip_or_fail("Graphviz 'dot' is not installed (Debian package graphviz)")


def probe_result(
    flow: Any, port: int, state: str, address: str | None, host: str | None = None, reason: str = ""
) -> Any:
    """A verify result of ``flow`` from ``host`` to ``address`` and ``port``."""
    from flowmatrix.probe.results import ProbeResult

    return ProbeResult(
        flow=flow.id,
        requirement=flow.requirement,
        required=flow.status == "current",
        source_role=flow.source.role,
        source_host=host,
        source_address=None,
        destination_role=flow.destination.role,
        destination_host=None,
        fqdn=None,
        address=address,
        port=port,
        protocol=flow.protocol,
        service=flow.service,
        state=state,
        reason=reason or f"{state} by test",
    )


def verify_document(plan: Plan, states: list[str], reason: str = "") -> dict[str, Any]:
    """A verify document in the real JSON contract: one result per flow, port and address.

    Flow i gets ``states[i % len(states)]``; every fifth flow has no result at all.
    """
    results = []
    for index, flow in enumerate(plan.flows):
        if index % 5 == 4:
            continue
        state = states[index % len(states)]
        for port in flow.ports:
            for address in flow.destination.addresses[:2] or (None,):
                result = probe_result(flow, port, state, address, reason=reason)
                results.append(result.to_dict())
    return {"format": "flowmatrix-verify/1", "site": plan.site.name, "results": results}


STATES = ["open", "filtered", "open|filtered", "closed", "open", "not_probed"]
