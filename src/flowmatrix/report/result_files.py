"""Read the JSON that ``verify``, ``audit`` and ``lab`` write, and map it to flow checks.

The reader is tolerant by design: it finds the list of result lines wherever the
document keeps it, tells the kind of file from its keys, and maps each line's state or
verdict to a status. Lines it cannot use are counted, not fatal; a file it cannot read
at all is a ``UserError`` with a hint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from flowmatrix.documents import DocumentError, read_header
from flowmatrix.errors import UserError
from flowmatrix.evidence import STATUS_OF, Check, CheckError, Kind, Status, checks_in, state_word
from flowmatrix.i18n import N_, _
from flowmatrix.inputfile import parse_json, read_input_text
from flowmatrix.model import Plan
from flowmatrix.report.status import Checks, ResultFile, combine

VERIFY_STATES = STATUS_OF["verify"]
AUDIT_STATUSES = STATUS_OF["audit"]
LAB_VERDICTS = STATUS_OF["lab"]
MATRIX_STATUSES = STATUS_OF["merge"]

#: Verdicts of other tools (or of hand-written files), with their usual synonyms.
VERDICTS: dict[str, Status] = {
    **AUDIT_STATUSES,
    **LAB_VERDICTS,
    "allow": "proven",
    "accepted": "proven",
    "passed": "proven",
    "ok": "proven",
    "open": "proven",
    "reached": "proven",
    "block": "failing",
    "denied": "failing",
    "dropped": "failing",
    "rejected": "failing",
    "fail": "failing",
    "failed": "failing",
    "closed": "failing",
    "filtered": "failing",
    "unreachable": "failing",
    "error": "failing",
    "conditional": "depends",
    "inconclusive": "depends",
    "open|filtered": "depends",
    "unknown": "not-tested",
    "skipped": "not-tested",
    "not_tested": "not-tested",
    "not-tested": "not-tested",
    "not_probed": "not-tested",
}

_LIST_KEYS = ("results", "flows", "verdicts", "checks", "items")
#: Lab cases that test the plan itself; the others try what must stay closed.
_PLANNED_VARIANTS = (None, "planned")
_DETAIL_LIMIT = 300
_HINT = N_(
    "give the JSON that 'flowmatrix verify', 'listen', 'merge', 'audit' or 'lab' writes with "
    "--format json"
)


@dataclass(frozen=True, slots=True)
class Record:
    """One usable result line: the flow it is about and what it says."""

    flow: str
    requirement: str | None
    evidence: Check


def read_results(paths: Sequence[str | Path], plan: Plan, checks: Sequence[Check] = ()) -> Checks:
    """Read every results file, add ``checks`` (made in this process), and combine the
    evidence per flow of ``plan``."""
    evidence: dict[str, list[Check]] = defaultdict(list)
    files: list[ResultFile] = []
    unmatched: dict[str, None] = {}
    flows = {f.id: f for f in plan.flows}
    for path in paths:
        kind, records, ignored = read_file(path)
        used = 0
        for record in records:
            flow = flows.get(record.flow)
            if flow is None or (record.requirement and record.requirement != flow.requirement):
                unmatched.setdefault(record.flow, None)
                continue
            evidence[record.flow].append(record.evidence)
            used += 1
        files.append(ResultFile(str(path), kind, used, ignored + len(records) - used))
    for check in checks:
        if check.flow in flows:
            evidence[check.flow].append(check)
        else:
            unmatched.setdefault(check.flow, None)
    combined = {
        flow_id: combine(flows[flow_id], items, plan.probe_sources(flows[flow_id]))
        for flow_id, items in evidence.items()
    }
    return Checks(combined, tuple(files), tuple(unmatched))


def read_file(path: str | Path) -> tuple[Kind, list[Record], int]:
    """The kind of a results file, its usable lines, and how many lines were not usable.

    A flowmatrix document says its kind in its head (``documents.read_header``); a file
    without one (another tool's, or hand-written lines) is told by its keys."""
    document = _load_json(Path(path))
    kind_hint = _declared_kind(document, str(path))
    if kind_hint is not None and isinstance(document, Mapping) and "checks" in document:
        return _read_checks(kind_hint, document, str(path))
    items = _find_items(document)
    if items is None:
        raise UserError(
            _("no list of results found in the file"),
            file=str(path),
            hint=_("{hint} (a list, or an object with a 'results' list)").format(hint=_(_HINT)),
        )
    if kind_hint == "listen":
        raise UserError(
            _("this listen document has no 'checks'"), file=str(path), hint=_("write it again")
        )
    if kind_hint == "matrix":
        return _read_matrix(items, str(path))
    kind = kind_hint or detect_kind(items)
    covers = _audited_firewalls(document) if kind == "audit" else None
    if kind is None:
        raise UserError(
            _("cannot tell whether these are verify, audit or lab results"),
            file=str(path),
            hint=_("{hint}: each line needs a flow id and a 'state' or a 'verdict'").format(
                hint=_(_HINT)
            ),
        )
    records: list[Record] = []
    ignored = 0
    for item in items:
        if kind == "lab" and isinstance(item, Mapping) and _negative_case(item):
            continue  # another port, the reverse way...: a check of what must stay closed
        made = list(_records(kind, item, str(path), covers)) if isinstance(item, Mapping) else []
        records.extend(made)
        ignored += 0 if made else 1
    return kind, records, ignored


def _load_json(path: Path) -> Any:
    if not path.exists():
        raise UserError(_("results file {path} does not exist").format(path=path), hint=_(_HINT))
    text = read_input_text(path, what=N_("results file"))
    try:
        return parse_json(text, str(path), hint=_(_HINT))
    except UserError:
        lines = _json_lines(text)
        if lines is not None:
            return lines
        raise


def _json_lines(text: str) -> list[Any] | None:
    """JSON Lines (one result per line), or None if the text is not that either."""
    rows = [line for line in text.splitlines() if line.strip()]
    if len(rows) < 2:
        return None
    try:
        return [parse_json(line, "") for line in rows]
    except UserError:
        return None


_KINDS: dict[str, Kind] = {"verify": "verify", "audit": "audit", "lab": "lab", "listen": "listen"}


def _read_checks(
    kind: Kind | Literal["matrix"], document: Mapping[str, Any], file: str
) -> tuple[Kind, list[Record], int]:
    """The ``checks`` of a flowmatrix document: each line must be one (``Check``)."""
    try:
        found = checks_in(document, file)
    except CheckError as exc:
        raise UserError(str(exc), file=file, hint=_(_HINT)) from None
    records = [Record(check.flow, None, check) for check in found]
    return ("merge" if kind == "matrix" else kind), records, 0


def _declared_kind(document: Any, file: str) -> Kind | Literal["matrix"] | None:
    """The kind a document's head names (``"format": "flowmatrix-verify/1"``), or its
    ``kind`` key (another tool's file); a flowmatrix document that holds no results (a
    plan, an import) is an error that names it."""
    try:
        head = read_header(document)
    except DocumentError as exc:
        raise UserError(str(exc), file=file, hint=exc.hint) from None
    if head is not None:
        if head.kind == "matrix":
            return "matrix"
        kind = _KINDS.get(head.kind)
        if kind is None:
            raise UserError(
                _("a flowmatrix-{kind} document holds no results").format(kind=head.kind),
                file=file,
                hint=_(_HINT),
            )
        return kind
    if not isinstance(document, Mapping):
        return None
    for key in ("kind", "command"):
        value = document.get(key)
        if isinstance(value, str) and value in _KINDS:
            return _KINDS[value]
    return None


def _find_items(document: Any) -> list[Any] | None:
    if isinstance(document, list):
        return document
    if not isinstance(document, Mapping):
        return None
    for key in _LIST_KEYS:
        value = document.get(key)
        if isinstance(value, list):
            return value
    return None


def detect_kind(items: Iterable[Any]) -> Kind | None:
    """Tell the kind of result lines by their keys.

    lab lines carry a ``verdict`` and a ``variant``; audit lines a ``status`` among the
    audit's (or a ``verdict`` allowed / blocked / depends); verify lines a ``state``.
    """
    for item in items:
        if not isinstance(item, Mapping):
            continue
        verdict = item.get("verdict")
        if isinstance(verdict, str):
            if "variant" in item or verdict.lower() not in AUDIT_STATUSES:
                return "lab"
            return "audit"
        if item.get("status") in AUDIT_STATUSES and "parts" in item:
            return "audit"
        if isinstance(item.get("state"), str):
            return "verify"
        if item.get("status") in AUDIT_STATUSES:
            return "audit"
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _flow_id(item: Mapping[str, Any]) -> str | None:
    flow = item.get("flow")
    if isinstance(flow, Mapping):
        return _text(flow.get("id"))
    return _text(flow) or _text(item.get("flow_id")) or _text(item.get("id"))


def _ports(item: Mapping[str, Any]) -> list[int | None]:
    """The ports a line is about: its port, its destination's port, its ports, or all."""
    destination = item.get("destination")
    candidates: list[Any] = [item.get("port")]
    if isinstance(destination, Mapping):
        candidates.append(destination.get("port"))
    for value in candidates:
        if _is_port(value):
            return [value]
    listed = item.get("ports")
    if isinstance(listed, list) and listed and all(_is_port(p) for p in listed):
        return list(listed)
    return [None]


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _DETAIL_LIMIT else flat[: _DETAIL_LIMIT - 1] + "…"


def _read_matrix(items: list[Any], file: str) -> tuple[Kind, list[Record], int]:
    """A ``merge`` document: live results per flow, source host and port."""
    records: list[Record] = []
    ignored = 0
    for item in items:
        made = list(_matrix_records(item, file)) if isinstance(item, Mapping) else []
        records.extend(made)
        ignored += 0 if made else 1
    return "verify", records, ignored


def _matrix_records(item: Mapping[str, Any], file: str) -> Iterable[Record]:
    flow = _flow_id(item)
    if flow is None:
        return
    requirement = _text(item.get("requirement"))
    made = False
    for check in item.get("checks") or ():
        if not isinstance(check, Mapping):
            continue
        host = _text(check.get("host")) or "?"
        for port in check.get("ports") or ():
            if not isinstance(port, Mapping) or not _is_port(port.get("port")):
                continue
            status = MATRIX_STATUSES.get(str(port.get("status")))
            if status is None:
                continue  # not_applicable: this port is not this host's to test
            states = [
                str(r.get("state"))
                for r in port.get("results") or ()
                if isinstance(r, Mapping) and r.get("state")
            ]
            detail = f"{host} -> {port['port']} {state_word('merge', str(port.get('status')))}"
            if states:
                detail += (
                    " (" + ", ".join(state_word("verify", s) for s in dict.fromkeys(states)) + ")"
                )
            evidence = Check(flow, port["port"], status, "verify", _clip(detail), host, file)
            made = True
            yield Record(flow, requirement, evidence)
    status = MATRIX_STATUSES.get(str(item.get("status")))
    if not made and status is not None:
        reason = _text(item.get("reason")) or ""
        said = state_word("merge", str(item.get("status")))
        detail = " ".join(filter(None, [said, f"({reason})" if reason else ""]))
        check = Check(flow, None, status, "verify", _clip(detail), None, file)
        yield Record(flow, requirement, check)


def _negative_case(item: Mapping[str, Any]) -> bool:
    return item.get("variant") not in _PLANNED_VARIANTS


def _audited_firewalls(document: Any) -> tuple[str, ...] | None:
    """What an audit judged: ``"target": "firewall fw-back"`` -> ("fw-back",).

    A host's own rules judge no firewall of the path: (). No target: the whole path.
    """
    target = document.get("target") if isinstance(document, Mapping) else None
    if not isinstance(target, str):
        return None
    kind, _space, name = target.partition(" ")
    if kind == "firewall" and name:
        return (name,)
    return ()


def _records(
    kind: Kind, item: Mapping[str, Any], file: str, covers: tuple[str, ...] | None
) -> Iterable[Record]:
    flow = _flow_id(item)
    if flow is None:
        return
    if kind == "verify":
        status, detail = _verify(item)
    elif kind == "audit":
        status, detail = _audit(item)
    else:
        status, detail = _verdict(item, LAB_VERDICTS)
    if status is None:
        return
    requirement = _text(item.get("requirement"))
    for port in _ports(item):
        where = f"{covers[0]}: " if covers else ""
        evidence = Check(flow, port, status, kind, _clip(where + detail), None, file, covers)
        yield Record(flow, requirement, evidence)


def _verify(item: Mapping[str, Any]) -> tuple[Status | None, str]:
    state = _text(item.get("state"))
    if state is None or state not in VERIFY_STATES:
        return None, ""
    status = VERIFY_STATES[state]
    destination = item.get("destination")
    where = []
    if isinstance(destination, Mapping):
        where = [str(destination.get(k)) for k in ("address", "port") if destination.get(k)]
    detail = " ".join(filter(None, [":".join(where), state_word("verify", state), _reason(item)]))
    findings = [str(f) for f in item.get("findings") or () if f]
    if findings and status == "proven":
        status = "failing"
    if findings:
        detail += "; " + "; ".join(findings)
    return status, detail


def _audit(item: Mapping[str, Any]) -> tuple[Status | None, str]:
    """An audit flow line: its ``status`` and the decisions of the ruleset."""
    status_text = _text(item.get("status"))
    if status_text is None or status_text not in AUDIT_STATUSES:
        return _verdict(item, VERDICTS)
    decisions: dict[str, None] = {}
    for part in item.get("parts") or ():
        if isinstance(part, Mapping):
            for fate in part.get("fates") or ():
                if isinstance(fate, Mapping) and isinstance(fate.get("decision"), str):
                    decisions.setdefault(fate["decision"], None)
    detail = " ".join([state_word("audit", status_text), *(f"({d})" for d in decisions)])
    return AUDIT_STATUSES[status_text], detail


def _verdict(item: Mapping[str, Any], table: Mapping[str, Status]) -> tuple[Status | None, str]:
    verdict = _text(item.get("verdict"))
    if verdict is None:
        return None, ""
    status = table.get(verdict.lower(), VERDICTS.get(verdict.lower()))
    if status is None:
        return None, ""
    state = _text(item.get("state"))
    extra = [state_word("verify", state) if state else "", _reason(item)]
    rule = item.get("rule")
    if isinstance(rule, Mapping):
        rule = rule.get("text") or rule.get("id") or rule.get("name")
    if rule:
        extra.append(_("rule {rule}").format(rule=rule))
    return status, " ".join(filter(None, [state_word("lab", verdict), *extra]))


def _reason(item: Mapping[str, Any]) -> str:
    for key in ("reason", "detail", "details", "message"):
        value = item.get(key)
        if isinstance(value, str) and value:
            return f"({value})"
        if isinstance(value, list) and value:
            return "(" + "; ".join(str(v) for v in value) + ")"
    return ""
