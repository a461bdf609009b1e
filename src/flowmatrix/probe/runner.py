"""Run probe targets concurrently on one event loop, bounded and paced.

Progress is reported through a small protocol (``ProbeProgress``) so that the runner
knows nothing of terminals: the CLI shows a progress bar on a TTY and nothing when
piped; tests pass a list collector.
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from flowmatrix.probe.marker import Marker, marker_request
from flowmatrix.probe.resolve import ResolverSpec, dns_info, same_namespace_resolution
from flowmatrix.probe.results import DnsInfo, Outcome, ProbeResult, TlsInfo
from flowmatrix.probe.targets import ProbeTarget
from flowmatrix.probe.tcp import exchange, shared_dispatcher, tcp_probe
from flowmatrix.probe.tls import tls_check
from flowmatrix.probe.udp import UdpRequest, udp_probe

#: Services recognised by port when the plan does not name one.
SERVICE_BY_PORT = {53: "dns", 123: "ntp", 514: "syslog", 1645: "radius", 1812: "radius"}
_FD_RESERVE = 64


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
    concurrency: int = 2048
    """Probes in flight at once (lowered to what the open-files limit allows)."""
    rate: float | None = None
    """Probes started per second at most (None: no pacing)."""
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
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")
        if self.rate is not None and not self.rate > 0:
            raise ValueError(f"rate must be positive, not {self.rate}")


def fd_budget(concurrency: int, per_probe: int) -> int:
    """Raise the open-files soft limit as far as needed (up to the hard limit); return the
    concurrency that fits in it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = concurrency * per_probe + _FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return concurrency
    return max(1, min(concurrency, (soft - _FD_RESERVE) // per_probe))


class _Pacer:
    """Spaces probe starts to at most ``rate`` per second."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self.next)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def service_of(target: ProbeTarget) -> str | None:
    return target.service or SERVICE_BY_PORT.get(target.port)


def _dns_notes(dns: DnsInfo | None) -> tuple[str, ...]:
    if dns is None:
        return ()
    if dns.error is not None:
        return (f"{dns.name} {dns.error}",)
    if dns.undocumented:
        return (
            f"{dns.name} resolves to {', '.join(dns.undocumented)}, outside the documented "
            f"{', '.join(dns.documented)} (information: documented lists age)",
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
        return (
            "RADIUS answers only requests signed with the shared secret: give "
            f"--radius-secret (or FLOWMATRIX_RADIUS_SECRET), or run '{hint}' on the "
            "destination and verify with --two-ended"
        )
    from flowmatrix.probe.radius import radius_request

    return radius_request(options.timeout, options.radius_secret)


async def _tcp(
    target: ProbeTarget, address: str, dns: DnsInfo | None, options: ProbeOptions
) -> ProbeResult:
    outcome, sock = await tcp_probe(
        address,
        target.port,
        timeout=options.timeout,
        retries=options.retries,
        source_address=target.source_address,
        keep_open=options.two_ended,
    )
    if sock is not None:
        with sock:
            marker = Marker.new(target.flow_id)
            answer = await exchange(sock, marker.probe(), options.timeout)
        if answer is not None and marker.is_ack(answer):
            outcome = replace(
                outcome,
                two_ended=True,
                reason="two-ended: 'flowmatrix listen' "
                "at the destination received the connection and answered",
            )
            return _result(target, address, dns, outcome)
        return _result(
            target,
            address,
            dns,
            outcome,
            notes=(
                "no two-ended acknowledgement: the port is open, but not by 'flowmatrix listen'",
            ),
        )
    if outcome.state == "open" and target.tls and options.check_tls:
        check = await tls_check(
            address,
            target.port,
            server_name=target.server_name,
            timeout=options.timeout,
            source_address=target.source_address,
            ca_file=options.ca_file,
        )
        return _result(target, address, dns, outcome, check.info, check.findings, check.notes)
    return _result(target, address, dns, outcome)


async def probe_target(
    target: ProbeTarget, address: str, options: ProbeOptions, dns: DnsInfo | None = None
) -> ProbeResult:
    """Probe one target at ``address`` (its own, or the one its name resolved to)."""
    if target.protocol == "tcp":
        return await _tcp(target, address, dns, options)
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
    )
    return _result(target, address, dns, outcome)


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


async def probe_all(
    targets: Sequence[ProbeTarget],
    options: ProbeOptions | None = None,
    progress: ProbeProgress | None = None,
) -> list[ProbeResult]:
    """Probe every target; results in the order of ``targets``."""
    options = options or ProbeOptions()
    with same_namespace_resolution():
        names = await _resolve_names(targets, options)
    # a probe holds at most one socket per attempt (TLS comes after they are closed)
    concurrency = fd_budget(options.concurrency, options.retries + 1)
    pacer = _Pacer(options.rate)
    results: list[ProbeResult | None] = [None] * len(targets)
    queue = iter(enumerate(targets))
    if progress is not None:
        progress.start(len(targets))

    async def one(target: ProbeTarget) -> ProbeResult:
        dns = names.get(target.server_name) if target.server_name else None
        address = target.address
        if address is None:
            if dns is None or not dns.addresses:
                why = dns.error if dns is not None and dns.error else "no address"
                return _result(
                    target,
                    None,
                    dns,
                    Outcome("unresolved", f"{target.server_name}: {why}", attempts=0),
                )
            address = dns.addresses[0]
        await pacer.wait()
        try:
            return await probe_target(target, address, options, dns)
        except OSError as exc:
            return _result(
                target,
                address,
                dns,
                Outcome("error", f"probe failed: {exc.strerror or exc}", attempts=0),
            )

    async def worker() -> None:
        # a fixed pool of workers bounds the concurrency (cheaper than a semaphore
        # with thousands of waiters)
        for index, target in queue:
            result = await one(target)
            results[index] = result
            if progress is not None:
                progress.advance(result)

    try:
        with shared_dispatcher():
            await asyncio.gather(*(worker() for _ in range(min(concurrency, len(targets)))))
    finally:
        if progress is not None:
            progress.finish()
    return [r for r in results if r is not None]


def run_probes(
    targets: Sequence[ProbeTarget],
    options: ProbeOptions | None = None,
    progress: ProbeProgress | None = None,
) -> list[ProbeResult]:
    """Synchronous wrapper around :func:`probe_all` (runs its own event loop)."""
    return asyncio.run(probe_all(targets, options, progress))
