"""The audit's findings as SARIF 2.1.0, located in the ruleset file (code-scanning UIs)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flowmatrix import __version__
from flowmatrix.audit.result import AuditReport, RuleRef, status_text
from flowmatrix.collector import collector_paused
from flowmatrix.i18n import N_, _

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES: tuple[tuple[str, str, str, str], ...] = (
    ("FMA001", "blocked-flow", "error", N_("A required flow is blocked by the ruleset.")),
    ("FMA002", "partially-blocked-flow", "error", N_("Part of a required flow is blocked.")),
    (
        "FMA003",
        "undecided-flow",
        "warning",
        N_("A flow's verdict depends on a condition the audit cannot evaluate."),
    ),
    ("FMA004", "wide-accept", "warning", N_("An accept rule is wider than the flows it serves.")),
    ("FMA005", "unneeded-accept", "note", N_("An accept rule that no planned flow needs.")),
    ("FMA006", "shadowed-rule", "warning", N_("A rule earlier rules keep from ever matching.")),
    ("FMA007", "never-matches", "warning", N_("A rule whose conditions contradict each other.")),
    ("FMA008", "unreachable-chain", "note", N_("A rule in a chain no base chain reaches.")),
    ("FMA009", "unreadable", "warning", N_("Something in the ruleset the audit could not read.")),
)
_LEVEL = {rule_id: level for rule_id, _, level, _ in RULES}


@lru_cache(maxsize=64)
def _uri(path: str) -> str:
    """A file's URI, made once per file name: the results of a ruleset are all located
    in its one file."""
    candidate = Path(path)
    return candidate.as_uri() if candidate.is_absolute() else candidate.as_posix()


def _location(file: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(file)}}
    if line is not None:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _result(rule_id: str, message: str, file: str, line: int | None) -> dict[str, Any]:
    return {
        "ruleId": rule_id,
        "level": _LEVEL[rule_id],
        "message": {"text": message},
        "locations": [_location(file, line)],
    }


def _at(ref: RuleRef | None, fallback: str) -> tuple[str, int | None]:
    if ref is None or ref.file.startswith("("):
        return fallback, None
    return ref.file, ref.line


@collector_paused()  # many small objects, no cycles
def to_sarif(report: AuditReport) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    file = report.ruleset_file
    for flow in report.flows:
        if flow.status not in ("blocked", "partial", "depends") or not flow.required:
            continue
        rule_id = {"blocked": "FMA001", "partial": "FMA002", "depends": "FMA003"}[flow.status]
        named = f"{flow.flow_id} {flow.source} -> {flow.destination} {flow.protocol}/{flow.port}"
        seen: set[tuple[str, int | None]] = set()
        for part in flow.parts:
            if part.status == "allowed":
                continue
            for fate in part.fates:
                if fate.status == "allowed" and part.status != "depends":
                    continue
                where = _at(fate.decided_by, file)
                if where in seen:
                    continue
                seen.add(where)
                text = f"{named}: {status_text(part.status)} ({fate.decision})"
                if flow.fixes:
                    fixes = " ; ".join(f.command for f in flow.fixes)
                    text += "; " + _("fix: {commands}").format(commands=fixes)
                results.append(_result(rule_id, text, *where))
        if flow.more_parts:  # their deciding rules are not located here
            results.append(_result(rule_id, f"{named}: {flow.unlisted}", file, None))
    for wide in report.wide_rules:
        results.append(
            _result(
                "FMA004",
                "; ".join(wide.reasons)
                + "; "
                + _("serves {flows}").format(flows=", ".join(wide.flows)),
                *_at(wide.rule, file),
            )
        )
    for ref in report.unused_rules:
        text = _("no planned flow needs: {rule}").format(rule=ref.text)
        results.append(_result("FMA005", text, *_at(ref, file)))
    for dead in report.dead_rules:
        rule_id = {"shadowed": "FMA006", "never-matches": "FMA007", "unreachable-chain": "FMA008"}[
            dead.reason
        ]
        results.append(_result(rule_id, dead.detail, *_at(dead.rule, file)))
    for problem in report.problems:
        results.append(_result("FMA009", problem.message, problem.file, problem.line))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flowmatrix",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule_id,
                                "name": name,
                                "shortDescription": {"text": _(text)},
                                "defaultConfiguration": {"level": level},
                            }
                            for rule_id, name, level, text in RULES
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
