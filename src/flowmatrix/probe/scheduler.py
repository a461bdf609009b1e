"""Run probe targets concurrently on one event loop, bounded and paced.

Progress is reported through a small protocol (``ProbeProgress``) so that the runner
knows nothing of terminals: the CLI shows a progress bar on a TTY and nothing when
piped; tests pass a list collector.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from flowmatrix.i18n import _
from flowmatrix.probe.dns_check import ResolverSpec, dns_info, same_namespace_resolution
from flowmatrix.probe.limits import share_concurrency
from flowmatrix.probe.pacing import PacketGate
from flowmatrix.probe.results import DnsInfo, Outcome, ProbeResult, TlsInfo
from flowmatrix.probe.targets import ProbeTarget
from flowmatrix.probe.tcp import exchange
from flowmatrix.probe.tcpscan import TcpRequest, TcpScan

if TYPE_CHECKING:  # UDP and two-ended probes import their modules when a run has some
    from flowmatrix.probe.udp import UdpRequest

#: Services recognised by port when the plan does not name one.
SERVICE_BY_PORT = {53: "dns", 123: "ntp", 514: "syslog", 1645: "radius", 1812: "radius"}


class ProbeProgress(Protocol):
    """Receives the run's progress (a progress bar, a log, a test's collector)."""

    def start(self, total: int) -> None: ...

    def advance(self, result: ProbeResult) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    timeout: float = 2.0
    """Seconds a probe waits for an answer (all its attempts share this budget)."""
    retries: int = 1
    """Extra attempts for unanswered probes, spaced evenly inside ``timeout``."""
    concurrency: int | None = None
    """Probes in flight at once. None: 2048, lowered to what the open-files limit allows;
    a number that does not fit in the limit (after raising the soft one up to the hard
    one) is a ``UserError``."""
    rate: float | None = None
    """Packets sent per second at most, every SYN and datagram, retries included
    (None: no pacing). See ``pacing``."""
    two_ended: bool = False
    """Send marked probes that a ``flowmatrix listen`` at the destination answers."""
    radius_secret: bytes | None = None
    """Shared secret for the RADIUS Status-Server probe (None: RADIUS flows not probed)."""
    resolver: ResolverSpec | None = None
    """DNS server to resolve destination names with (None: this host's resolver)."""
    ca_file: str | None = None
    """PEM CA bundle to judge certificate chains with (None: the system store)."""
    check_tls: bool = True
    """Handshake with the TLS ports of the plan and judge their certificates."""

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, not {self.timeout}")
        if self.retries < 0:
            raise ValueError(f"retries cannot be negative ({self.retries})")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")
        if self.rate is not None and not self.rate > 0:
            raise ValueError(f"rate must be positive, not {self.rate}")


def service_of(target: ProbeTarget) -> str | None:
    return target.service or SERVICE_BY_PORT.get(target.port)


def _dns_notes(dns: DnsInfo | None) -> tuple[str, ...]:
    if dns is None:
        return ()
    if dns.error is not None:
        return (f"{dns.name} {dns.error}",)
    if dns.undocumented:
        return (
            _(
                "{name} resolves to {addresses}, outside the documented {documented} "
                "(information: documented lists age)"
            ).format(
                name=dns.name,
                addresses=", ".join(dns.undocumented),
                documented=", ".join(dns.documented),
            ),
        )
    return ()


def _result(
    target: ProbeTarget,
    address: str | None,
    dns: DnsInfo | None,
    outcome: Outcome,
    tls: TlsInfo | None = None,
    findings: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
) -> ProbeResult:
    return ProbeResult(
        flow=target.flow_id,
        requirement=target.requirement,
        required=target.required,
        source_role=target.source_role,
        source_host=target.source_host,
        source_address=target.source_address,
        destination_role=target.destination_role,
        destination_host=target.host,
        fqdn=target.server_name,
        address=address,
        port=target.port,
        protocol=target.protocol,
        service=service_of(target),
        state=outcome.state,
        reason=outcome.reason,
        latency_ms=outcome.latency_ms,
        attempts=outcome.attempts,
        tls=tls,
        dns=dns,
        reply=outcome.reply,
        findings=(*outcome.findings, *findings),
        two_ended=outcome.two_ended,
        notes=(*_dns_notes(dns), *notes),
    )


def _udp_request(target: ProbeTarget, options: ProbeOptions) -> UdpRequest | str:
    """The request to send, or the reason no probe can be sent."""
    from flowmatrix.probe.marker import marker_request

    service = service_of(target)
    hint = f"flowmatrix listen --as {target.destination_role}"
    if options.two_ended or service not in {"dns", "ntp", "radius"}:
        return marker_request(target.flow_id, options.timeout, hint)
    if service == "dns":
        from flowmatrix.probe.dnsquery import dns_request

        return dns_request(options.timeout)
    if service == "ntp":
        from flowmatrix.probe.ntp import ntp_request

        return ntp_request(options.timeout)
    if options.radius_secret is None:
        return _(
            "RADIUS answers only requests signed with the shared secret: give "
            "--radius-secret (or FLOWMATRIX_RADIUS_SECRET), or run '{command}' on the "
            "destination and verify with --two-ended"
        ).format(command=hint)
    from flowmatrix.probe.radius import radius_request

    return radius_request(options.timeout, options.radius_secret)


async def _resolve_names(
    targets: Sequence[ProbeTarget], options: ProbeOptions
) -> dict[str, DnsInfo]:
    documented: dict[str, list[str]] = {}
    for target in targets:
        if target.server_name:
            seen = documented.setdefault(target.server_name, [])
            seen.extend(a for a in target.documented if a not in seen)
    limit = asyncio.Semaphore(16)

    async def one(name: str) -> DnsInfo:
        async with limit:
            return await dns_info(name, documented[name], options.resolver, options.timeout)

    infos = await asyncio.gather(*(one(name) for name in documented))
    return {info.name: info for info in infos}


async def _udp_target(
    target: ProbeTarget,
    address: str,
    dns: DnsInfo | None,
    options: ProbeOptions,
    gate: PacketGate | None,
) -> ProbeResult:
    from flowmatrix.probe.udp import udp_probe

    request = _udp_request(target, options)
    if isinstance(request, str):
        return _result(target, address, dns, Outcome("not_probed", request, attempts=0))
    outcome = await udp_probe(
        address,
        target.port,
        request,
        timeout=options.timeout,
        retries=options.retries,
        source_address=target.source_address,
        gate=gate,
    )
    return _result(target, address, dns, outcome)


async def _two_ended(
    target: ProbeTarget,
    address: str,
    dns: DnsInfo | None,
    outcome: Outcome,
    sock: socket.socket,
    options: ProbeOptions,
    gate: PacketGate | None,
) -> ProbeResult:
    """Send the marker on the open connection; 'flowmatrix listen' answers it."""
    from flowmatrix.probe.marker import Marker

    with sock:
        marker = Marker.new(target.flow_id)
        if gate is not None:
            await gate.wait()
        answer = await exchange(sock, marker.probe(), options.timeout)
    if answer is not None and marker.is_ack(answer):
        acknowledged = replace(
            outcome,
            two_ended=True,
            reason=_(
                "two-ended: 'flowmatrix listen' "
                "at the destination received the connection and answered"
            ),
        )
        return _result(target, address, dns, acknowledged)
    return _result(
        target,
        address,
        dns,
        outcome,
        notes=(
            _("no two-ended acknowledgement: the port is open, but not by 'flowmatrix listen'"),
        ),
    )


async def _with_tls(
    target: ProbeTarget,
    address: str,
    dns: DnsInfo | None,
    outcome: Outcome,
    options: ProbeOptions,
    gate: PacketGate | None,
) -> ProbeResult:
    from flowmatrix.probe.tls import tls_check  # cryptography: only when a TLS port is open

    check = await tls_check(
        address,
        target.port,
        server_name=target.server_name,
        timeout=options.timeout,
        source_address=target.source_address,
        ca_file=options.ca_file,
        gate=gate,
    )
    return _result(target, address, dns, outcome, check.info, check.findings, check.notes)


async def probe_target(
    target: ProbeTarget, address: str, options: ProbeOptions, dns: DnsInfo | None = None
) -> ProbeResult:
    """Probe one target at ``address`` (its own, or the one its name resolved to)."""
    replaced = replace(target, address=address)
    names = {target.server_name: dns} if target.server_name and dns is not None else {}
    return (await _probe([replaced], options, None, names))[0]


@dataclass
class _Run:
    """One run of ``probe_all``: where results go, and the follow-ups still running."""

    targets: Sequence[ProbeTarget]
    options: ProbeOptions
    progress: ProbeProgress | None
    gate: PacketGate | None
    results: list[ProbeResult | None]
    resolved: dict[int, tuple[str, DnsInfo | None]] = field(default_factory=dict)
    follow_ups: set[asyncio.Task[None]] = field(default_factory=set)

    def deliver(self, index: int, result: ProbeResult) -> None:
        self.results[index] = result
        if self.progress is not None:
            self.progress.advance(result)

    def failed(self, index: int, exc: OSError) -> None:
        target = self.targets[index]
        address, dns = self.resolved[index]
        reason = _("probe failed: {error}").format(error=exc.strerror or exc)
        why = Outcome("error", reason, attempts=0)
        self.deliver(index, _result(target, address, dns, why))

    def follow_up(self, index: int, work: Coroutine[Any, Any, ProbeResult], scan: TcpScan) -> None:
        """Finish a TCP probe with more work (TLS, two-ended exchange), holding its slot."""
        scan.hold()

        async def run() -> None:
            try:
                self.deliver(index, await work)
            except OSError as exc:
                self.failed(index, exc)
            finally:
                scan.release()

        task = asyncio.get_running_loop().create_task(run())
        self.follow_ups.add(task)
        task.add_done_callback(self.follow_ups.discard)

    def scanned(self, scan: TcpScan) -> Callable[[int, Outcome, socket.socket | None], None]:
        def done(index: int, outcome: Outcome, sock: socket.socket | None) -> None:
            target = self.targets[index]
            address, dns = self.resolved[index]
            if sock is not None:
                work = _two_ended(target, address, dns, outcome, sock, self.options, self.gate)
                self.follow_up(index, work, scan)
            elif outcome.state == "open" and target.tls and self.options.check_tls:
                self.follow_up(
                    index, _with_tls(target, address, dns, outcome, self.options, self.gate), scan
                )
            else:
                self.deliver(index, _result(target, address, dns, outcome))

        return done

    async def datagrams(self, indexes: Sequence[int], workers: int) -> None:
        queue = iter(indexes)

        async def worker() -> None:
            for index in queue:
                target = self.targets[index]
                address, dns = self.resolved[index]
                try:
                    result = await _udp_target(target, address, dns, self.options, self.gate)
                except OSError as exc:
                    self.failed(index, exc)
                    continue
                self.deliver(index, result)

        await asyncio.gather(*(worker() for _ in range(min(workers, len(indexes)))))


async def _probe(
    targets: Sequence[ProbeTarget],
    options: ProbeOptions,
    progress: ProbeProgress | None,
    names: dict[str, DnsInfo],
) -> list[ProbeResult]:
    loop = asyncio.get_running_loop()
    gate = PacketGate(loop, options.rate) if options.rate else None
    run = _Run(targets, options, progress, gate, [None] * len(targets))
    if progress is not None:
        progress.start(len(targets))
    connects: list[tuple[int, TcpRequest]] = []
    datagrams: list[int] = []
    for index, target in enumerate(targets):
        dns = names.get(target.server_name) if target.server_name else None
        address = target.address
        if address is None:
            if dns is None or not dns.addresses:
                why = dns.error if dns is not None and dns.error else _("no address")
                unresolved = Outcome("unresolved", f"{target.server_name}: {why}", attempts=0)
                run.deliver(index, _result(target, None, dns, unresolved))
                continue
            address = dns.addresses[0]
        run.resolved[index] = (address, dns)
        if target.protocol == "tcp":
            connects.append(
                (index, TcpRequest(address, target.port, target.source_address, options.two_ended))
            )
        else:
            datagrams.append(index)
    shares = share_concurrency(options.concurrency, options.retries, len(connects), len(datagrams))
    scan = TcpScan(
        loop,
        timeout=options.timeout,
        retries=options.retries,
        concurrency=shares.connects,
        gate=gate,
        on_done=lambda *args: None,
    )
    scan.on_done = run.scanned(scan)
    try:
        if shares.together:
            await asyncio.gather(scan.run(connects), run.datagrams(datagrams, shares.datagrams))
        else:  # --concurrency 1: one kind at a time
            await scan.run(connects)
            await run.datagrams(datagrams, shares.datagrams)
        while run.follow_ups:
            await asyncio.gather(*run.follow_ups)
    finally:
        for task in run.follow_ups:
            task.cancel()
        if gate is not None:
            gate.close()
        if progress is not None:
            progress.finish()
    return [r for r in run.results if r is not None]


async def probe_all(
    targets: Sequence[ProbeTarget],
    options: ProbeOptions | None = None,
    progress: ProbeProgress | None = None,
) -> list[ProbeResult]:
    """Probe every target; results in the order of ``targets``.

    Raises ``UserError`` when the concurrency asked for cannot fit in the open-files
    limit (see ``limits.open_files_for``).
    """
    options = options or ProbeOptions()
    with same_namespace_resolution():
        names = await _resolve_names(targets, options)
    return await _probe(targets, options, progress, names)


def run_probes(
    targets: Sequence[ProbeTarget],
    options: ProbeOptions | None = None,
    progress: ProbeProgress | None = None,
) -> list[ProbeResult]:
    """Synchronous wrapper around :func:`probe_all` (runs its own event loop)."""
    return asyncio.run(probe_all(targets, options, progress))
