"""Run the lab: build it, load the rules, listen, probe, judge, and always tear it down."""

from __future__ import annotations

import contextlib
import functools
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from flowmatrix.errors import UserError
from flowmatrix.evidence import STATUS_OF, Check
from flowmatrix.i18n import N_, _, ngettext
from flowmatrix.inputfile import read_input_text
from flowmatrix.lab.addressing import build_address_plan
from flowmatrix.lab.cases import Case, Skipped, build_cases
from flowmatrix.lab.daemons import Daemons
from flowmatrix.lab.debris import PREFIX
from flowmatrix.lab.interrupts import InterruptGuard
from flowmatrix.lab.namespaces import LabTopology, build_topology, interface_names, load_rules
from flowmatrix.lab.naming import resolve_cases, start_name_service
from flowmatrix.lab.proxy import start_proxy
from flowmatrix.lab.traffic import Listener, ZoneThread, listen_setups, run_cases, stop_all
from flowmatrix.lab.translation import with_translated_sources
from flowmatrix.model import Plan
from flowmatrix.netns import NamespaceSet, each_at_once, kernel_support
from flowmatrix.probe.results import ProbeResult
from flowmatrix.probe.scheduler import ProbeOptions

Verdict = Literal["pass", "blocked", "leak", "error"]
Progress = Callable[[str], None]
#: States in which a packet reached the destination namespace (nothing in the lab
#: answers with a reset but the destination's own stack).
_REACHED = frozenset({"open", "closed"})


@dataclass(frozen=True)
class LabOptions:
    timeout: float = 1.0
    """Seconds a probe waits for an answer: blocked probes take this long."""
    unplanned_per_flow: int = 3
    rulesets: Mapping[str, str] = field(default_factory=dict)
    """firewall -> nftables script to load instead of the generated one."""


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    verdict: Verdict
    ok: bool
    state: str
    reason: str
    latency_ms: float | None = None

    def check(self) -> Check | None:
        """What a planned case says on the scale of every check (None for the other
        cases: they try what must stay closed)."""
        if not self.case.planned:
            return None
        reason = f"({self.reason})" if self.reason else ""
        detail = " ".join(filter(None, [self.verdict, self.state, reason]))
        status = STATUS_OF["lab"][self.verdict]
        return Check(self.case.flow, self.case.port, status, "lab", detail)


@dataclass(frozen=True)
class FirewallSetup:
    name: str
    source: str
    """'generated' or 'file'."""
    interfaces: dict[str, str]
    rules: int


@dataclass(frozen=True)
class LabReport:
    site: str
    results: tuple[CaseResult, ...]
    skipped: tuple[Skipped, ...]
    firewalls: tuple[FirewallSetup, ...]
    warnings: tuple[str, ...]
    duration: float
    namespaces: int
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds of each phase: build, rules, names, listen, probe, teardown."""
    site_digest: str | None = None

    @property
    def planned(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if r.case.planned)

    @property
    def unplanned(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.case.planned)

    @property
    def failures_skipped(self) -> tuple[Skipped, ...]:
        """Requested flows the lab could not rehearse: each one fails the run."""
        return tuple(s for s in self.skipped if s.failure)

    @property
    def failed(self) -> bool:
        return any(not r.ok for r in self.results) or bool(self.failures_skipped)

    def counts(self) -> dict[str, int]:
        planned, unplanned = self.planned, self.unplanned
        return {
            "planned": len(planned),
            "passed": sum(r.verdict == "pass" for r in planned),
            "blocked": sum(r.verdict != "pass" for r in planned),
            "unplanned": len(unplanned),
            "unplanned_blocked": sum(r.verdict == "blocked" for r in unplanned),
            "leaks": sum(r.verdict != "blocked" for r in unplanned),
            "skipped": len(self.skipped),
            "skipped_failures": len(self.failures_skipped),
            "not_requested": sum(r.case.variant == "not-requested" for r in unplanned),
        }

    def summary_line(self) -> str:
        """The run in one line, in the current language."""
        c = self.counts()
        planned = ngettext(
            "{passed}/{planned} planned probes passed",
            "{passed}/{planned} planned probes passed",
            c["planned"],
        ).format(passed=c["passed"], planned=c["planned"])
        unplanned = ngettext(
            "{blocked}/{unplanned} unplanned probes blocked",
            "{blocked}/{unplanned} unplanned probes blocked",
            c["unplanned"],
        ).format(blocked=c["unplanned_blocked"], unplanned=c["unplanned"])
        if c["not_requested"]:
            unplanned += " " + ngettext(
                "({n} of flows not requested)", "({n} of flows not requested)", c["not_requested"]
            ).format(n=c["not_requested"])
        skipped = ngettext("{n} flows skipped", "{n} flows skipped", c["skipped"]).format(
            n=c["skipped"]
        )
        if c["skipped_failures"]:
            skipped += " " + ngettext(
                "({n} not rehearsed: failure)",
                "({n} not rehearsed: failure)",
                c["skipped_failures"],
            ).format(n=c["skipped_failures"])
        firewalls = ngettext("{n} firewalls", "{n} firewalls", len(self.firewalls)).format(
            n=len(self.firewalls)
        )
        if self.failed:
            template = _(
                "lab FAILED: {planned}, {unplanned}, {skipped}, {firewalls}, {duration:.1f} s"
            )
        else:
            template = _("lab OK: {planned}, {unplanned}, {skipped}, {firewalls}, {duration:.1f} s")
        return template.format(
            planned=planned,
            unplanned=unplanned,
            skipped=skipped,
            firewalls=firewalls,
            duration=self.duration,
        )


def _arrival(case: Case) -> tuple[str, str, str, int]:
    """What the destination's listener sees of a case: its source address, or the marker
    the probe carries where the source does not tell the cases apart: through the proxy
    (they all leave from the proxy's address), through a source NAT (from the public
    address), or sent to a public address (the same source, whichever address)."""
    if case.via is not None or case.sent_to is not None or case.seen_from is not None:
        source = f"marker:{case.id}"
    else:
        source = case.source_address
    return source, case.destination_address, case.protocol, case.port


def _judge(
    case: Case, result: ProbeResult, arrived: bool, sources: frozenset[str] = frozenset()
) -> CaseResult:
    """``sources``: the source addresses the listener saw the case's marker from."""
    latency = result.latency_ms
    if result.state == "error":
        return CaseResult(case, "error", False, result.state, result.reason, latency)
    if case.planned:
        if result.state == "open" and case.seen_from is not None and sources - {case.seen_from}:
            why = _(
                "answered, but the destination saw it from {sources}, not "
                "{expected}: the source NAT did not apply (outside the lab, no answer "
                "would come back)"
            ).format(sources=", ".join(sorted(sources)), expected=case.seen_from)
            return CaseResult(case, "blocked", not case.required, result.state, why, latency)
        if result.state == "open":
            return CaseResult(case, "pass", True, result.state, result.reason, latency)
        if case.via is not None:
            why = result.reason
        elif arrived:
            why = _("the listener received it but no answer came back: the return path is blocked")
        elif result.state in ("filtered", "open|filtered"):
            why = _("no answer, and nothing reached the listener: dropped on the way")
        else:
            why = result.reason
        return CaseResult(case, "blocked", not case.required, result.state, why, latency)
    if result.state in _REACHED or arrived:
        why = (
            _("it reached the destination: {reason}").format(reason=result.reason)
            if result.state in _REACHED
            else _("the listener at the destination received it")
        )
        return CaseResult(case, "leak", False, result.state, why, latency)
    return CaseResult(
        case,
        "blocked",
        True,
        result.state,
        result.reason if case.via is not None else _("no answer, and nothing reached the listener"),
        latency,
    )


@dataclass
class _Rulesets:
    texts: dict[str, str] = field(default_factory=dict)
    """firewall -> the nftables script loaded into it."""
    dnsmasq: dict[str, str] = field(default_factory=dict)
    """firewall -> the dnsmasq lines filling its name sets (``rules --dnsmasq``)."""
    setups: list[FirewallSetup] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _rulesets(plan: Plan, options: LabOptions) -> _Rulesets:
    from flowmatrix.rules import Scope, generate

    found = _Rulesets()
    texts, setups, warnings = found.texts, found.setups, found.warnings
    for firewall in plan.site.firewalls:
        names = interface_names(firewall)
        output = generate(plan, Scope("firewall", firewall.name), "nftables", interfaces=names)
        found.dnsmasq[firewall.name] = output.side_files.get("dnsmasq", "")
        given = options.rulesets.get(firewall.name)
        if given is not None:
            texts[firewall.name] = given
            rules = sum(1 for line in given.splitlines() if " accept" in line)
            setups.append(FirewallSetup(firewall.name, "file", names, rules))
            continue
        if output.errors:
            raise UserError(
                _("the rules of {firewall} miss planned flows: {errors}").format(
                    firewall=firewall.name, errors="; ".join(str(e) for e in output.errors[:3])
                )
            )
        warnings.extend(f"{firewall.name}: {f}" for f in output.warnings)
        texts[firewall.name] = output.text
        setups.append(FirewallSetup(firewall.name, "generated", names, output.rules))
    found.warnings = list(dict.fromkeys(warnings))
    return found


def _firewalls_hint(names: Iterable[str]) -> str:
    return _("firewalls: {names}").format(names=", ".join(names))


def run_prefix() -> str:
    """``fmlab-<pid>-<random>``: the name prefix of one run's namespaces."""
    return f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:4]}"


def run_lab(
    plan: Plan, options: LabOptions | None = None, progress: Progress | None = None
) -> LabReport:
    """Rehearse ``plan`` in network namespaces; everything created is removed on return,
    also when SIGINT, SIGTERM or SIGHUP stop the run (it then raises
    :class:`~flowmatrix.lab.interrupts.Interrupted`, once the clean-up is done)."""
    options = options or LabOptions()
    reason = kernel_support()
    if reason is not None:
        raise UserError(
            _("the lab cannot run here: {reason}").format(reason=reason),
            hint=_("run 'flowmatrix lab' as root on Linux with iproute2 and nftables"),
        )
    unknown = sorted(set(options.rulesets) - {f.name for f in plan.site.firewalls})
    if unknown:
        raise UserError(
            _("--rules names unknown firewall {firewall!r}").format(firewall=unknown[0]),
            hint=_firewalls_hint(f.name for f in plan.site.firewalls),
        )
    with InterruptGuard.current() as guard:
        return _rehearse(plan, options, progress, guard)


def _rehearse(
    plan: Plan, options: LabOptions, progress: Progress | None, guard: InterruptGuard
) -> LabReport:
    started = time.monotonic()
    addresses = build_address_plan(plan)
    cases, skipped = build_cases(plan, addresses, options.unplanned_per_flow)
    addresses.plan_transit()
    cases = with_translated_sources(plan, addresses, cases)
    rulesets = _rulesets(plan, options)
    setups = listen_setups(plan, cases)
    probe_options = ProbeOptions(
        timeout=options.timeout, retries=1, two_ended=True, check_tls=False, concurrency=512
    )
    phases = _Phases()
    made = NamespaceSet(prefix=run_prefix(), purpose="flowmatrix lab")
    running: list[ZoneThread] = []
    listeners: list[Listener] = []
    daemons = Daemons()
    unresolved: dict[int, str] = {}

    def teardown() -> int:
        with phases("teardown"):
            for thread in running:
                thread.stop()
            daemons.stop()
            phases.namespaces = len(made.registered)
            deleted = made.close()
            stop_all(running)
        return deleted

    guard.on_cleanup(teardown)
    try:
        with phases("build"):
            lab = build_topology(plan.site, addresses, made, progress)
        with phases("rules"):
            _load_rulesets(lab, rulesets.texts, options)
        with phases("names"):
            names = start_name_service(plan.site, lab, addresses, rulesets.dnsmasq, daemons)
            proxy = start_proxy(plan, lab, addresses, names, daemons, cases)
            daemons.wait_ready()
        with phases("listen"):
            listeners = [Listener(lab.zones[zone].name, s) for zone, s in setups.items()]
            running.extend(listeners)
            for listener in listeners:
                listener.start()
            for listener in listeners:
                listener.wait_ready()
        if progress:
            progress(
                ngettext("lab: probing {n} cases", "lab: probing {n} cases", len(cases)).format(
                    n=len(cases)
                )
            )
        with phases("probe"):
            unresolved = resolve_cases(lab, cases, names)
            if proxy.problem is not None:
                unresolved.update((i, proxy.problem) for i, c in enumerate(cases) if c.via)
            namespaces = {zone: ns.name for zone, ns in lab.zones.items()}
            results = run_cases(namespaces, cases, probe_options, running)
        stop_all(listeners)
    finally:
        guard.clean_up()
    events = [e for listener in listeners for e in listener.events]
    sources: dict[tuple[str, str, str, int], set[str]] = {}
    for e in events:
        key = (f"marker:{e.marker}", e.local_address, e.protocol, e.port)
        sources.setdefault(key, set()).add(e.source_address)
    arrivals = {(e.source_address, e.local_address, e.protocol, e.port) for e in events}
    arrivals |= set(sources)
    judged = tuple(
        CaseResult(case, "error", False, "error", unresolved[index])
        if index in unresolved
        else _judge(
            case, result, _arrival(case) in arrivals, frozenset(sources.get(_arrival(case), ()))
        )
        for index, (case, result) in enumerate(zip(cases, results, strict=True))
    )
    return LabReport(
        plan.site.name,
        judged,
        tuple(skipped),
        tuple(rulesets.setups),
        tuple(rulesets.warnings),
        time.monotonic() - started,
        phases.namespaces,
        dict(phases.seconds),
        plan.site_digest,
    )


class _Phases:
    """Wall seconds of each phase of a run (``with phases("build"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.namespaces = 0

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - started, 4)


def _load_rulesets(lab: LabTopology, texts: Mapping[str, str], options: LabOptions) -> None:
    """``nft -f`` into every firewall namespace, several at once."""

    def load(name: str, text: str) -> None:
        try:
            load_rules(lab.firewalls[name], text)
        except UserError as exc:
            raise UserError(
                _("nft refused the rules of firewall {firewall}: {error}").format(
                    firewall=name, error=exc.message
                ),
                hint=_("check the file given with --rules") if name in options.rulesets else None,
            ) from None

    each_at_once([functools.partial(load, name, text) for name, text in texts.items()])


def parse_rules_overrides(items: Iterable[str], plan: Plan) -> dict[str, str]:
    """``FIREWALL=FILE`` options -> firewall -> nftables text."""

    found: dict[str, str] = {}
    names = {f.name for f in plan.site.firewalls}
    for item in items:
        name, sep, path = str(item).partition("=")
        if not sep or not name or not path:
            raise UserError(_("--rules {item!r}: expected FIREWALL=FILE").format(item=item))
        if name not in names:
            raise UserError(
                _("--rules: unknown firewall {firewall!r}").format(firewall=name),
                hint=_firewalls_hint(sorted(names)),
            )
        found[name] = read_input_text(path, what=N_("ruleset file"))
    return found
