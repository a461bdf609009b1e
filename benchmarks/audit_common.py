"""What the audit benchmarks share: the plain interpreter's verdict of every flow port of
a site (the peer), the verdicts ``flowmatrix audit -f json`` wrote, and the A B A B
comparison of the whole command against that peer with identical verdicts asserted."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from harness import Side, compare, print_comparison

from flowmatrix.api import load_plan
from flowmatrix.audit.binding import bind_zones
from flowmatrix.audit.ipassmt import load_ipassmt
from flowmatrix.audit.judging import EPHEMERAL, _queries
from flowmatrix.audit.loader import load_ruleset
from flowmatrix.audit.naive import NaiveWalker
from flowmatrix.audit.scope import end_scope, interfaces_for
from flowmatrix.audit.stage import prepare
from flowmatrix.audit.verdict import evaluate_flow

Verdicts = dict[tuple[str, int], str]


def plain_verdicts(
    site_file: Path, config: Path, firewall: str, ipassmt: Path | None = None
) -> Verdicts:
    """The plain interpreter's verdict of every flow port, as the audit states them:
    reading the site and the ruleset included, every rule in order, flow by flow."""
    plan = load_plan(site_file)
    ruleset = load_ruleset(config, prefer=firewall)
    interface_map = load_ipassmt(ipassmt) if ipassmt is not None else None
    fw = next(f for f in plan.site.firewalls if f.name == firewall)
    if ruleset.device is not None:
        fw, _ = bind_zones(plan.site, fw, ruleset.device)
    walker = NaiveWalker(ruleset)
    out = {}
    for flow in plan.flows_through(firewall):
        source = end_scope(plan.site, flow.source)
        destination = end_scope(plan.site, flow.destination)
        for port in flow.ports:
            interfaces = interfaces_for(plan.site, flow, fw, interface_map)
            queries = _queries(
                ruleset, flow, port, "forward", source, destination, interfaces, EPHEMERAL
            )
            queries = prepare(ruleset, flow, queries, firewall).queries
            statuses = {
                cell.status
                for ctx, region in queries
                for cell in evaluate_flow(walker, "forward", ctx, region)
            }
            if "blocked" in statuses:
                out[(flow.id, port)] = "blocked" if statuses == {"blocked"} else "partial"
            else:
                out[(flow.id, port)] = "depends" if "depends" in statuses else "allowed"
    return out


def json_verdicts(path: Path) -> Verdicts:
    """The verdict of every flow port in the JSON report of ``flowmatrix audit``."""
    report = json.loads(path.read_text("utf-8"))
    return {(flow["id"], int(flow["port"])): flow["status"] for flow in report["flows"]}


def audit_command(
    site_file: Path, config: Path, firewall: str, out: Path, ipassmt: Path | None = None
) -> list[str]:
    """``flowmatrix audit SITE -F NAME -r FILE [--ipassmt MAP] -f json -o OUT``."""
    command = [sys.executable, "-m", "flowmatrix", "audit", str(site_file), "-F", firewall]
    command += ["-r", str(config), "-f", "json", "-o", str(out)]
    if ipassmt is not None:
        command += ["--ipassmt", str(ipassmt)]
    return command


def whole_against_plain(
    name: str,
    site_file: Path,
    config: Path,
    firewall: str,
    out: Path,
    pairs: int,
    ipassmt: Path | None = None,
) -> tuple[float, float]:
    """The whole command against the plain interpreter, A B A B; (median seconds of the
    command, median ratio). Raises when a verdict differs."""
    expected: Verdicts = {}

    def check() -> None:
        found = json_verdicts(out)
        assert found == expected, f"{name}: flowmatrix and the plain interpreter disagree"

    def remove() -> None:
        out.unlink(missing_ok=True)

    plain: Callable[[], Verdicts] = lambda: plain_verdicts(site_file, config, firewall, ipassmt)  # noqa: E731
    started = time.perf_counter()
    expected.update(plain())
    print(
        f"{name}: {len(expected)} flow ports, plain first-match once in "
        f"{time.perf_counter() - started:.2f} s"
    )
    counts: dict[str, int] = {}
    for status in expected.values():
        counts[status] = counts.get(status, 0) + 1
    print(f"  verdicts (identical on both sides): {dict(sorted(counts.items()))}")
    command = audit_command(site_file, config, firewall, out, ipassmt)
    result = compare(
        Side("flowmatrix audit (process)", command, check=check, before=remove),
        Side("plain first-match (in-process)", call=plain),
        pairs=pairs,
    )
    print_comparison(result, name)
    return result.flowmatrix.median, sorted(result.ratios)[len(result.ratios) // 2]
