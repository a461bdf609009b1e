"""Verify result documents for merge tests, in the documented ``flowmatrix-verify/1`` shape."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flowmatrix.fleet.resultfile import ResultDocument, parse_result_document

#: (flow, source host, destination host, address, port, state[, findings])
Row = tuple[Any, ...]


def result(
    flow: str,
    host: str | None,
    dest_host: str | None,
    address: str | None,
    port: int,
    state: str,
    findings: Iterable[str] = (),
) -> dict[str, Any]:
    return {
        "flow": flow,
        "requirement": flow.rsplit(".", 1)[0],
        "required": True,
        "source": {"role": "app-server", "host": host, "address": None},
        "destination": {
            "role": "db-server",
            "host": dest_host,
            "fqdn": None,
            "address": address,
            "port": port,
            "protocol": "tcp",
            "service": None,
        },
        "state": state,
        "reason": f"{state} (test)",
        "latency_ms": 0.5,
        "attempts": 1,
        "two_ended": False,
        "tls": None,
        "dns": None,
        "reply": None,
        "findings": list(findings),
        "notes": [],
    }


def document(rows: Iterable[Row], site: str = "fleet lab") -> dict[str, Any]:
    return {
        "format": "flowmatrix-verify/1",
        "site": site,
        "source": "test",
        "options": {"timeout": 1.0, "retries": 1, "two_ended": False},
        "summary": {},
        "warnings": [],
        "results": [result(*row) for row in rows],
    }


def result_file(
    rows: Iterable[Row], path: str = "results.json", site: str = "fleet lab"
) -> ResultDocument:
    return parse_result_document(json.dumps(document(rows, site)), path)


def write(path: Path, rows: Iterable[Row], site: str = "fleet lab") -> Path:
    path.write_text(json.dumps(document(rows, site)))
    return path
