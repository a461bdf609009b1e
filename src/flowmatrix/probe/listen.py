"""Temporary listeners on every port a role must receive: the far end of two-ended tests.

Before go-live the real servers are often not installed, so nothing answers and a
probe cannot tell a dropped packet from a missing service. ``listen`` stands in for
them: it binds the planned TCP and UDP ports, logs every connection and datagram with
the planned flow it matches, and answers the marked probes of ``verify`` so that UDP
flows (syslog, RADIUS, NTP) can be proven too. TCP connections are accepted, read for a
marker for a moment, and closed: nothing else is ever sent.

Size: the setup (which ports, for which flows), the session that binds them and the
report of what arrived describe one listener; the datagram answers need all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import errno
import functools
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from flowmatrix.documents import SiteRef
from flowmatrix.errors import UserError
from flowmatrix.evidence import STATUS_OF, Check
from flowmatrix.i18n import _, ngettext, pgettext
from flowmatrix.model import Flow, Plan
from flowmatrix.portset import PortSet
from flowmatrix.probe.local import IPAddress, is_local, local_addresses
from flowmatrix.probe.marker import find_probe
from flowmatrix.probe.targets import AUTO

WILDCARDS = ("0.0.0.0", "::")
#: How long a TCP connection is kept open waiting for a marker line.
MARKER_WAIT = 2.0


@dataclass(frozen=True, slots=True)
class ListenPort:
    protocol: str
    port: int
    flows: tuple[str, ...]
    """Ids of the planned flows that arrive on this port."""


@dataclass(frozen=True)
class ListenSetup:
    """What to listen on, for which role, and the flows expected."""

    label: str
    flows: tuple[Flow, ...]
    ports: tuple[ListenPort, ...]
    addresses: tuple[str, ...]
    """Addresses to bind: the role's local addresses, or the wildcards."""
    warnings: tuple[str, ...] = ()
    site: SiteRef | None = None
    """The site of the plan (the head of the JSON document)."""


@dataclass(frozen=True, slots=True)
class Binding:
    """One listener: bound, or why not."""

    protocol: str
    port: int
    address: str
    error: str | None = None
    optional: bool = False
    """A failure that does not count (IPv6 wildcard on a host without IPv6)."""

    @property
    def bound(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class ListenEvent:
    """A connection or a datagram that arrived."""

    time: float
    """Unix time."""
    protocol: str
    port: int
    local_address: str
    source_address: str
    source_port: int
    flows: tuple[str, ...]
    """Planned flows it matches (by marker, else by port and source address)."""
    marker: str | None = None
    """The flow id a marked probe of ``verify`` named."""
    answered: bool = False

    @property
    def planned(self) -> bool:
        return bool(self.flows)


@dataclass(frozen=True, slots=True)
class FlowArrival:
    """Did a planned flow arrive?"""

    flow: str
    requirement: str
    source_role: str
    protocol: str
    ports: PortSet
    listening: bool
    """At least one of its ports had a listener."""
    count: int
    sources: tuple[str, ...]
    arrived_ports: tuple[int, ...] = ()
    """The ports on which it arrived."""

    def checks(self) -> list[Check]:
        """What listening says on the scale of every check: each port it arrived on is
        proven; the others are not tested (nothing came: nobody may have sent it)."""
        arrived = _("arrived on {port} from {sources}")
        sources = ", ".join(self.sources)
        found = [
            Check(
                self.flow,
                port,
                STATUS_OF["listen"]["arrived"],
                "listen",
                arrived.format(port=port, sources=sources),
            )
            for port in self.arrived_ports
        ]
        if len(found) < len(self.ports):
            if found:
                detail = (
                    _("did not arrive on its other ports")
                    if self.listening
                    else _("did not arrive (no port listened on) on its other ports")
                )
            else:
                detail = (
                    _("did not arrive")
                    if self.listening
                    else _("did not arrive (no port listened on)")
                )
            found.append(Check(self.flow, None, STATUS_OF["listen"]["missing"], "listen", detail))
        return found

    @property
    def arrived(self) -> bool:
        return self.count > 0


@dataclass(frozen=True)
class ListenReport:
    label: str
    started: float
    duration: float
    bindings: tuple[Binding, ...]
    events: tuple[ListenEvent, ...]
    arrivals: tuple[FlowArrival, ...]
    warnings: tuple[str, ...] = ()
    site: SiteRef | None = None

    @property
    def missing(self) -> tuple[FlowArrival, ...]:
        return tuple(a for a in self.arrivals if not a.arrived)

    @property
    def failed_bindings(self) -> tuple[Binding, ...]:
        return tuple(b for b in self.bindings if not b.bound and not b.optional)


# --- set-up -------------------------------------------------------------------------------


def _single(text: str) -> str | None:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return str(net.network_address) if net.num_addresses == 1 else None


def _local_destinations(flow: Flow, here: tuple[IPAddress, ...], host: str | None) -> list[str]:
    found = []
    for ref in flow.destination.hosts:
        if host is not None and ref.name != host:
            continue
        for text in ref.addresses:
            single = _single(text)
            if single is not None and is_local(ipaddress.ip_address(single), here):
                found.append(single)
    return found


def build_listen_setup(
    plan: Plan,
    role: str = AUTO,
    bind: Sequence[str] = (),
    *,
    local: Sequence[IPAddress] | None = None,
) -> ListenSetup:
    """The listeners for ``role`` (a role id, a host name, or 'auto': this host's addresses)."""
    here = tuple(local) if local is not None else local_addresses()
    roles = {f.destination.role for f in plan.flows}
    hosts = {h.name for f in plan.flows for h in f.destination.hosts}
    host: str | None = None
    if role == AUTO:
        flows = [f for f in plan.flows if _local_destinations(f, here, None)]
        label = _("this host (matched by address)")
        if not flows:
            shown = ", ".join(str(a) for a in here if not a.is_loopback) or pgettext(
                "addresses", "none"
            )
            raise UserError(
                _("no address of this host is a destination in the plan"),
                hint=_("this host's addresses: {addresses}; choose one with --as ROLE|HOST").format(
                    addresses=shown
                ),
            )
    elif role in roles:
        flows = [f for f in plan.flows if f.destination.role == role]
        label = _("role {role}").format(role=role)
    elif role in hosts:
        host = role
        flows = [f for f in plan.flows if any(h.name == role for h in f.destination.hosts)]
        label = _("host {host}").format(host=role)
    else:
        close = difflib.get_close_matches(role, sorted(roles | hosts), n=3, cutoff=0.5)
        hint = (
            _("did you mean {choices}?").format(choices=_(" or ").join(repr(c) for c in close))
            if close
            else _("destinations: {names}").format(names=", ".join(sorted(roles | hosts)))
        )
        raise UserError(
            _("{name} is the destination of no flow in this plan").format(name=repr(role)),
            hint=hint,
        )
    ports: dict[tuple[str, int], list[str]] = {}
    for flow in flows:
        for port in flow.ports:
            ports.setdefault((flow.protocol, port), []).append(flow.id)
    listen_ports = tuple(
        ListenPort(protocol, port, tuple(ids)) for (protocol, port), ids in sorted(ports.items())
    )
    warnings: list[str] = []
    if bind:
        addresses = tuple(_checked_bind(a) for a in bind)
    else:
        found = [a for f in flows for a in _local_destinations(f, here, host)]
        addresses = tuple(dict.fromkeys(found)) or WILDCARDS
        if not found:
            warnings.append(
                _(
                    "none of the destination addresses in the plan is on this host: "
                    "listening on all addresses"
                )
            )
    return ListenSetup(
        label, tuple(flows), listen_ports, addresses, tuple(warnings), plan.site_ref()
    )


def _checked_bind(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise UserError(
            _("invalid --bind address {value}").format(value=repr(text)),
            hint=_("give an IPv4 or IPv6 address, e.g. 0.0.0.0 or ::"),
        ) from None


# --- binding ------------------------------------------------------------------------------


def _unprivileged_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return 1024


def bind_error(code: int, protocol: str, port: int, address: str) -> str:
    """What went wrong binding ``port`` and how to fix it."""
    where = _("{port}/{protocol} on {address}").format(
        port=port, protocol=protocol, address=address
    )
    if code == errno.EADDRINUSE:
        flag = "t" if protocol == "tcp" else "u"
        return _("{where}: already in use by another program (see which: {command})").format(
            where=where, command=f"ss -{flag}lnp 'sport = :{port}'"
        )
    if code in {errno.EACCES, errno.EPERM}:
        start = _unprivileged_start()
        return _(
            "{where}: ports below {start} need privilege: run as root, or grant "
            "CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep {python}), or lower it "
            "with sysctl -w net.ipv4.ip_unprivileged_port_start={port} (per network namespace)"
        ).format(where=where, start=start, python=os.path.realpath(sys.executable), port=port)
    if code == errno.EADDRNOTAVAIL:
        return _("{where}: {address} is not an address of this host").format(
            where=where, address=address
        )
    if code == errno.EAFNOSUPPORT:
        return _("{where}: this address family is not available here").format(where=where)
    return f"{where}: {os.strerror(code)}"


def open_socket(protocol: str, port: int, address: str) -> socket.socket:
    """A bound (and, for TCP, listening) non-blocking socket; raises OSError."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


# --- the session --------------------------------------------------------------------------


def _plain(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _from_source(flow: Flow, source: str) -> bool:
    arriving = flow.received()  # after the source NAT on the way, if any
    if arriving.any_address:
        return True
    ip = ipaddress.ip_address(source)
    for text in arriving.addresses:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        if net.version == ip.version and ip in net:
            return True
    return False


@dataclass
class ListenSession:
    """Listeners for one setup; ``run`` until the duration ends or ``stop`` is called."""

    setup: ListenSetup
    on_event: Callable[[ListenEvent], None] | None = None
    strict: bool = False
    events: list[ListenEvent] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _stop_requested: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stop(self) -> None:
        """Stop the session (safe from any thread and from a signal handler)."""
        with self._lock:
            self._stop_requested = True
            loop, event = self._loop, self._stop
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def _flows_for(self, protocol: str, port: int) -> dict[str, Flow]:
        by_id = {f.id: f for f in self.setup.flows}
        for spec in self.setup.ports:
            if spec.protocol == protocol and spec.port == port:
                return {i: by_id[i] for i in spec.flows}
        return {}

    def classify(
        self, protocol: str, port: int, source: str, data: bytes
    ) -> tuple[tuple[str, ...], str | None]:
        """The planned flows an arrival matches, and the flow id its marker names."""
        candidates = self._flows_for(protocol, port)
        marker = find_probe(data) if data else None
        if marker is not None and marker.flow in candidates:
            return (marker.flow,), marker.flow
        matched = tuple(i for i, f in candidates.items() if _from_source(f, source))
        return matched, marker.flow if marker is not None else None

    def record(self, event: ListenEvent) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def bind_all(self) -> tuple[list[Binding], list[socket.socket]]:
        bindings: list[Binding] = []
        sockets: list[socket.socket] = []
        for spec in self.setup.ports:
            for address in self.setup.addresses:
                try:
                    sockets.append(open_socket(spec.protocol, spec.port, address))
                    bindings.append(Binding(spec.protocol, spec.port, address))
                except OSError as exc:
                    code = exc.errno or errno.EIO
                    optional = address == "::" and code in {errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL}
                    bindings.append(
                        Binding(
                            spec.protocol,
                            spec.port,
                            address,
                            bind_error(code, spec.protocol, spec.port, address),
                            optional,
                        )
                    )
        failed = [b for b in bindings if not b.bound and not b.optional]
        if (self.strict and failed) or not any(b.bound for b in bindings):
            for sock in sockets:
                sock.close()
            first = failed[0].error if failed else _("nothing to listen on")
            others = len(failed) - 1
            if others > 0:
                message = ngettext(
                    "cannot listen: {error} (and {n} more)",
                    "cannot listen: {error} (and {n} more)",
                    others,
                ).format(error=first, n=others)
            else:
                message = _("cannot listen: {error}").format(error=first)
            raise UserError(message, hint=None if self.strict else _("no port could be bound"))
        return bindings, sockets

    async def run(
        self,
        duration: float | None,
        ready: Callable[[Sequence[Binding]], None] | None = None,
    ) -> ListenReport:
        """Listen for ``duration`` seconds (None: until ``stop``), then report."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        with self._lock:
            self._loop, self._stop = loop, stop
            if self._stop_requested:
                stop.set()
        bindings, sockets = self.bind_all()
        servers: list[asyncio.Server] = []
        transports: list[asyncio.BaseTransport] = []  # closed on the way out
        handlers = self._install_signals(loop)
        started = time.time()
        try:
            for sock in sockets:
                address, port = sock.getsockname()[:2]
                if sock.type == socket.SOCK_STREAM:
                    servers.append(
                        await asyncio.start_server(self._tcp_handler(address, port), sock=sock)
                    )
                else:
                    transport, _protocol = await loop.create_datagram_endpoint(
                        functools.partial(_Datagrams, self, address, port), sock=sock
                    )
                    transports.append(transport)
            if ready is not None:
                ready(bindings)
            try:
                async with asyncio.timeout(duration):
                    await stop.wait()
            except TimeoutError:
                pass
        finally:
            for server in servers:
                server.close()
            for endpoint in transports:
                endpoint.close()
            for server in servers:
                await server.wait_closed()
            self._remove_signals(loop, handlers)
            with self._lock:
                self._loop = self._stop = None
        return self._report(bindings, started, time.time() - started)

    def _tcp_handler(
        self, local: str, port: int
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peer = writer.get_extra_info("peername") or ("?", 0)
            source = _plain(peer[0])
            data = b""
            try:
                async with asyncio.timeout(MARKER_WAIT):
                    data = await reader.read(512)
            except (TimeoutError, OSError):
                pass
            flows, marker = self.classify("tcp", port, source, data)
            answered = False
            if marker is not None and flows == (marker,):
                probe = find_probe(data)
                if probe is not None:
                    try:
                        writer.write(probe.ack())
                        await writer.drain()
                        answered = True
                    except OSError:
                        pass
            self.record(
                ListenEvent(
                    time.time(),
                    "tcp",
                    port,
                    _plain(local),
                    source,
                    peer[1],
                    flows,
                    marker,
                    answered,
                )
            )
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

        return handle

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> list[signal.Signals]:
        if threading.current_thread() is not threading.main_thread():
            return []
        installed: list[signal.Signals] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self.stop)
                installed.append(signum)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
        return installed

    @staticmethod
    def _remove_signals(loop: asyncio.AbstractEventLoop, installed: list[signal.Signals]) -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)

    def _report(self, bindings: list[Binding], started: float, duration: float) -> ListenReport:
        bound = {(b.protocol, b.port) for b in bindings if b.bound}
        arrivals = []
        for flow in self.setup.flows:
            seen = [e for e in self.events if flow.id in e.flows]
            arrivals.append(
                FlowArrival(
                    flow=flow.id,
                    requirement=flow.requirement,
                    source_role=flow.source.role,
                    protocol=flow.protocol,
                    ports=flow.ports,
                    listening=any((flow.protocol, p) in bound for p in flow.ports),
                    count=len(seen),
                    sources=tuple(dict.fromkeys(e.source_address for e in seen)),
                    arrived_ports=tuple(sorted({e.port for e in seen})),
                )
            )
        return ListenReport(
            self.setup.label,
            started,
            duration,
            tuple(bindings),
            tuple(self.events),
            tuple(arrivals),
            self.setup.warnings,
            self.setup.site,
        )


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, session: ListenSession, local: str, port: int) -> None:
        self.session = session
        self.local = local
        self.port = port
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector transport does not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        source = _plain(str(addr[0]))
        flows, marker = self.session.classify("udp", self.port, source, data)
        answered = False
        if marker is not None and flows == (marker,) and self.transport is not None:
            probe = find_probe(data)
            if probe is not None:
                self.transport.sendto(probe.ack(), addr)
                answered = True
        self.session.record(
            ListenEvent(
                time.time(),
                "udp",
                self.port,
                _plain(self.local),
                source,
                int(addr[1]),
                flows,
                marker,
                answered,
            )
        )
