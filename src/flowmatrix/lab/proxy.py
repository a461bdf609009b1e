"""The site's web proxy in the lab: a real squid with the allow-list ``rules --target
squid`` writes, in the namespace of the proxy's zone, and the probes that go through it.

squid gets the generated configuration unchanged, followed by what the lab needs of it:
its files in the run's private directory, the names resolved through the dnsmasq of the
first firewall towards the Internet (so the firewalls see the answers, as in
production), and the proxy host's lab addresses as its outgoing addresses (the
firewalls' rules open the proxy host, not the zone).

A probe through the proxy connects from its source to the proxy, asks
``CONNECT name:port``, and, when the proxy answers 200, sends the two-ended marker
through the tunnel: it passes when the destination's listener answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import pwd
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass

from flowmatrix.i18n import _
from flowmatrix.lab.addressing import AddressPlan
from flowmatrix.lab.cases import Case
from flowmatrix.lab.daemons import Daemons
from flowmatrix.lab.namespaces import LabTopology
from flowmatrix.lab.naming import NameService, names_zone
from flowmatrix.model import Plan
from flowmatrix.probe.marker import Marker
from flowmatrix.probe.results import Outcome, ProbeResult, State

#: The users squid may drop root for, in order of preference.
SQUID_USERS = ("proxy", "nobody")
#: Seconds squid tries to reach a destination (its default is a minute).
CONNECT_TIMEOUT = 3


@dataclass(frozen=True)
class ProxySetup:
    """The squid of a run: where it listens, or why the lab has none."""

    address: str | None = None
    port: int | None = None
    problem: str | None = None


def squid_config(
    plan: Plan, directory: str, resolver: str, outgoing: Sequence[str], user: str
) -> str:
    """The generated allow-list, then the lab's directives (``user``: the one squid
    drops root for)."""
    from flowmatrix.rules import Scope, generate

    allow_list = generate(plan, Scope("proxy", "proxy"), "squid").text
    lab = [
        "",
        "# flowmatrix lab: files in the run's directory, names through the firewalls' dnsmasq",
        f"cache_effective_user {user}",
        f"pid_filename {directory}/squid.pid",
        f"cache_log {directory}/squid-cache.log",
        f"access_log stdio:{directory}/squid-access.log",
        f"coredump_dir {directory}",
        "hosts_file none",
        f"dns_nameservers {resolver}",
        *(f"tcp_outgoing_address {a}" for a in outgoing),
        f"connect_timeout {CONNECT_TIMEOUT} seconds",
        "pinger_enable off",
        "netdb_filename none",
        "visible_hostname flowmatrix-lab",
        "cache deny all",
        "cache_mem 0",
        "shutdown_lifetime 0 seconds",
    ]
    return allow_list + "\n".join(lab) + "\n"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def start_proxy(
    plan: Plan,
    lab: LabTopology,
    addresses: AddressPlan,
    names: NameService,
    daemons: Daemons,
    cases: Sequence[Case],
) -> ProxySetup:
    """Start squid in the proxy's zone when a case goes through it (the caller waits
    until it listens)."""
    via = next((c for c in cases if c.via is not None), None)
    if via is None or via.via is None:
        return ProxySetup()
    if shutil.which("squid") is None:
        return ProxySetup(problem=_("squid is not installed: the lab cannot run the web proxy"))
    proxy_flow = next(f for f in plan.flows if f.id == via.flow)
    zone = proxy_flow.destination.zone
    internet = names_zone(plan.site, addresses)
    resolver = None
    if internet is not None:
        resolver = names.resolver(plan.site.topology.graph, zone, internet)
    if resolver is None:
        return ProxySetup(
            problem=_("no dnsmasq of a firewall serves the proxy's zone {zone}").format(zone=zone)
        )
    outgoing = [a for _label, a in addresses.end_addresses(proxy_flow.destination)]
    user = next((u for u in SQUID_USERS if _user_exists(u)), "nobody")
    daemons.share_with(user)
    config = daemons.path("squid.conf")
    config.write_text(squid_config(plan, str(config.parent), resolver, outgoing, user), "utf-8")
    address, port = via.via
    daemons.start(
        "squid",
        lab.zones[zone],
        ["squid", "-N", "-f", str(config)],
        listens=("tcp", port),
        kill=True,
    )
    return ProxySetup(address, port)


def _result(case: Case, state: State, reason: str, started: float | None = None) -> ProbeResult:
    """The result of a probe through the proxy, as the probe engine words its own."""
    from flowmatrix.lab.traffic import probe_target
    from flowmatrix.probe.scheduler import _result as engine_result

    latency = None if started is None else (time.monotonic() - started) * 1000
    outcome = Outcome(state, reason, latency, two_ended=state == "open")
    return engine_result(probe_target(case), case.destination_address, None, outcome)


async def probe_through_proxy(case: Case, timeout: float) -> ProbeResult:
    """``CONNECT name:port`` through the case's proxy, then the marker through the tunnel."""
    assert case.via is not None and case.name is not None
    proxy, proxy_port = case.via
    shown = f"{proxy}:{proxy_port}"
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                proxy, proxy_port, local_addr=(case.source_address, 0)
            )
    except (OSError, TimeoutError) as exc:
        why = str(exc) or _("no answer within {timeout:g} s").format(timeout=timeout)
        return _result(
            case,
            "filtered",
            _("the proxy {proxy} does not answer: {reason}").format(proxy=shown, reason=why),
        )
    target = f"{case.name}:{case.port}"
    try:
        writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("ascii"))
        async with asyncio.timeout(timeout + CONNECT_TIMEOUT):
            status = (await reader.readline()).decode("latin-1").strip()
            while (await reader.readline()).strip():
                pass
        if status.split()[1:2] != ["200"]:
            return _result(
                case,
                "filtered",
                _("the proxy {proxy} refused CONNECT {target}: {status}").format(
                    proxy=shown, target=target, status=status
                ),
            )
        marker = Marker.new(case.id)
        writer.write(marker.probe())
        async with asyncio.timeout(timeout):
            answer = await reader.readline()
        if not marker.is_ack(answer):
            return _result(
                case,
                "filtered",
                _("the proxy {proxy} connected to {target}, no answer came back").format(
                    proxy=shown, target=target
                ),
            )
        return _result(
            case,
            "open",
            _(
                "through the proxy {proxy}: CONNECT {target} accepted, and the destination's "
                "listener answered"
            ).format(proxy=shown, target=target),
            started,
        )
    except (OSError, TimeoutError, UnicodeDecodeError) as exc:
        why = _("no answer") if isinstance(exc, TimeoutError) else str(exc)
        return _result(
            case,
            "filtered",
            _("the proxy {proxy}, CONNECT {target}: {reason}").format(
                proxy=shown, target=target, reason=why
            ),
        )
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
