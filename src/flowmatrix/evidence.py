"""The way back from every check to the matrix: one status scale for a flow port, one
``Check`` record, and how checks combine into a port's and a flow's status.

Each producer (``verify``, ``listen``, ``lab``, ``audit``, ``merge``) turns its own
results into checks beside its own states, with the tables below, and writes them in its
JSON document (``"checks": [...]``); ``report`` reads them from any document.

The scale:

* ``proven``: the flow port works, as checked;
* ``failing``: it does not (a failed probe, a blocked verdict, a finding such as an
  expired certificate on an open port);
* ``depends``: neither proven nor disproven (a conditional verdict, a UDP port with no
  answer, an audit of one firewall of several);
* ``not-tested``: no check spoke about it;
* ``not-applicable``: the check does not concern it (a probe from a host to itself).

How they combine, per port first, then per flow:

* a check that says "not tested" is no evidence: it is ignored when any other check
  speaks about the same port;
* an audit judges one firewall's rules (``covers``): its "proven" proves a port only
  when the audits of every firewall on the flow's path prove it; until then it counts as
  depends;
* a live check made from one of the flow's source hosts speaks for that host only, and
  for the destination it reached (``destination``: one address of a cluster): from that
  host, the port is proven when every destination it reached is proven. A live check
  from a host that is not a source of the flow proves nothing (it still shows when it
  fails);
* per port: failing if any check fails (a contradiction must show); else proven if a
  check that speaks for every source proves the path (an audit of the whole path, a lab
  case, a live check from no named host), or if it is proven from every source host
  that has evidence about it; else depends if anything speaks, else not tested. A host
  whose only checks do not apply to it (a probe to itself) is left out;
* per flow: proven when every port is proven, failing when any port fails, not tested
  when no port was tested, depends otherwise.

``merge`` judges the fleet's results with these same rules; its words (passed, failed,
incomplete, inconclusive) are its own names for this scale.

Standard library only: the remote probe of ``fleet`` writes verify documents with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from flowmatrix.i18n import N_, Lang, current, pgettext
from flowmatrix.records import quick_init

Scale = Literal["proven", "failing", "depends", "not-tested"]
"""What a port or a flow is, once its checks are combined."""
Status = Scale | Literal["not-applicable"]
"""What one check says."""
Kind = Literal["verify", "listen", "lab", "audit", "merge"]
#: Worst first: the order used to sort by status and to pick a diagram edge's colour.
STATUSES: tuple[Scale, ...] = ("failing", "depends", "not-tested", "proven")
KINDS: tuple[Kind, ...] = get_args(Kind)
#: Every status a check may say.
CHECK_STATUSES: tuple[str, ...] = (*get_args(Scale), "not-applicable")

#: How each status is named for people (``_()`` it where it is shown).
STATUS_LABELS: dict[str, str] = {
    "proven": N_("Proven"),
    "failing": N_("Failing"),
    "depends": N_("Depends"),
    "not-tested": N_("Not tested"),
    "not-applicable": N_("Not applicable"),
}

#: What each producer's own words say on the scale.
STATUS_OF: dict[str, dict[str, Status]] = {
    "verify": {  # probe states (probe/results.py)
        "open": "proven",
        "closed": "failing",  # a firewall's TCP reset looks the same: not a proof of a pass
        "filtered": "failing",
        "unreachable": "failing",
        "unresolved": "failing",
        "error": "failing",
        "open|filtered": "depends",  # UDP without an answer: neither proven nor disproven
        "not_probed": "not-tested",
    },
    "audit": {  # flow statuses (audit/result.py)
        "allowed": "proven",
        "blocked": "failing",
        "partial": "failing",  # some of the flow's packets are blocked: it does not work
        "depends": "depends",
        "unresolved": "depends",
    },
    "lab": {  # verdicts of the planned cases (lab/session.py)
        "pass": "proven",
        "blocked": "failing",
        "leak": "failing",
        "error": "depends",  # the rehearsal itself failed: neither proven nor disproven
    },
    "merge": {  # per flow, source host and port (fleet/merge.py)
        "passed": "proven",
        "failed": "failing",
        "inconclusive": "depends",
        "incomplete": "depends",
        "not_tested": "not-tested",
        "not_applicable": "not-applicable",
    },
    "listen": {  # did a planned flow arrive (probe/listen.py)
        "arrived": "proven",
        "missing": "not-tested",  # nothing came: nobody may have sent it
    },
}


def _state_words() -> dict[str, dict[str, str]]:
    """Each producer's own words (its keys of :data:`STATUS_OF`) as people read them, in
    the current language; the documents keep the codes."""
    return {
        "verify": {
            "open": pgettext("probe state", "open"),
            "closed": pgettext("probe state", "closed"),
            "filtered": pgettext("probe state", "filtered"),
            "unreachable": pgettext("probe state", "unreachable"),
            "open|filtered": pgettext("probe state", "open|filtered"),
            "unresolved": pgettext("probe state", "unresolved"),
            "error": pgettext("probe state", "error"),
            "not_probed": pgettext("probe state", "not_probed"),
        },
        "audit": {
            "allowed": pgettext("audit status", "allowed"),
            "blocked": pgettext("audit status", "blocked"),
            "partial": pgettext("audit status", "partial"),
            "depends": pgettext("audit status", "depends"),
            "unresolved": pgettext("audit status", "unresolved"),
        },
        "lab": {
            "pass": pgettext("lab verdict", "pass"),
            "blocked": pgettext("lab verdict", "blocked"),
            "leak": pgettext("lab verdict", "leak"),
            "error": pgettext("lab verdict", "error"),
            "blocked!": pgettext("lab verdict", "blocked!"),
            "skipped": pgettext("lab verdict", "skipped"),
            "skipped!": pgettext("lab verdict", "skipped!"),
        },
        "merge": {
            "passed": pgettext("merge status", "passed"),
            "failed": pgettext("merge status", "failed"),
            "incomplete": pgettext("merge status", "incomplete"),
            "not_tested": pgettext("merge status", "not_tested"),
            "inconclusive": pgettext("merge status", "inconclusive"),
            "not_applicable": pgettext("merge status", "not_applicable"),
        },
    }


_WORDS: dict[Lang, dict[str, dict[str, str]]] = {}


def state_words(kind: str) -> dict[str, str]:
    """Every word of one producer (``verify``, ``audit``, ``lab``, ``merge``) in the
    current language, looked up once per language: a table of 10,000 results asks once."""
    lang = current()
    words = _WORDS.get(lang)
    if words is None:
        words = _WORDS[lang] = _state_words()
    return words.get(kind, {})


def state_word(kind: str, code: str) -> str:
    """One producer's state, status or verdict as people read it (the code when unknown)."""
    return state_words(kind).get(code, code)


def probe_status(state: str, findings: bool) -> Status:
    """A probe result's status: its state's, and failing when it has a finding (an
    expired certificate, a wrong name): the one rule for a failed result."""
    status = STATUS_OF["verify"].get(state, "depends")
    return "failing" if findings else status


class CheckError(ValueError):
    """A ``checks`` line that is not one."""


@quick_init
@dataclass(frozen=True, slots=True)
class Check:
    """What one check says about one flow port (or every port of the flow)."""

    flow: str
    port: int | None
    """The port it is about; None when it speaks for every port of the flow."""
    status: Status
    kind: Kind
    detail: str
    """What the check said, in its own words (state and reason, verdict and rule...)."""
    source_host: str | None = None
    """The host it was made from (a live check), when known."""
    where: str = ""
    """The document it was read from (empty for a check made in this process)."""
    covers: tuple[str, ...] | None = None
    """The firewalls whose rules it judged (an audit); None: the whole path (a live test)."""
    destination: str | None = None
    """The destination it reached (an address, or a host's name), when it names one."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "port": self.port,
            "status": self.status,
            "kind": self.kind,
            "detail": self.detail,
            "source_host": self.source_host,
            "covers": None if self.covers is None else list(self.covers),
            "destination": self.destination,
        }

    @classmethod
    def from_dict(cls, data: object, where: str = "") -> Check:
        """A check line of a document, or ``CheckError`` saying what is wrong with it."""
        if not isinstance(data, Mapping):
            raise CheckError("a check is not an object")
        flow, port, status, kind = (data.get(k) for k in ("flow", "port", "status", "kind"))
        if not isinstance(flow, str) or not flow:
            raise CheckError("'flow' is missing")
        if port is not None and (
            not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535
        ):
            raise CheckError(f"{flow}: 'port' {port!r} is not a port")
        if status not in CHECK_STATUSES:
            raise CheckError(f"{flow}: unknown status {status!r}")
        if kind not in KINDS:
            raise CheckError(f"{flow}: unknown kind {kind!r}")
        covers = data.get("covers")
        if covers is not None and (
            not isinstance(covers, list) or not all(isinstance(c, str) for c in covers)
        ):
            raise CheckError(f"{flow}: 'covers' is not a list of firewall names")
        host = data.get("source_host")
        detail = data.get("detail")
        destination = data.get("destination")
        return cls(
            flow,
            port,
            cast(Status, status),
            kind,
            detail if isinstance(detail, str) else "",
            host if isinstance(host, str) else None,
            where,
            None if covers is None else tuple(covers),
            destination if isinstance(destination, str) else None,
        )


def checks_in(document: Mapping[str, Any], where: str = "") -> list[Check]:
    """The ``checks`` of a flowmatrix document, each line strictly read (``CheckError``
    names the first that is not a check); empty when it has none."""
    listed = document.get("checks")
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise CheckError("'checks' is not a list")
    found = []
    for index, item in enumerate(listed):
        try:
            found.append(Check.from_dict(item, where))
        except CheckError as exc:
            raise CheckError(f"checks[{index}]: {exc}") from None
    return found


def port_status(
    checks: Iterable[Check], path: tuple[str, ...] = (), sources: Iterable[str] = ()
) -> Scale:
    """The status of one port of a flow whose path crosses the firewalls ``path`` and
    whose probes run from the source hosts ``sources`` (``Plan.probe_sources``)."""
    per_host: dict[str, list[Check]] = {host: [] for host in sources}
    general: list[Check] = []
    elsewhere_fails = False  # a live check from a host that is not a source of the flow
    for check in checks:
        if check.source_host is not None and per_host:
            own = per_host.get(check.source_host)
            if own is not None:
                own.append(check)
            else:
                elsewhere_fails = elsewhere_fails or check.status == "failing"
        elif check.status != "not-applicable":
            general.append(check)
    overall = "failing" if elsewhere_fails else _speaking_for_all(general, path)
    return sources_status(overall, map(source_port_status, per_host.values()))


def sources_status(overall: Scale, hosts: Iterable[Status]) -> Scale:
    """A port from what speaks for every source (``overall``) and what each source host
    says of it (its :func:`source_port_status`): the last step of :func:`port_status`, for
    a caller (``merge``) that has the hosts' statuses already."""
    hosts = [s for s in hosts if s != "not-applicable"]
    if overall == "failing" or "failing" in hosts:
        return "failing"
    if overall == "proven":
        return "proven"
    if all(s == "not-tested" for s in hosts):  # no evidence from any source host
        return overall
    if all(s == "proven" for s in hosts):
        return "proven"
    return "depends"


def source_port_status(checks: Iterable[Check]) -> Status:
    """A port from one source host, from the checks made there: failing if one fails,
    proven when every destination reached is proven, not tested when nothing speaks,
    not applicable when no check applies (the destination is the host itself)."""
    items = list(checks)
    applicable = [c for c in items if c.status != "not-applicable"]
    if not applicable:
        return "not-applicable" if items else "not-tested"
    per_destination: dict[str | None, set[Status]] = {}
    for check in applicable:
        per_destination.setdefault(check.destination, set()).add(check.status)
    reached = [_strongest(found) for found in per_destination.values()]
    if "failing" in reached:
        return "failing"
    if all(s == "not-tested" for s in reached):
        return "not-tested"
    return "proven" if all(s == "proven" for s in reached) else "depends"


def _strongest(found: set[Status]) -> Scale:
    for status in _ORDER:
        if status in found:
            return status
    return "not-tested"


#: What one place says when several checks speak of it: a failure shows, then a proof.
_ORDER: tuple[Scale, ...] = ("failing", "proven", "depends")


def _speaking_for_all(items: list[Check], path: tuple[str, ...]) -> Scale:
    """The checks that speak for every source (audits, lab cases, unnamed live checks)."""
    covered: set[str] = set()
    for c in items:
        if c.status == "proven" and c.covers is not None:
            covered.update(c.covers)
    whole_path = set(path) <= covered
    found: set[Status] = {
        "depends" if c.status == "proven" and c.covers is not None and not whole_path else c.status
        for c in items
    }
    return _strongest(found)


def flow_status(port_statuses: Iterable[Scale]) -> Scale:
    found = set(port_statuses)
    if not found or found == {"not-tested"}:
        return "not-tested"
    if "failing" in found:
        return "failing"
    if found == {"proven"}:
        return "proven"
    return "depends"
