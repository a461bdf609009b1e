"""Reading the documents ``merge`` folds: ``flowmatrix verify --format json`` (one per
source host), whose results it merges, and any other flowmatrix document with checks
(``listen``, ``audit``, ``lab``), whose checks it carries to ``report``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowmatrix.documents import DocumentError, read_header
from flowmatrix.errors import UserError
from flowmatrix.evidence import Check, CheckError, checks_in
from flowmatrix.i18n import N_, _
from flowmatrix.inputfile import parse_json, read_input_text

_HINT = N_(
    "give the JSON files written by 'flowmatrix verify --format json' or 'flowmatrix fleet' "
    "(listen, audit and lab documents are carried along)"
)


@dataclass(frozen=True, slots=True)
class ProbeLine:
    """One probe result: one flow, from one source host, to one address and port."""

    file: str
    flow: str
    source_host: str | None
    destination_host: str | None
    address: str | None
    """The probed address, or the FQDN when nothing was resolved."""
    port: int | None
    state: str
    reason: str
    latency_ms: float | None
    findings: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str | None, str | None, int | None]:
        return (self.flow, self.source_host, self.address, self.port)


@dataclass(frozen=True)
class ResultDocument:
    """One verify document."""

    path: str
    site: str
    source: str
    evidence: tuple[ProbeLine, ...]
    warnings: tuple[str, ...] = ()
    """The run's own warnings (e.g. the planned source address is not on that host)."""
    kind: str = "verify"
    """The document's kind (its head)."""
    checks: tuple[Check, ...] = ()
    """The checks of a document that is not a verify one, carried along."""

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.source_host for e in self.evidence if e.source_host))


def _field(
    data: Mapping[str, Any], key: str, kinds: tuple[type, ...], where: str, path: str
) -> Any:
    value = data.get(key)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise UserError(
            _("{where}: {key} is missing or has the wrong type").format(where=where, key=repr(key)),
            file=path,
            hint=_(_HINT),
        )
    return value


def _evidence(item: Any, index: int, path: str) -> ProbeLine:
    where = f"results[{index}]"
    if not isinstance(item, dict):
        raise UserError(_("{where} is not an object").format(where=where), file=path, hint=_(_HINT))
    source = _field(item, "source", (dict,), where, path)
    destination = _field(item, "destination", (dict,), where, path)
    host = _field(source, "host", (str, type(None)), f"{where}.source", path)
    port = _field(destination, "port", (int, type(None)), f"{where}.destination", path)
    address = _field(destination, "address", (str, type(None)), f"{where}.destination", path)
    fqdn = destination.get("fqdn")
    findings = _field(item, "findings", (list,), where, path)
    latency = item.get("latency_ms")
    return ProbeLine(
        file=path,
        flow=_field(item, "flow", (str,), where, path),
        source_host=host,
        destination_host=_field(
            destination, "host", (str, type(None)), f"{where}.destination", path
        ),
        address=address if address is not None else (fqdn if isinstance(fqdn, str) else None),
        port=port,
        state=_field(item, "state", (str,), where, path),
        reason=_field(item, "reason", (str,), where, path),
        latency_ms=float(latency) if isinstance(latency, int | float) else None,
        findings=tuple(str(f) for f in findings),
    )


def parse_result_document(text: str, path: str) -> ResultDocument:
    data = parse_json(text, path, hint=_(_HINT))
    try:
        head = read_header(data)
    except DocumentError as exc:
        raise UserError(str(exc), file=path, hint=exc.hint) from None
    if head is not None and head.kind != "verify" and "checks" in data:
        try:
            checks = tuple(checks_in(data, path))
        except CheckError as exc:
            raise UserError(str(exc), file=path, hint=_(_HINT)) from None
        source = str(data.get("target") or data.get("as") or head.kind)
        return ResultDocument(path, head.site or "", source, (), kind=head.kind, checks=checks)
    if head is None or head.kind != "verify":
        found = data.get("format") if isinstance(data, dict) else None
        raise UserError(
            _("not a verify result document (format {found}, expected flowmatrix-verify/1)").format(
                found=repr(found)
            ),
            file=path,
            hint=_(_HINT),
        )
    results = _field(data, "results", (list,), "document", path)
    warnings = data.get("warnings")
    return ResultDocument(
        path=path,
        site=str(data.get("site", "")),
        source=str(data.get("source", "")),
        evidence=tuple(_evidence(item, i, path) for i, item in enumerate(results)),
        warnings=tuple(str(w) for w in warnings) if isinstance(warnings, list) else (),
    )


def read_result_file(path: str | Path) -> ResultDocument:
    shown = str(path)
    if not Path(path).exists():
        raise UserError(_("no such file: {path}").format(path=shown), hint=_(_HINT))
    if Path(path).is_dir():
        raise UserError(
            _("{path} is a folder").format(path=shown),
            hint=_("give the result files, e.g. DIR/*.json"),
        )
    text = read_input_text(path, what=N_("result file"))
    return parse_result_document(text, shown)
