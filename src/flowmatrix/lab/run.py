"""Run the lab: build it, load the rules, listen, probe, judge, and always tear it down."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Literal

from flowmatrix.errors import UserError
from flowmatrix.lab.addressing import build_address_plan
from flowmatrix.lab.cases import Case, Skipped, build_cases
from flowmatrix.lab.topology import LabTopology, build_topology, interface_names, load_rules
from flowmatrix.model import Flow, FlowEnd, HostRef, Plan
from flowmatrix.netns import NamespaceSet, kernel_support
from flowmatrix.probe.listen import ListenEvent, ListenPort, ListenSession, ListenSetup
from flowmatrix.probe.netns_thread import enter_netns
from flowmatrix.probe.results import ProbeResult
from flowmatrix.probe.runner import ProbeOptions, run_probes
from flowmatrix.probe.targets import ProbeTarget

Verdict = Literal["pass", "blocked", "leak", "error"]
Progress = Callable[[str], None]
#: Name prefix of everything the lab creates.
PREFIX = "fmlab-"
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

    @property
    def planned(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if r.case.planned)

    @property
    def unplanned(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.case.planned)

    @property
    def failed(self) -> bool:
        return any(not r.ok for r in self.results)

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
        }

    def summary_line(self) -> str:
        c = self.counts()
        verdict = "FAILED" if self.failed else "OK"
        return (
            f"lab {verdict}: {c['passed']}/{c['planned']} planned probes passed, "
            f"{c['unplanned_blocked']}/{c['unplanned']} unplanned probes blocked, "
            f"{c['skipped']} flows skipped, {len(self.firewalls)} firewalls, "
            f"{self.duration:.1f} s"
        )


def _judge(case: Case, result: ProbeResult, arrived: bool) -> CaseResult:
    latency = result.latency_ms
    if result.state == "error":
        return CaseResult(case, "error", False, result.state, result.reason, latency)
    if case.planned:
        if result.state == "open":
            return CaseResult(case, "pass", True, result.state, result.reason, latency)
        if arrived:
            why = "the listener received it but no answer came back: the return path is blocked"
        elif result.state in ("filtered", "open|filtered"):
            why = "no answer, and nothing reached the listener: dropped on the way"
        else:
            why = result.reason
        return CaseResult(case, "blocked", not case.required, result.state, why, latency)
    if result.state in _REACHED or arrived:
        why = (
            f"it reached the destination: {result.reason}"
            if result.state in _REACHED
            else "the listener at the destination received it"
        )
        return CaseResult(case, "leak", False, result.state, why, latency)
    return CaseResult(
        case,
        "blocked",
        True,
        result.state,
        "no answer, and nothing reached the listener",
        latency,
    )


def _target(case: Case) -> ProbeTarget:
    return ProbeTarget(
        flow_id=case.id,
        requirement=case.flow,
        required=case.required,
        source_role=case.source_label,
        source_host=None,
        source_address=case.source_address,
        destination_role=case.destination_label,
        host=case.destination_label,
        address=case.destination_address,
        port=case.port,
        protocol=case.protocol,
        service=case.service,
        tls=False,
        server_name=None,
    )


def _synthetic_flow(case: Case) -> Flow:
    """A stand-in flow for an unplanned case, so the listener answers its marker."""
    return Flow(
        id=case.id,
        requirement="unplanned",
        source=FlowEnd(
            "unplanned",
            case.source_label,
            case.source_zone,
            (HostRef(case.source_label, (case.source_address,)),),
        ),
        destination=FlowEnd(
            "unplanned",
            case.destination_label,
            case.destination_zone,
            (HostRef(case.destination_label, (case.destination_address,)),),
        ),
        protocol=case.protocol,  # type: ignore[arg-type]
        ports=(case.port,),
        firewalls=case.firewalls,
        description=f"unplanned ({case.variant}) derived from {case.flow}",
    )


def listen_setups(plan: Plan, cases: list[Case]) -> dict[str, ListenSetup]:
    """zone -> listeners for every destination address and port of the cases in it."""
    flows = {f.id: f for f in plan.flows}
    by_zone: dict[str, list[Case]] = {}
    for case in cases:
        by_zone.setdefault(case.destination_zone, []).append(case)
    setups = {}
    for zone, zone_cases in by_zone.items():
        ports: dict[tuple[str, int], list[str]] = {}
        zone_flows: dict[str, Flow] = {}
        for case in zone_cases:
            ids = ports.setdefault((case.protocol, case.port), [])
            if case.id not in ids:
                ids.append(case.id)
            zone_flows[case.id] = flows[case.id] if case.planned else _synthetic_flow(case)
        setups[zone] = ListenSetup(
            label=f"lab zone {zone}",
            flows=tuple(zone_flows.values()),
            ports=tuple(ListenPort(p, n, tuple(ids)) for (p, n), ids in sorted(ports.items())),
            addresses=tuple(dict.fromkeys(c.destination_address for c in zone_cases)),
        )
    return setups


class _Listener:
    """A ``ListenSession`` running in a thread moved into a zone namespace."""

    def __init__(self, namespace: str, setup: ListenSetup) -> None:
        self.namespace = namespace
        self.session = ListenSession(setup, strict=True)
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._body, name=f"lab-listen-{namespace}", daemon=True
        )

    def _body(self) -> None:
        try:
            enter_netns(self.namespace)
            asyncio.run(self.session.run(None, ready=lambda _b: self.ready.set()))
        except BaseException as exc:  # handed to the main thread by wait_ready
            self.error = exc
            self.ready.set()

    def start(self) -> None:
        self.thread.start()

    def wait_ready(self, timeout: float = 10.0) -> None:
        if not self.ready.wait(timeout):
            raise UserError(f"lab listener in {self.namespace} did not start")
        if self.error is not None:
            raise UserError(f"lab listener in {self.namespace}: {self.error}")

    def stop(self) -> None:
        self.session.stop()
        if self.thread.is_alive():
            self.thread.join(timeout=5.0)

    @property
    def events(self) -> list[ListenEvent]:
        return list(self.session.events)


def _probe_zones(
    namespaces: dict[str, str], targets: dict[str, list[ProbeTarget]], options: ProbeOptions
) -> list[ProbeResult]:
    """Run each zone's probes in a thread inside that zone's namespace, all at once."""
    results: dict[str, list[ProbeResult]] = {}
    errors: list[BaseException] = []

    def body(zone: str) -> None:
        try:
            enter_netns(namespaces[zone])
            results[zone] = run_probes(targets[zone], options)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=body, args=(zone,), name=f"lab-probe-{zone}", daemon=True)
        for zone in targets
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise UserError(f"lab probes failed: {errors[0]}")
    return [r for zone in targets for r in results.get(zone, [])]


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt like Ctrl-C, so the clean-up runs either way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _rulesets(
    plan: Plan, options: LabOptions
) -> tuple[dict[str, str], list[FirewallSetup], list[str]]:
    from flowmatrix.rules import Scope, generate

    texts: dict[str, str] = {}
    setups: list[FirewallSetup] = []
    warnings: list[str] = []
    for firewall in plan.site.firewalls:
        names = interface_names(firewall)
        given = options.rulesets.get(firewall.name)
        if given is not None:
            texts[firewall.name] = given
            rules = sum(1 for line in given.splitlines() if " accept" in line)
            setups.append(FirewallSetup(firewall.name, "file", names, rules))
            continue
        output = generate(plan, Scope("firewall", firewall.name), "nftables", interfaces=names)
        if output.errors:
            raise UserError(
                f"the rules of {firewall.name} miss planned flows: "
                + "; ".join(str(e) for e in output.errors[:3])
            )
        warnings.extend(f"{firewall.name}: {f}" for f in output.warnings)
        texts[firewall.name] = output.text
        setups.append(FirewallSetup(firewall.name, "generated", names, output.rules))
    return texts, setups, list(dict.fromkeys(warnings))


def run_lab(
    plan: Plan, options: LabOptions | None = None, progress: Progress | None = None
) -> LabReport:
    """Rehearse ``plan`` in network namespaces; everything created is removed on return."""
    options = options or LabOptions()
    reason = kernel_support()
    if reason is not None:
        raise UserError(
            f"the lab cannot run here: {reason}",
            hint="run 'flowmatrix lab' as root on Linux with iproute2 and nftables",
        )
    unknown = sorted(set(options.rulesets) - {f.name for f in plan.site.firewalls})
    if unknown:
        raise UserError(
            f"--rules names unknown firewall {unknown[0]!r}",
            hint="firewalls: " + ", ".join(f.name for f in plan.site.firewalls),
        )
    started = time.monotonic()
    addresses = build_address_plan(plan)
    cases, skipped = build_cases(plan, addresses, options.unplanned_per_flow)
    addresses.plan_transit()
    texts, firewalls, warnings = _rulesets(plan, options)
    setups = listen_setups(plan, cases)
    probe_options = ProbeOptions(
        timeout=options.timeout, retries=1, two_ended=True, check_tls=False, concurrency=512
    )
    listeners: list[_Listener] = []
    with _terminate_as_interrupt(), NamespaceSet(prefix=f"{PREFIX}{uuid.uuid4().hex[:6]}") as made:
        try:
            lab = build_topology(plan.site, addresses, made, progress)
            for name, text in texts.items():
                try:
                    load_rules(lab.firewalls[name], text)
                except UserError as exc:
                    raise UserError(
                        f"nft refused the rules of firewall {name}: {exc.message}",
                        hint="check the file given with --rules"
                        if name in options.rulesets
                        else None,
                    ) from None
            listeners = [_Listener(lab.zones[zone].name, s) for zone, s in setups.items()]
            for listener in listeners:
                listener.start()
            for listener in listeners:
                listener.wait_ready()
            if progress:
                progress(f"lab: probing {len(cases)} cases")
            results = _run_cases(lab, cases, probe_options)
        finally:
            for listener in listeners:
                listener.stop()
        count = len(made.namespaces)
    arrivals = {
        (e.source_address, e.local_address, e.protocol, e.port)
        for listener in listeners
        for e in listener.events
    }
    judged = tuple(
        _judge(
            case,
            result,
            (case.source_address, case.destination_address, case.protocol, case.port) in arrivals,
        )
        for case, result in zip(cases, results, strict=True)
    )
    return LabReport(
        plan.site.name,
        judged,
        tuple(skipped),
        tuple(firewalls),
        tuple(warnings),
        time.monotonic() - started,
        count,
    )


def _run_cases(lab: LabTopology, cases: list[Case], options: ProbeOptions) -> list[ProbeResult]:
    """Probe results in the order of ``cases``."""
    by_zone: dict[str, list[ProbeTarget]] = {}
    order: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        by_zone.setdefault(case.source_zone, []).append(_target(case))
        order.setdefault(case.source_zone, []).append(index)
    namespaces = {zone: lab.zones[zone].name for zone in by_zone}
    flat = _probe_zones(namespaces, by_zone, options)
    results: list[ProbeResult | None] = [None] * len(cases)
    position = 0
    for zone in by_zone:
        for index in order[zone]:
            results[index] = flat[position]
            position += 1
    return [r for r in results if r is not None]


def parse_rules_overrides(items: Iterable[str], plan: Plan) -> dict[str, str]:
    """``FIREWALL=FILE`` options -> firewall -> nftables text."""
    from pathlib import Path

    found: dict[str, str] = {}
    names = {f.name for f in plan.site.firewalls}
    for item in items:
        name, sep, path = str(item).partition("=")
        if not sep or not name or not path:
            raise UserError(f"--rules {item!r}: expected FIREWALL=FILE")
        if name not in names:
            raise UserError(
                f"--rules: unknown firewall {name!r}", hint="firewalls: " + ", ".join(sorted(names))
            )
        try:
            found[name] = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"--rules: cannot read {path}: {exc}") from None
    return found
